"""Peak memory of reading a large pair file (`tenc.corpora.read_pairs`), in bytes of RSS per byte of file.

Writes a TSV of ``--pairs`` random 12-word sentence pairs (seed 0), then reads it in a fresh process and
prints the peak RSS over the process's imports. Run it at two commits to compare (e.g. before and after
pair files were streamed).

    python benchmarks/pair_memory.py --pairs 200000     # ~20 s; 27.7 MB of TSV
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = """
import resource, sys
sys.path.insert(0, {root!r})
from tenc.corpora import read_pairs
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
df, _ = read_pairs({path!r})
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(len(df), peak - base)
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pairs", type=int, default=200_000)
    args = ap.parse_args()
    rng = random.Random(0)
    words = [f"w{i}" for i in range(5000)]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "pairs.tsv"
        with path.open("w") as f:
            f.write("sentence1\tsentence2\n")
            for _ in range(args.pairs):
                f.write(" ".join(rng.choices(words, k=12)) + "\t" + " ".join(rng.choices(words, k=12)) + "\n")
        size = path.stat().st_size
        out = subprocess.run(
            [sys.executable, "-c", CHILD.format(root=str(ROOT), path=str(path))],
            capture_output=True,
            text=True,
            check=True,
        )
        n, peak = (int(x) for x in out.stdout.split())
    rss = f"peak RSS over the imports {peak / 1e6:.1f} MB = {peak / size:.1f} bytes per byte"
    print(f"{size / 1e6:.1f} MB, {n} pairs: {rss}")


if __name__ == "__main__":
    main()
