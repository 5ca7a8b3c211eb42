"""Where does a training step's time go? torch.profiler over tenc's cross and bi training on minilm-l6.

    python benchmarks/profile_steps.py --pairs 400      # ~3 min here; writes results/profile.csv

Groups the profiler's self CPU time by kind of work (matrix multiplies, attention softmax, GELU,
layer norm, the optimiser, everything else) and prints the top operators.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch.profiler import ProfilerActivity, profile

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tenc import data, models, train  # noqa: E402

GROUPS = [
    ("matmul", ("addmm", "aten::mm", "bmm", "matmul", "linear", "baddbmm")),
    ("softmax / attention", ("softmax", "scaled_dot_product")),
    ("gelu", ("gelu",)),
    ("layer norm", ("layer_norm",)),
    ("optimiser (AdamW)", ("adam", "_foreach", "lerp", "addcdiv", "addcmul")),
    ("dropout", ("dropout", "bernoulli")),
    ("embedding", ("embedding",)),
]


def group(name: str) -> str:
    low = name.lower()
    return next((g for g, keys in GROUPS if any(k in low for k in keys)), "other")


def run(kind: str, s1, s2, y) -> pd.DataFrame:
    torch.manual_seed(0)
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        if kind == "cross":
            model = models.cross_encoder("minilm-l6", max_length=64)
            stats = train.train_cross(model, s1, s2, y, batch_size=32, max_length=64, progress=False)
        else:
            model = models.bi_encoder("minilm-l6", max_seq_length=32)
            stats = train.train_bi(model, s1, s2, y, batch_size=128, max_length=32, progress=False)
    rows = [{"op": e.key, "self_cpu_s": e.self_cpu_time_total / 1e6} for e in prof.key_averages()]
    df = pd.DataFrame(rows)
    df["group"] = df["op"].map(group)
    total = df["self_cpu_s"].sum()
    by_group = df.groupby("group")["self_cpu_s"].sum().sort_values(ascending=False)
    print(
        f"\n{kind}: {stats.steps} steps, {stats.seconds:.1f} s wall, profiled self CPU {total:.1f} s "
        f"(all threads), padding {stats.padding:.1%}"
    )
    print((by_group / total).map("{:.1%}".format).to_string())
    print(df.sort_values("self_cpu_s", ascending=False).head(8).to_string(index=False))
    return pd.DataFrame(
        {"kind": kind, "group": by_group.index, "share": (by_group / total).values, "self_cpu_s": by_group.values}
    )


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--pairs", type=int, default=400)
    p.add_argument("--out", default=str(ROOT / "results" / "profile.csv"))
    args = p.parse_args()
    torch.set_num_threads(2)
    pool = data.build_pool(data.load_sts(), max_pairs=args.pairs, seed=0).pairs
    s1, s2 = pool["sentence1"].tolist(), pool["sentence2"].tolist()
    y = np.random.default_rng(0).uniform(0, 1, len(s1)).astype(np.float32)
    out = pd.concat([run("cross", s1, s2, y), run("bi", s1, s2, y)], ignore_index=True)
    out.to_csv(args.out, index=False, float_format="%.4f")
    return 0


if __name__ == "__main__":
    sys.exit(main())
