"""Fill the scoreboard's provenance columns (seed, pool, labels, selected, commit, versions) for rows made
before tenc wrote them (derived again on every call); rows tenc wrote itself (versions recorded) are left as
they are. Run from the repository root:

    python tools/provenance.py            # rewrites results/sts.csv in place

Sources, row by row: ``commit``, the first commit of results/sts.csv that holds the row's (model, kind,
stage) (git history); ``seed`` and ``pool``, the row's command in docs/results.md (``--set seed=N``,
``pool=...``, ``--task custom``; the name's "seed N"; else tenc's default seed 0 and the paper's transductive
pool; rows distilled on TrecQA say ``trecqa``); ``labels``, two-order for a trained row added before c5dfc7a
(when cross labels were averaged over both orders by default) or whose command sets label_both_orders=true,
else one-order; ``selected``, the run's own dev pick in results/cycles.csv (``dev`` or ``no``; ``dev`` for the
``dev-selected`` rows tools/transfer.sh writes, and for a run that wrote one trained cycle: the only one dev
can pick), ``not recorded`` where the run is not there;
``versions``, ``not recorded`` (metrics.json kept them, but those run folders are gone).
"""

from __future__ import annotations

import io
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tenc.io import file_lock  # noqa: E402
from tenc.scoreboard import BOARD_COLUMNS, PROVENANCE, read_board  # noqa: E402

ONE_ORDER_COMMIT = "c5dfc7a"  # one-order cross labelling became tenc's default here
UNTRAINED_STAGES = {"packaged", "raw", "eval", "ensemble"}


def git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=True).stdout


def first_commits(board: str = "results/sts.csv") -> dict[tuple, str]:
    """(model, kind, stage) -> the first commit whose scoreboard holds that row."""
    first: dict[tuple, str] = {}
    for commit in git("log", "--reverse", "--format=%H", "--", board).split():
        df = pd.read_csv(io.StringIO(git("show", f"{commit}:{board}")))
        for key in zip(df["model"], df["kind"], df["stage"]):
            first.setdefault(key, commit)
    return first


def commands() -> dict[str, str]:
    """Row name -> its command, from docs/results.md (``--name``, else the commands table's first cell)."""
    out: dict[str, str] = {}
    for line in (ROOT / "docs" / "results.md").read_text().splitlines():
        for cmd in re.findall(r"`(python -m tenc [^`]*)`", line):
            try:
                argv = shlex.split(cmd)
            except ValueError:
                continue
            if "--name" in argv:
                out.setdefault(argv[argv.index("--name") + 1], cmd)
            elif line.startswith("| ") and line.count("|") >= 3:
                out.setdefault(line.split("|")[1].strip(), cmd)
    return out


def is_before(commit: str, landmark: str) -> bool:
    """True when ``commit`` is an ancestor of ``landmark`` (and not ``landmark`` itself)."""
    done = subprocess.run(["git", "merge-base", "--is-ancestor", commit, landmark], cwd=ROOT)
    return done.returncode == 0 and not git("rev-parse", commit).startswith(git("rev-parse", landmark).strip())


def fill(df: pd.DataFrame) -> pd.DataFrame:
    df = df.copy()
    for column in PROVENANCE:
        if column not in df.columns:
            df[column] = ""
    df = df.astype({c: object for c in PROVENANCE})
    first, cmds = first_commits(), commands()
    cycles = pd.read_csv(ROOT / "results" / "cycles.csv")
    picked = {
        (r.run, r.kind, r.stage): bool(r.selected) for r in cycles.itertuples() if r.member in ("model", "ensemble")
    }
    before = {}
    for i, row in df.iterrows():
        if isinstance(row["versions"], str) and row["versions"] not in ("", "not recorded"):
            continue  # tenc wrote this row's provenance itself (rows this tool filled are filled again)
        name = row["model"]
        base = re.sub(r" \[m\d+\]$", "", name)
        cmd = cmds.get(base, "")
        commit = first.get((row["model"], row["kind"], row["stage"]), "uncommitted")
        untrained = row["stage"] in UNTRAINED_STAGES or row["stage"] == "start"
        seed = re.search(r"seed=(\d+)", cmd) or re.search(r"seed[ -](\d+)", name)
        pool = re.search(r"pool=(\w+)", cmd)
        if row["stage"] in UNTRAINED_STAGES:
            origin = {"seed": "n/a", "pool": "none", "labels": "none", "selected": "n/a"}
        elif row["stage"] == "primed":
            origin = {
                "seed": int(seed.group(1)) if seed else 0,
                "pool": "transductive",
                "labels": "none",
                "selected": "last",
            }
        else:
            if commit not in before:
                before[commit] = commit != "uncommitted" and is_before(commit, ONE_ORDER_COMMIT)
            two = before[commit] or "label_both_orders=true" in cmd
            key = (base, row["kind"], row["stage"])
            origin = {
                "seed": int(seed.group(1)) if seed else 0,
                "pool": "custom" if "--task custom" in cmd else pool.group(1) if pool else "transductive",
                "labels": "none" if untrained else "two-order" if two else "one-order",
                "selected": "n/a"
                if untrained
                else ("dev" if picked[key] else "no")
                if key in picked
                else "not recorded",
            }
            if untrained:
                origin["pool"] = "none"
            trained = df[(df["model"] == name) & (df["kind"] == row["kind"]) & df["stage"].str.startswith("cycle")]
            if origin["selected"] == "not recorded" and list(trained["stage"]) == ["cycle 1"]:
                origin["selected"] = "dev"  # its run wrote one trained cycle: the only one dev can pick
            if row["stage"] == "dev-selected":  # tools/transfer.sh scores a run's dev-selected best/ models
                origin["selected"] = "dev"
            if "TrecQA pool" in name:  # distilled on TrecQA's pairs, scored on STS
                origin["pool"] = "trecqa"
        df.loc[i, list(origin)] = list(origin.values())
        df.loc[i, ["commit", "versions"]] = [commit, "not recorded"]
    return df[BOARD_COLUMNS]


if __name__ == "__main__":
    path = ROOT / "results" / "sts.csv"
    with file_lock(path):  # the lock tenc's own writers take
        board = fill(read_board(path))
        board.to_csv(path, index=False, float_format="%.2f")
    print(board[PROVENANCE].apply(lambda c: c.value_counts().to_dict()).to_string())
