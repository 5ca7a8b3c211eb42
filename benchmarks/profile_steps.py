"""Where does a training step's time go? torch.profiler over tenc's cross and bi training on minilm-l6.

    python benchmarks/profile_steps.py --pairs 400      # ~3 min here; writes results/profile.csv

Groups the profiler's self CPU time by kind of work (matrix multiplies, attention, GELU, layer norm, the
optimiser, everything else) and prints the top operators. It runs as ``python -m tenc`` does: on an AMD CPU
it restarts itself with the MKL shim preloaded (``TENC_MKL_SHIM=0`` profiles MKL's default path). Each
student's GEMM FLOPs (6 x non-embedding parameters x padded tokens: forward and backward of every linear
layer) over the time spent in matrix multiplies give the rate its GEMMs run at, set against this CPU's
two-thread fp32 peak from ``results/peak.csv``; every row names the CPU and the GEMM path.
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
sys.path.insert(0, str(ROOT / "benchmarks"))

from tenc import data, models, train  # noqa: E402

GROUPS = [
    ("matmul", ("addmm", "aten::mm", "bmm", "matmul", "linear", "baddbmm")),
    ("attention (SDPA)", ("softmax", "scaled_dot_product", "flash_attention")),
    ("gelu", ("gelu",)),
    ("layer norm", ("layer_norm",)),
    ("optimiser (AdamW)", ("adam", "_foreach", "lerp", "addcdiv", "addcmul")),
    ("dropout", ("dropout", "bernoulli")),
    ("embedding", ("embedding",)),
]


def group(name: str) -> str:
    low = name.lower()
    return next((g for g, keys in GROUPS if any(k in low for k in keys)), "other")


def non_embedding(module) -> int:
    return sum(p.numel() for n, p in module.named_parameters() if "embeddings" not in n)


def run(kind: str, s1, s2, y) -> pd.DataFrame:
    torch.manual_seed(0)
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        if kind == "cross":
            model = models.cross_encoder("minilm-l6", max_length=64)
            stats = train.train_cross(model, s1, s2, y, batch_size=32, max_length=64, progress=False)
        else:
            model = models.bi_encoder("minilm-l6", max_seq_length=32)
            stats = train.train_bi(model, s1, s2, y, batch_size=128, max_length=32, progress=False)
    backbone = model.model if kind == "cross" else model[0].auto_model
    gemm_flop = 6 * non_embedding(backbone) * stats.padded_tokens
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
    gemm_rate = gemm_flop / by_group.get("matmul", float("nan")) / 1e9
    step_rate = gemm_flop / stats.seconds / 1e9
    print(f"{kind}: GEMMs run at {gemm_rate:.0f} GFLOP/s while in them; the whole step at {step_rate:.0f} GFLOP/s")
    out = pd.DataFrame(
        {"kind": kind, "group": by_group.index, "share": (by_group / total).values, "self_cpu_s": by_group.values}
    )
    return out.assign(gemm_gflops=round(gemm_rate, 1), step_gflops=round(step_rate, 1), wall_s=round(stats.seconds, 1))


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--pairs", type=int, default=400)
    p.add_argument("--out", default=str(ROOT / "results" / "profile.csv"))
    args = p.parse_args()
    from peak import cpu, recorded_peak

    from tenc import cpu as tcpu

    tcpu.restart_with_shim(sys.argv[1:], command=[__file__])  # as python -m tenc runs: MKL's fast path on AMD
    torch.set_num_threads(2)
    pool = data.build_pool(data.load_sts(), max_pairs=args.pairs, seed=0).pairs
    s1, s2 = pool["sentence1"].tolist(), pool["sentence2"].tolist()
    y = np.random.default_rng(0).uniform(0, 1, len(s1)).astype(np.float32)
    out = pd.concat([run("cross", s1, s2, y), run("bi", s1, s2, y)], ignore_index=True)
    name, flags = cpu()
    peak = recorded_peak(str(ROOT / "results" / "peak.csv"))
    out = out.assign(cpu=name, flags=flags, gemm_path=tcpu.gemm_path(), peak_gflops=peak)
    for kind, rows in out.groupby("kind", sort=False):
        r = rows.iloc[0]
        print(
            f"{kind}: GEMMs at {r['gemm_gflops']:.0f} GFLOP/s = {100 * r['gemm_gflops'] / peak:.0f} % of the peak "
            f"({peak}), the step at {r['step_gflops']:.0f} = {100 * r['step_gflops'] / peak:.0f} %; "
            f"CPU {name} [{flags}]"
        )
    out.to_csv(args.out, index=False, float_format="%.4f")
    return 0


if __name__ == "__main__":
    sys.exit(main())
