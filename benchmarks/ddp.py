"""One process with 2 threads vs two torchrun processes (gloo) with 1 thread each, on this machine.

Runs the same short cycle (minilm-l6, a small pool, dev-only evaluation) both ways through the CLI
and reads each stage's seconds from its markers. Rank 0 evaluates alone in the 2-process run, so
only labelling and training are compared.

    python benchmarks/ddp.py --pairs 512        # ~10 min here; adds two rows to results/ddp.csv
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from peak import cpu  # noqa: E402


def run(out: Path, nproc: int, threads: int, pairs: int) -> dict:
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        f"--nproc_per_node={nproc}",
        "-m",
        "tenc",
        "distill",
        "--preset",
        "quick",
        "--quiet",
        "--out",
        str(out),
        "--set",
        f"max_pairs={pairs}",
        "--set",
        "evaluate_test=false",
        "--set",
        f"threads={threads}",
    ]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": str(threads)}
    res = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if res.returncode:
        raise SystemExit(res.stderr[-3000:])
    c = out / "cycle_1"
    marker = lambda s: json.loads((c / f"{s}.done.json").read_text())
    tc, tb = marker("train_cross")["train"], marker("train_bi")["train"]
    metrics = json.loads((out / "metrics.json").read_text())
    return {
        "cpu": " ".join(cpu()),
        "gemm_path": (metrics.get("cpu") or {}).get("gemm_path", ""),
        "processes": nproc,
        "threads_each": threads,
        "pairs": pairs,
        "label_bi_s": marker("label_bi")["seconds"],
        "label_cross_s": marker("label_cross")["seconds"],
        "train_cross_s": tc["seconds"],
        "train_cross_examples_per_s": tc["examples"] / tc["seconds"],
        "train_bi_s": tb["seconds"],
        "train_bi_examples_per_s": tb["examples"] / tb["seconds"],
    }


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--pairs", type=int, default=512)
    p.add_argument("--out", default=str(ROOT / "results" / "ddp.csv"))
    args = p.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for nproc, threads in ((1, 2), (2, 1)):
            rows.append(run(Path(tmp) / f"p{nproc}", nproc, threads, args.pairs))
            print(rows[-1], flush=True)
    df = pd.DataFrame(rows)
    if Path(args.out).is_file():  # earlier measurements stay (rows before the cpu column have none)
        df = pd.concat([pd.read_csv(args.out), df], ignore_index=True)[df.columns]
    df.to_csv(args.out, index=False, float_format="%.2f")
    print(df.round(2).to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
