"""STS-B dev Spearman of a bi-encoder cut to its first k transformer layers, k = 1..N (no training).

    python tools/layer_scan.py --model rampart --pooling mean      # ~2 min here; writes results/layer_scan.csv

A model fine-tuned for another task (rampart: PII tagging) keeps its general-purpose features in the
lower layers; this shows where to cut before priming (`tenc prime --set layers=k`).
"""

import argparse
import sys
from pathlib import Path

import pandas as pd
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tenc import data, evaluation, models  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="rampart")
    ap.add_argument("--pooling", default="mean", choices=["cls", "mean"])
    ap.add_argument("--data", default=None)
    ap.add_argument("--out", default=str(ROOT / "results" / "layer_scan.csv"))
    args = ap.parse_args()
    torch.set_num_threads(2)
    pairs = data.load_sts(args.data)
    n = len(models.bi_encoder(args.model)[0].auto_model.encoder.layer)
    rows = []
    for k in range(1, n + 1):
        m = models.bi_encoder(args.model, pooling=args.pooling, max_seq_length=32, layers=k)
        rows.append(
            {
                "model": args.model,
                "pooling": args.pooling,
                "layers": k,
                "stsb_dev": round(evaluation.dev_spearman([m], "bi", pairs), 2),
            }
        )
        print(rows[-1], flush=True)
    df = pd.DataFrame(rows)
    old = pd.read_csv(args.out) if Path(args.out).is_file() else pd.DataFrame(columns=df.columns)
    old = old[~((old["model"] == args.model) & (old["pooling"] == args.pooling))]
    pd.concat([old, df], ignore_index=True).to_csv(args.out, index=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
