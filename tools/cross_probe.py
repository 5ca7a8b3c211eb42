"""How well a fresh cross-encoder learns a run's bi pseudo-labels: STS-B dev Spearman per (layers, lr).

    python tools/cross_probe.py --run runs/paper-rampart-l2 --init rampart --pairs 4000 \
        --grid 2:2e-5 2:1e-4 2:3e-4 6:2e-5 6:1e-4      # ~15 min here; appends to results/cross_probe.csv

Reads the pool and cycle 1's bi labels of a finished label stage (``<run>/cycle_1/labels_bi.npy``),
trains ``--init`` cut to ``layers`` layers on a fixed random subsample of ``--pairs`` pairs (both
orders, one epoch, the loop's BCE on clipped cosines) for each grid point, and scores STS-B dev.
The same pairs and seed for every grid point, so the rows differ only by the grid setting.
``train_seconds`` is the wall time of the training plus the dev scoring.
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tenc import data, evaluation, models  # noqa: E402
from tenc.labelling import to_unit  # noqa: E402
from tenc.runfolder import read_pool  # noqa: E402
from tenc.train import train_cross  # noqa: E402


def grid_point(text: str) -> tuple[int, float]:
    layers, lr = text.split(":")
    return int(layers), float(lr)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--run", required=True, help="distillation run folder with pool.tsv and cycle_1/labels_bi.npy")
    ap.add_argument("--init", default="rampart")
    ap.add_argument("--pairs", type=int, default=4000, help="subsample size (0 = the whole pool)")
    ap.add_argument("--grid", nargs="+", type=grid_point, default=[(2, 2e-5), (2, 1e-4)], metavar="LAYERS:LR")
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--data", default=None)
    ap.add_argument("--out", default=str(ROOT / "results" / "cross_probe.csv"))
    args = ap.parse_args()
    torch.set_num_threads(2)
    run = Path(args.run)
    pool = read_pool(run)
    labels = np.load(run / "cycle_1" / "labels_bi.npy")
    if len(labels) != len(pool):
        raise SystemExit(f"{run}: {len(labels)} labels for {len(pool)} pool pairs")
    idx = np.random.default_rng(args.seed).permutation(len(pool))[: args.pairs or len(pool)]
    s1, s2 = pool["sentence1"].iloc[idx].tolist(), pool["sentence2"].iloc[idx].tolist()
    targets = to_unit(labels[idx])
    sts = data.load_sts(args.data)
    for layers, lr in args.grid:
        model = models.cross_encoder(args.init, max_length=64, layers=layers)
        t = time.perf_counter()
        stats = train_cross(model, s1, s2, targets, lr=lr, batch_size=args.batch_size, seed=args.seed, progress=False)
        row = {
            "run": str(run),
            "init": args.init,
            "pairs": len(idx),
            "layers": layers,
            "lr": lr,
            "loss_last": round(stats.summary()["loss_last"], 4),
            "stsb_dev": round(evaluation.dev_spearman([model], "cross", sts), 2),
            "train_seconds": round(time.perf_counter() - t),
        }
        print(row, flush=True)
        append_row(args.out, row)  # each grid point is kept even if a later one is interrupted
    return 0


def append_row(path: str, row: dict) -> None:
    df = pd.DataFrame([row])
    old = pd.read_csv(path) if Path(path).is_file() else pd.DataFrame(columns=df.columns)
    pd.concat([old, df], ignore_index=True).to_csv(path, index=False)


if __name__ == "__main__":
    sys.exit(main())
