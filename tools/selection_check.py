"""Label-free selection checked against dev selection and the test oracle, on finished multi-cycle runs.

For every run folder with at least two trained cycles, per encoder type (the member the run reports):
the cycle the paper's ``dev`` rule picks, the cycle ``agreement`` picks (the Spearman between the cycle's
cross-encoder scores and bi-encoder cosines on the unlabelled pool: no gold label read), and the cycle
with the best test score (the oracle, which no rule may use), each with its test score and its loss
against the oracle; ``last`` (the final cycle) is the baseline a label-free rule has to beat. The summary
line says how often each rule hits the oracle and what it loses on average.

    python tools/selection_check.py RUN [RUN ...] --out results/selection.csv
    python tools/selection_check.py --roots runs,papermill_runs --out results/selection.csv   # every run found

Agreement is computed once a cycle and kept in the cycle's ``agreement.done.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tenc import distill, runfolder, selection  # noqa: E402
from tenc.config import DistillConfig  # noqa: E402


def test_score(row: dict) -> float | None:
    """The 7-set average on STS; on another task the mean of its test sets."""
    if "avg" in row:
        return row["avg"]
    tests = [v for k, v in row.items() if k not in ("cycle", "kind", "member", "dev") and isinstance(v, (int, float))]
    return sum(tests) / len(tests) if tests else None


def check_run(folder: Path) -> list[dict]:
    saved = json.loads((folder / "config.json").read_text())
    cfg = DistillConfig.from_dict({**saved, "evaluate_test": True})
    rows = runfolder.evaluation_rows(folder, cfg.cycles)
    trained = sorted({r["cycle"] for r in rows if r["cycle"] > 0 and r["kind"] == "bi"})
    if len(trained) < 2:
        return []
    run = distill.Run(cfg, folder, progress=False, log=lambda *_: None)
    out = []
    for kind in ("bi", "cross"):
        member = selection.main_member(rows, kind)
        score = {
            r["cycle"]: test_score(r) for r in rows if r["kind"] == kind and r["member"] == member and r["cycle"] > 0
        }
        if len(score) < 2 or None in score.values():
            continue
        oracle = max(score, key=lambda c: (score[c], -c))
        picks = {
            "dev": selection.pick(rows, kind, member, "dev"),
            "agreement": selection.pick(rows, kind, member, "agreement", run.agreement),
            "last": selection.pick(rows, kind, member, "last"),
        }
        row = {
            "run": folder.name,
            "kind": kind,
            "cycles": len(score),
            "oracle_cycle": oracle,
            "oracle_test": score[oracle],
        }
        for rule, cycle in picks.items():
            row |= {
                f"{rule}_cycle": cycle,
                f"{rule}_test": score.get(cycle),
                f"{rule}_loss": None if cycle is None else round(score[oracle] - score[cycle], 2),
            }
        row["agreement_by_cycle"] = " ".join(f"{c}:{run.agreement(c):.2f}" for c in sorted(score))
        out.append(row)
    return out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("runs", nargs="*", help="run folders")
    p.add_argument("--roots", default="", help="comma-separated folders whose */config.json runs are all checked")
    p.add_argument("--out", help="write the table here (CSV)")
    args = p.parse_args()
    folders = [Path(r) for r in args.runs]
    for root in filter(None, (r.strip() for r in args.roots.split(","))):
        folders += sorted(c.parent for c in Path(root).glob("**/config.json") if (c.parent / "summary.json").is_file())
    rows = [r for f in dict.fromkeys(folders) for r in check_run(f)]
    if not rows:
        print("no finished run with two or more trained cycles")
        return 1
    df = pd.DataFrame(rows)
    with pd.option_context("display.width", 220, "display.max_columns", 20):
        print(df.to_string(index=False))
    for rule in ("dev", "agreement", "last"):
        hits = (df[f"{rule}_cycle"] == df["oracle_cycle"]).mean()
        print(
            f"{rule}: picks the oracle's cycle in {hits:.0%} of {len(df)}; mean loss {df[f'{rule}_loss'].mean():.2f}, "
            f"worst {df[f'{rule}_loss'].max():.2f}"
        )
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        df.to_csv(args.out, index=False, float_format="%.2f")
    return 0


if __name__ == "__main__":
    sys.exit(main())
