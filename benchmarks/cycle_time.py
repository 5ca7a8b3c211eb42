"""Where one full-pool cycle's time goes, and the least it could take on this CPU.

Reads a finished cycle's stage markers (``<run>/cycle_<k>/*.done.json``), counts the tokens each stage
pushes through the model (training: the stage's own count; labelling: the pool tokenized as the stage
does it - each unique sentence once for the bi-encoder, both orders for the cross-encoder) and turns
them into FLOPs (2 x non-embedding parameters per token forward, x3 with backward). Dividing by an fp32
matmul peak gives a floor for the cycle: the time it would take if every FLOP ran at that peak.

    python benchmarks/cycle_time.py --run runs/paper-minilm-l6 --csv results/cycle_time.csv

The peak is this CPU's best fp32 two-thread GEMM rate in ``results/peak.csv`` (``benchmarks/peak.py``,
matched by CPU model and flags); ``--peak GFLOP/S`` overrides it; a CPU with no row there gets a quick
measurement now, which says so (one 1024 x 1024 loop: an underestimate, more so on a busy machine).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from peak import recorded_peak  # noqa: E402
from run import matmul_peak, non_embedding_params  # noqa: E402

from tenc.runfolder import read_pool  # noqa: E402

STAGES = ("label_bi", "train_cross", "eval_cross", "label_cross", "train_bi", "eval_bi")


def sig(x: float, digits: int = 4) -> float:
    """Round to significant digits, not decimals: a tiny model's rate must not print as 0.0."""
    return float(f"{x:.{digits}g}")


def backbone(folder: Path):
    from transformers import AutoModel
    from transformers.utils import logging

    logging.set_verbosity_error()  # a cross-encoder folder loads without its classifier head: expected
    return AutoModel.from_pretrained(str(folder))


def labelling_tokens(folder: Path, pool: pd.DataFrame, cfg: dict) -> dict[str, int]:
    """Real (unpadded) tokens of bi labelling (unique sentences) and cross labelling (both orders)."""
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(folder))
    unique = sorted(set(pool["sentence1"]) | set(pool["sentence2"]))
    bi = sum(len(ids) for ids in tok(unique, truncation=True, max_length=cfg["bi_max_length"])["input_ids"])
    pairs = tok(list(pool["sentence1"]), list(pool["sentence2"]), truncation=True, max_length=cfg["cross_max_length"])
    cross = sum(len(ids) for ids in pairs["input_ids"]) * (2 if cfg.get("label_both_orders", True) else 1)
    return {"label_bi": bi, "label_cross": cross}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--run", required=True, help="a run folder with a finished cycle")
    ap.add_argument("--cycle", type=int, default=1)
    ap.add_argument("--peak", type=float, default=0.0, help="fp32 GFLOP/s to bound with (default: --peak-csv's)")
    ap.add_argument("--peak-csv", default="results/peak.csv", help="benchmarks/peak.py's rows; this CPU's is used")
    ap.add_argument("--csv", default="", help="append one row per stage here (rows of this run replaced)")
    args = ap.parse_args()

    run, cycle_dir = Path(args.run), Path(args.run) / f"cycle_{args.cycle}"
    markers = {s: cycle_dir / f"{s}.done.json" for s in STAGES}
    missing = [s for s, p in markers.items() if not p.is_file()]
    if missing:
        sys.exit(f"{cycle_dir}: stages not finished: {', '.join(missing)}")
    cfg = json.loads((run / "config.json").read_text())
    peak = args.peak or recorded_peak(args.peak_csv)
    if not peak:
        peak = matmul_peak()
        print(
            f"fp32 matmul peak measured now: {peak:.1f} GFLOP/s (no row for this CPU in {args.peak_csv}: "
            "run benchmarks/peak.py alone for the real figure; a busy machine measures less)"
        )
    params = {kind: non_embedding_params(backbone(cycle_dir / kind)) for kind in ("bi", "cross")}
    label_tokens = labelling_tokens(cycle_dir / "cross", read_pool(run), cfg)

    rows = []
    for stage, path in markers.items():
        doc = json.loads(path.read_text())
        kind = stage.split("_")[1]
        if stage.startswith("train"):
            seconds, tokens, passes = doc["train"]["seconds"], doc["train"]["tokens_processed"], 3
        elif stage.startswith("label"):
            seconds, tokens, passes = doc["seconds"], label_tokens[stage], 1
        else:  # evaluation: not part of the cycle's work, timed only
            seconds, tokens, passes = doc["seconds"], 0, 1
        flop = 2 * passes * params[kind] * tokens
        timed = tokens and seconds > 0  # a tiny stage on an idle machine can record 0.0 s: no rate then
        rows.append(
            {
                "run": str(run),
                "cycle": args.cycle,
                "stage": stage,
                "seconds": round(seconds, 1),
                "tokens": tokens,
                "tokens_per_second": sig(tokens / seconds) if timed else None,
                "gflop": sig(flop / 1e9),
                "gflop_per_second": sig(flop / seconds / 1e9) if timed else None,
                "floor_seconds": sig(flop / (peak * 1e9)) if tokens else None,
                "resumed": bool(doc.get("train", {}).get("resumed_from_step")),
            }
        )
    table = pd.DataFrame(rows)
    work = table[table["tokens"] > 0]
    print(table.drop(columns=["run", "cycle"]).to_string(index=False))
    print(
        f"non-embedding parameters: bi {params['bi'] / 1e6:.1f}M, cross {params['cross'] / 1e6:.1f}M; "
        f"peak {peak:.1f} GFLOP/s"
    )
    print(
        f"cycle work (labelling + training): {work['seconds'].sum() / 60:.1f} min measured, "
        f"{work['floor_seconds'].sum() / 60:.1f} min at the peak; with evaluation {table['seconds'].sum() / 60:.1f} min"
    )
    if args.csv:
        path = Path(args.csv)
        old = pd.read_csv(path) if path.is_file() else pd.DataFrame()
        if len(old):
            old = old[~((old["run"] == str(run)) & (old["cycle"] == args.cycle))]
        pd.concat([old, table]).to_csv(path, index=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
