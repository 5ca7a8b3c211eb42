"""Mutual distillation: members trained one after the other vs concurrently (one process each).

    python benchmarks/mutual_parallel.py            # ~13 min here: two 1000-pair quick cycles
    python benchmarks/mutual_parallel.py --report   # only re-read the two run folders

Runs `tenc mutual` (minilm-l6 + minilm-l3, quick preset, 1000 pairs, dev-only evaluation) in
runs/timing-seq and runs/timing-par (`--parallel`), then writes each stage's seconds from the
markers and the command's wall time to results/mutual_timing.csv.
"""

from __future__ import annotations

import argparse
import glob
import json
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
CMD = [
    sys.executable,
    "-m",
    "tenc",
    "mutual",
    "--preset",
    "quick",
    "--members",
    "minilm-l6,minilm-l3",
    "--set",
    "max_pairs=1000",
    "--set",
    "evaluate_test=false",
    "--quiet",
]


def stages(run: Path) -> dict:
    out = {}
    for f in sorted(glob.glob(str(run / "cycle_1" / "*.done.json"))):
        d = json.loads(Path(f).read_text())
        out[Path(f).name[: -len(".done.json")]] = d.get("seconds") or d.get("train", {}).get("seconds")
    return out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--report", action="store_true")
    p.add_argument("--out", default=str(ROOT / "results" / "mutual_timing.csv"))
    args = p.parse_args()
    walls = {}
    if not args.report:
        for mode in ("seq", "par"):
            t = time.perf_counter()
            subprocess.run(
                CMD + ["--out", f"runs/timing-{mode}"] + (["--parallel"] if mode == "par" else []), check=True, cwd=ROOT
            )
            walls[mode] = time.perf_counter() - t
    rows = []
    for mode in ("seq", "par"):
        s = stages(ROOT / "runs" / f"timing-{mode}")
        train = lambda kind: [v for k, v in s.items() if k.startswith(f"train_{kind}")]  # noqa: B023
        # sequential: members one after the other (sum); parallel: the slower process (max)
        combine = sum if mode == "seq" else max
        rows.append(
            {
                "mode": mode,
                "train_cross_s": combine(train("cross")),
                "train_bi_s": combine(train("bi")),
                "members_cross_s": "+".join(f"{v:.0f}" for v in train("cross")),
                "members_bi_s": "+".join(f"{v:.0f}" for v in train("bi")),
                "wall_s": walls.get(mode, float("nan")),
            }
        )
    df = pd.DataFrame(rows)
    df.to_csv(args.out, index=False, float_format="%.1f")
    print(df.to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
