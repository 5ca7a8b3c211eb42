"""Faster labelling and evaluation passes: dynamic int8 against fp32, speed and label fidelity side by side.

For a bi-encoder (pair cosines; minilm-l6) and a trained cross-encoder (logits; ``--cross``), on
``--pairs`` pool pairs:

* ``fp32`` — tenc's own passes (`tenc.encode.pair_cosines` / `cross_logits`);
* ``int8`` — the same passes after ``torch.ao.quantization.quantize_dynamic`` of every ``nn.Linear``
  (int8 weights, activations quantised per batch; fbgemm's AVX2 kernels here, this CPU has no VNNI).

Each row: pairs/s (median of ``--repeats``), the speed ratio to fp32, the Spearman x 100 of the int8
labels with the fp32 labels on the pool (the adoption rule: >= 99.9), and with ``--evaluate`` the
7-task average of each side (the rule: within 0.1). Not yet measured: ONNX Runtime (a traced export
of transformers 5's BertModel here does not match its eager outputs; see docs/performance.md).

    python benchmarks/fast_label.py --pairs 2000 --repeats 3 --evaluate --cross RUN/best/cross   # ~15 min here
    python benchmarks/fast_label.py --pairs 64                              # smoke

Writes ``results/fast_label.csv``.
"""

from __future__ import annotations

import argparse
import copy
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from scipy.stats import spearmanr

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tenc import data, encode, evaluation, models  # noqa: E402


def int8(model):
    """A dynamically quantised copy: every nn.Linear with int8 weights."""
    return torch.ao.quantization.quantize_dynamic(copy.deepcopy(model), {torch.nn.Linear}, dtype=torch.qint8)


def timed(fn, repeats: int):
    times, out = [], None
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--pairs", type=int, default=2000)
    p.add_argument("--repeats", type=int, default=1)
    p.add_argument("--model", default="minilm-l6", help="the bi-encoder")
    p.add_argument("--cross", default="", help="a trained cross-encoder folder (e.g. RUN/best/cross); default: --model "
                   "with a new head, whose near-constant logits make the fidelity figure meaningless")
    p.add_argument("--evaluate", action="store_true", help="also the 7-task average of each side")
    p.add_argument("--out", default=str(ROOT / "results" / "fast_label.csv"))
    args = p.parse_args()
    torch.set_num_threads(2)
    sts = data.load_sts()
    pool = data.build_pool(sts, seed=0).pairs.sample(frac=1.0, random_state=0).reset_index(drop=True).head(args.pairs)
    s1, s2 = pool["sentence1"].tolist(), pool["sentence2"].tolist()
    rows = []
    for kind in ("bi", "cross"):
        if kind == "bi":
            fp32 = models.bi_encoder(args.model, max_seq_length=32)
            run = lambda m: encode.pair_cosines(m, s1, s2, max_length=32)  # noqa: E731
        else:
            fp32 = models.cross_encoder(args.cross or args.model, max_length=64)
            run = lambda m: encode.cross_logits(m, s1, s2, max_length=64)  # noqa: E731
        fast = int8(fp32)
        t32, ref = timed(lambda: run(fp32), args.repeats)
        t8, got = timed(lambda: run(fast), args.repeats)
        row = {"model": args.model if kind == "bi" else (args.cross or args.model), "kind": kind, "pairs": len(s1), "fp32_pairs_per_s": len(s1) / t32,
               "int8_pairs_per_s": len(s1) / t8, "ratio": t32 / t8,
               "label_spearman": 100 * spearmanr(ref, got).statistic, "max_abs_diff": float(np.abs(ref - got).max())}
        if args.evaluate:
            for side, m in (("fp32", fp32), ("int8", fast)):
                row[f"{side}_avg"] = evaluation.paper_row(evaluation.evaluate([m], kind, sts)[0])["avg"]
        rows.append(row)
        print({k: round(v, 4) if isinstance(v, float) else v for k, v in row.items()}, flush=True)
    df = pd.DataFrame(rows)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(args.out, index=False, float_format="%.4g")
    print(df.round(3).to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
