"""The speed levers of issue 39, each side by side with tenc's default in one run, at equal dev.

Training (minilm-l6, ``--pairs`` pool pairs, the bi-encoder's cosines as targets, one epoch, seed 0):

* ``default``  — tenc's loop as it runs: SDPA attention, fp32, fused AdamW, length-bucketed batches;
* ``eager``    — the same with transformers' eager attention instead of SDPA;
* ``bf16``     — the forward passes under bf16 autocast (``--set amp=bf16``);
* ``compile``  — the backbone under ``torch.compile`` (dynamic shapes; its compile time counted).

Labelling (``--label-pairs`` pool pairs; bi cosines over unique sentences, cross logits one order):

* tenc fp32 (``encode.pair_cosines`` / ``cross_logits``), tenc under bf16 autocast, tenc with the backbones
  under ``torch.compile`` (dynamic shapes, compile time counted), and sentence-transformers' ``encode`` /
  ``predict`` (batch 32) — pairs/s, and the Spearman x 100 of each
  side's labels with tenc's fp32 labels (the issue's bar for "exact": >= 99.9).

Every side runs in its own process with ``--threads`` threads and the MKL shim preloaded on AMD CPUs (what
``python -m tenc`` runs with), the sides alternating ``--repeats`` times; medians. Each training row gives
the STS-B dev Spearman the trained student reaches (equal examples), so a faster side that loses dev shows.

    python benchmarks/levers.py --pairs 1024 --label-pairs 4000 --repeats 2 --csv results/levers.csv  # ~12 min; alone
    python benchmarks/levers.py --pairs 64 --label-pairs 64 --repeats 1                              # smoke
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

TRAIN_SIDES = ("default", "eager", "bf16", "compile")
LABEL_SIDES = ("tenc fp32", "tenc bf16", "tenc compiled", "sentence-transformers")


def _pool(n: int):
    from tenc import data

    pairs = data.load_sts(None)
    pool = data.build_pool(pairs, seed=0).pairs.head(n)
    return pool["sentence1"].tolist(), pool["sentence2"].tolist(), data.dev_set(pairs)


def _dev(model, kind: str, dev) -> float:
    from scipy.stats import spearmanr

    from tenc import encode

    s1, s2 = dev["sentence1"].tolist(), dev["sentence2"].tolist()
    if kind == "bi":
        pred = encode.pair_cosines(model, s1, s2, max_length=32)
    else:
        pred = encode.cross_logits(model, s1, s2, max_length=64)
    return float(100 * spearmanr(pred, dev["score"]).statistic)


def _attention(backbone, side: str):
    if side == "eager":
        backbone.set_attn_implementation("eager")
    if side == "compile":
        import torch

        return torch.compile(backbone, dynamic=True)
    return backbone


def train_child(side: str, pairs: int) -> dict:
    from tenc import encode, models, train

    s1, s2, dev = _pool(pairs)
    bi = models.bi_encoder("minilm-l6", max_seq_length=32)
    y = encode.pair_cosines(bi, s1, s2, max_length=32).clip(0, 1)
    amp = "bf16" if side == "bf16" else ""
    out = {}
    ce = models.cross_encoder("minilm-l6", max_length=64, seed=0)
    ce.model = _attention(ce.model, side)
    stats = train.train_cross(ce, s1, s2, y, epochs=1, batch_size=32, progress=False, amp=amp, seed=0)
    out["train cross"] = {"seconds": stats.seconds, "dev": _dev(ce, "cross", dev)}
    bi = models.bi_encoder("minilm-l6", max_seq_length=32)
    bi[0].auto_model = _attention(bi[0].auto_model, side)
    stats = train.train_bi(bi, s1, s2, y, epochs=1, batch_size=128, progress=False, amp=amp, seed=0)
    out["train bi"] = {"seconds": stats.seconds, "dev": _dev(bi, "bi", dev)}
    return out


def label_child(side: str, pairs: int) -> dict:
    import contextlib

    import numpy as np
    import torch

    from tenc import encode, models

    s1, s2, _ = _pool(pairs)
    bi = models.bi_encoder("minilm-l6", max_seq_length=32)
    ce = models.cross_encoder("minilm-l6", max_length=64, seed=0)
    if side == "tenc compiled":
        bi[0].auto_model = torch.compile(bi[0].auto_model, dynamic=True)
        ce[0].auto_model = torch.compile(ce[0].auto_model, dynamic=True)
    cast = torch.autocast("cpu", dtype=torch.bfloat16) if side == "tenc bf16" else contextlib.nullcontext()
    out = {}
    with cast:
        t = time.perf_counter()
        if side == "sentence-transformers":
            a = bi.encode(s1, batch_size=32, convert_to_tensor=True, normalize_embeddings=True)
            b = bi.encode(s2, batch_size=32, convert_to_tensor=True, normalize_embeddings=True)
            cos = (a * b).sum(-1).float().numpy()
        else:
            cos = encode.pair_cosines(bi, s1, s2, max_length=32)
        out["label bi"] = {"seconds": time.perf_counter() - t, "labels": np.asarray(cos, dtype=float).tolist()}
        t = time.perf_counter()
        if side == "sentence-transformers":
            lg = ce.predict(
                list(zip(s1, s2)), batch_size=32, activation_fn=torch.nn.Identity(), show_progress_bar=False
            )
        else:
            lg = encode.cross_logits(ce, s1, s2, max_length=64)
        out["label cross"] = {"seconds": time.perf_counter() - t, "labels": np.asarray(lg, dtype=float).tolist()}
    return out


def _spawn(mode: str, side: str, n: int, threads: int, shim: str | None) -> dict:
    env = dict(os.environ, HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false", TENC_HEARTBEAT="0")
    env.update(OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    if shim:
        env["LD_PRELOAD"] = shim
    argv = [sys.executable, __file__, "--child", mode, "--side", side, "--n", str(n), "--threads", str(threads)]
    done = subprocess.run(argv, env=env, capture_output=True, text=True)
    if done.returncode:
        sys.exit(f"{mode} {side} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.split("RESULT ", 1)[1])


def main() -> None:
    from peak import append_csv, cpu, recorded_peak, shim_library

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pairs", type=int, default=1024, help="training pairs")
    ap.add_argument("--label-pairs", type=int, default=4000)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--sides", default=",".join(TRAIN_SIDES), help="training sides to run ('' for none)")
    ap.add_argument("--csv", help="append the rows here (e.g. results/levers.csv)")
    ap.add_argument("--child", choices=("train", "label"), help=argparse.SUPPRESS)
    ap.add_argument("--side", help=argparse.SUPPRESS)
    ap.add_argument("--n", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        import torch

        torch.set_num_threads(args.threads)
        fn = train_child if args.child == "train" else label_child
        print("RESULT", json.dumps(fn(args.side, args.n)), flush=True)
        return
    name, flags = cpu()
    from tenc.cpu import vendor

    shim = shim_library() if vendor() == "AuthenticAMD" else None
    sides = [s.strip() for s in args.sides.split(",") if s.strip()]
    runs: dict[tuple[str, str], list[dict]] = {}
    for _ in range(args.repeats):
        for side in sides:
            for stage, r in _spawn("train", side, args.pairs, args.threads, shim).items():
                runs.setdefault((stage, side), []).append(r)
        if args.label_pairs:
            for side in LABEL_SIDES:
                for stage, r in _spawn("label", side, args.label_pairs, args.threads, shim).items():
                    runs.setdefault((stage, side), []).append(r)
    from scipy.stats import spearmanr

    peak = recorded_peak(str(ROOT / "results" / "peak.csv"))
    print(
        f"CPU: {name} [{flags}]; {args.threads} threads, gemm path: {'mkl + shim' if shim else 'default'}; "
        f"medians of {args.repeats}; training {args.pairs} pairs, labelling {args.label_pairs}"
    )
    rows = []
    for stage in dict.fromkeys(s for s, _ in runs):
        base_side = "default" if stage.startswith("train") else "tenc fp32"
        base = statistics.median(r["seconds"] for r in runs[(stage, base_side)])
        ref = runs[(stage, base_side)][0].get("labels")
        for (st, side), rs in runs.items():
            if st != stage:
                continue
            sec = statistics.median(r["seconds"] for r in rs)
            row = {"cpu": name, "flags": flags, "threads": args.threads, "stage": stage, "side": side}
            row.update({"pairs": args.pairs if stage.startswith("train") else args.label_pairs})
            row.update({"seconds": round(sec, 2), "speed_vs_tenc_default": round(base / sec, 2)})
            row["dev"] = round(statistics.median(r["dev"] for r in rs), 2) if "dev" in rs[0] else None
            row["spearman_vs_fp32"] = (
                round(100 * spearmanr(rs[0]["labels"], ref).statistic, 3) if ref is not None else None
            )
            row["peak_gflops"] = peak
            rows.append(row)
            extra = f"dev {row['dev']:.2f}" if row["dev"] is not None else f"labels vs fp32 {row['spearman_vs_fp32']}"
            print(f"{stage:12s} {side:22s} {sec:8.2f} s  {base / sec:5.2f}x tenc's default  {extra}")
    if args.csv:
        append_csv(args.csv, rows)


if __name__ == "__main__":
    main()
