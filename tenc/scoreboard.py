"""The results CSVs: the STS scoreboard (``results/sts.csv``: one row per model, kind and stage, seven sets,
their mean, the scoring protocol and the row's provenance) and the task table (``results/tasks.csv``), plus a
run summary as text.

Provenance columns (`PROVENANCE`), on every scoreboard row:

| column     | what                                                                                        |
|------------|---------------------------------------------------------------------------------------------|
| `seed`     | the run's seed (`n/a` for a model evaluated as packaged: nothing of it is random)           |
| `pool`     | what it trained on: `transductive`, `inductive`, `disjoint` (no test sentence), a task, `none` |
| `labels`   | the cross -> bi labels: `one-order`, `two-order`, `teachers` (teachers_teach=bi), `none`    |
| `selected` | the rule that picked this row (`dev`, `dev+start`, `agreement`, `last`), `no` for a cycle  |
|            | it did not pick, `n/a` for a row no rule chooses (a start, a packaged model)                |
| `commit`   | the tenc commit that made the row (old rows: the commit that added it)                      |
| `versions` | torch / transformers / sentence-transformers, or `not recorded` for rows made before this  |

Example::

    from tenc.scoreboard import record_result
    record_result("results/sts.csv", "minilm-l6", "bi", "packaged", row, "cosine")
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from .io import atomic_write_text, file_lock

if TYPE_CHECKING:
    import pandas as pd

RESULT_COLUMNS = [
    "model",
    "kind",
    "stage",
    "STS12",
    "STS13",
    "STS14",
    "STS15",
    "STS16",
    "STS-B",
    "SICK-R",
    "avg",
    "protocol",
]
SCORES = RESULT_COLUMNS[3:-1]
PROVENANCE = ["seed", "pool", "labels", "selected", "commit", "versions"]
BOARD_COLUMNS = RESULT_COLUMNS + PROVENANCE
UNTRAINED = {"seed": "n/a", "pool": "none", "labels": "none", "selected": "n/a"}


def made_by() -> dict:
    """The ``commit`` and ``versions`` columns of a row this process makes."""
    from .evaluation import provenance

    made = provenance()
    versions = made["versions"]
    return {
        "commit": made["commit"],
        "versions": f"torch {versions['torch']}; transformers {versions['transformers']}; "
        f"sentence-transformers {versions['sentence_transformers']}",
    }


def record_result(
    path: str | Path, model: str, kind: str, stage: str, row: dict, protocol: str, origin: dict | None = None
) -> None:
    """Insert or replace the (model, kind, stage) row of a results CSV (the scoreboard); ``protocol`` names
    how it was scored ("cosine", "one-order" or "two-order mean", `tenc.evaluation.protocol`); ``origin`` the
    seed, pool, labels and selected columns (default: an untrained model's)."""
    origin = {**UNTRAINED, **(origin or {}), **made_by()}
    record_results(path, [{"model": model, "kind": kind, "stage": stage, **row, "protocol": protocol, **origin}])


def record_results(path: str | Path, rows: list[dict]) -> None:
    """Insert or replace several scoreboard rows (each with model, kind, stage, the scores and protocol):
    one read and one atomic write."""

    path = Path(path)
    with file_lock(path):  # read, change and replace under one lock: concurrent runs lose no rows
        _record_results(path, rows)


def _record_results(path: Path, rows: list[dict]) -> None:
    import pandas as pd

    df = _read_board(path, RESULT_COLUMNS[:-1]) if path.is_file() else pd.DataFrame(columns=BOARD_COLUMNS)
    for column in BOARD_COLUMNS:  # a scoreboard from before the protocol or provenance columns
        if column not in df.columns:
            df[column] = ""
    df = df.astype({c: object for c in ["protocol", *PROVENANCE]})
    for row in rows:
        missing = [c for c in BOARD_COLUMNS if c not in row]
        if missing:
            raise ValueError(f"a scoreboard row needs {', '.join(missing)}: {row.get('model')}")
        new = [row[c] for c in BOARD_COLUMNS]
        key = (df["model"] == row["model"]) & (df["kind"] == row["kind"]) & (df["stage"] == row["stage"])
        if key.any():
            df.loc[key, BOARD_COLUMNS] = new
        else:
            df = pd.concat([df, pd.DataFrame([dict(zip(BOARD_COLUMNS, new))])], ignore_index=True)
    atomic_write_text(path, df[BOARD_COLUMNS].to_csv(index=False, float_format="%.2f"))


def board_markdown(path: str | Path) -> str:
    """The scoreboard as the results page shows it: scores, protocol, seed, pool, labels and selected (the
    commit and versions stay in the CSV)."""
    from .tables import markdown

    df = read_board(path)
    shown = RESULT_COLUMNS + ["seed", "pool", "labels", "selected"]
    for c in SCORES:
        df[c] = df[c].map(lambda v: f"{v:.2f}")
    return markdown(df[shown])


def refresh_results_page(page: str | Path, path: str | Path) -> bool:
    """Rewrite the scoreboard table under ``## The scoreboard`` of ``page`` (docs/results.md) from ``path``
    (results/sts.csv), the prose around it kept; True when the page changed (``make board``)."""
    page = Path(page)
    text = page.read_text()
    head, rest = text.split("## The scoreboard", 1)
    lines = rest.split("\n")
    first = next(i for i, line in enumerate(lines) if line.startswith("| model |"))
    last = next((i for i in range(first, len(lines)) if not lines[i].startswith("|")), len(lines))
    new = head + "## The scoreboard" + "\n".join(lines[:first] + [board_markdown(path).rstrip("\n")] + lines[last:])
    if new != text:
        atomic_write_text(page, new)
    return new != text


def _row_name(row: dict, name: str) -> tuple[str, str]:
    """(model, stage) of a run's evaluation row: members other than the reported one get a [m0] suffix."""
    stage = "start" if row["cycle"] == 0 else f"cycle {row['cycle']}"
    return (name if row["member"] in ("model", "ensemble") else f"{name} [{row['member']}]"), stage


def read_board(path: str | Path):
    """The scoreboard (results/sts.csv) as tenc reads it: "n/a" is a value, not a missing one, and seeds are
    text ("0", or "n/a" for a model evaluated as shipped), never floats."""
    return _read_board(Path(path), RESULT_COLUMNS)


def _read_board(path: Path, needs: list[str]):
    """A results CSV that must hold ``needs`` columns; anything else is a one-line DataError."""
    import pandas as pd

    from .data import DataError

    try:
        df = pd.read_csv(path, keep_default_na=False, na_values=[""], dtype={"seed": str})
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError) as err:
        raise DataError(f"{path}: not a readable results CSV ({str(err).splitlines()[0]})") from None
    missing = [c for c in needs if c not in df.columns]
    if missing:
        raise DataError(
            f"{path}: not this kind of results CSV (no {', '.join(missing)} column); "
            "STS rows go to results/sts.csv, task rows to results/tasks.csv"
        )
    return df


def write_summary_rows(summary: dict, results: str, name: str) -> None:
    from .evaluation import protocol

    if summary["config"].get("task", "sts") != "sts":
        return write_task_rows(summary, results, name)
    orders = summary["config"].get("cross_orders", "both")  # runs from before the setting scored both orders
    made = made_by()
    rows = []
    for row in summary["cycles"]:
        if "avg" in row:
            model, stage = _row_name(row, name)
            rows.append(
                {
                    **row,
                    "model": model,
                    "stage": stage,
                    "protocol": protocol(row["kind"], orders),
                    **run_origin(summary, row),
                    **made,
                }
            )
    record_results(results, rows)


def run_origin(summary: dict, row: dict) -> dict:
    """The seed, pool, labels and selected columns of one evaluation row of a distillation run."""
    cfg = summary["config"]
    sel = summary["selected"].get(row["kind"])
    picked = sel and (
        sel["members"].get(row["member"]) == row["cycle"]
        or (row["member"] == "ensemble" and sel["cycle"] == row["cycle"])
    )
    selected = sel["rule"] if picked else "n/a" if row["cycle"] == 0 else "no"  # the start competes under dev+start
    if row["cycle"] == 0:
        labels, pool = "none", "none"
    else:
        pool = cfg.get("pool", "transductive") if cfg.get("task", "sts") == "sts" else cfg.get("task", "custom")
        if cfg.get("teachers_teach") == "bi":
            labels = "teachers"
        else:
            labels = "two-order" if cfg.get("label_both_orders", False) else "one-order"
    return {"seed": cfg.get("seed", 0), "pool": pool, "labels": labels, "selected": selected}


def write_task_rows(summary: dict, results: str, name: str) -> None:
    """Per-task table: model, kind, stage, dev and one column per test set (Spearman or ROC-AUC x 100)."""
    rows = []
    for row in summary["cycles"]:
        model, stage = _row_name(row, name)
        rows.append(
            {
                "task": summary["config"]["task"],
                "model": model,
                "kind": row["kind"],
                "stage": stage,
                **{k: v for k, v in row.items() if k not in ("cycle", "kind", "member")},
            }
        )
    record_task_rows(results, rows)


def record_task_rows(results: str | Path, rows: list[dict]) -> None:
    """Insert or replace (task, model, kind, stage) rows of the task table (``results/tasks.csv``): one
    read and one atomic write."""

    path = Path(results)
    with file_lock(path):
        _record_task_rows(path, rows)


def _record_task_rows(path: Path, rows: list[dict]) -> None:
    import pandas as pd

    df = _read_board(path, ["task", "model", "kind", "stage"]) if path.is_file() else pd.DataFrame()
    for new in rows:
        if len(df):
            df = df[
                ~(
                    (df["task"] == new["task"])
                    & (df["model"] == new["model"])
                    & (df["kind"] == new["kind"])
                    & (df["stage"] == new["stage"])
                )
            ]
        df = pd.concat([df, pd.DataFrame([new])], ignore_index=True)
    atomic_write_text(path, df.to_csv(index=False, float_format="%.2f"))


def summary_table(summary: dict) -> str:
    """A run's evaluations as a markdown table, then what its selection rule picked."""
    import pandas as pd

    from .data import EVAL_SETS
    from .tables import markdown

    head = ["cycle", "kind", "member", "dev"] + list(EVAL_SETS) + ["avg"]
    table = pd.DataFrame([{c: row.get(c) for c in head} for row in summary["cycles"]], columns=head)
    sel = ", ".join(f"{k}: cycle {v['cycle']} ({v['rule']}{_member_picks(v)})" for k, v in summary["selected"].items())
    return markdown(table) + f"\nselected: {sel}"


def _member_picks(selected: dict) -> str:
    """`; m1 cycle 3` for each member whose own pick differs from the headline's (the scoreboard selects each
    member by its own dev score, so a reader of the run's log sees the same cycles as its rows)."""
    other = {m: c for m, c in selected.get("members", {}).items() if m != "ensemble" and c != selected["cycle"]}
    return "".join(f"; {m} cycle {c}" for m, c in other.items())


def _start_avg(summary: dict) -> float | None:
    """The test score (`headline_score`) of a run's evaluated start (its cycle-0 bi-encoder), or None."""
    return next((headline_score(r) for r in summary["cycles"] if r["cycle"] == 0 and r["kind"] == "bi"), None)


def headline_score(row: dict) -> float | None:
    """A result row's headline test score: the 7-set average on STS, else the mean of its test sets' scores
    (a binary task's one ROC-AUC); None for a row without test scores."""
    if "avg" in row:
        return row["avg"]
    tests = [v for k, v in row.items() if k not in ("cycle", "kind", "member", "dev") and isinstance(v, (int, float))]
    return round(sum(tests) / len(tests), 2) if tests else None


def seed_rows(run_dirs: list[str | Path]) -> pd.DataFrame:
    """One row per run and encoder type: the seed, the start's and the selected cycle's test score (the 7-set
    average on STS, `headline_score`) and the gain (repeats of one job with different seeds: the spread of
    their gains is the job's noise)."""
    import json

    import pandas as pd

    rows = []
    for run in run_dirs:
        summary = json.loads((Path(run) / "summary.json").read_text())
        start = _start_avg(summary)
        for kind, pick in summary["selected"].items():
            rows.append(
                {
                    "seed": summary["config"]["seed"],
                    "kind": kind,
                    "cycle": pick["cycle"],
                    "start": start,
                    "selected": headline_score(pick["row"]),
                    "gain": round(headline_score(pick["row"]) - start, 2),
                }
            )
    return pd.DataFrame(rows)


def recipe_name(model: str) -> str:
    """A row's recipe: its model name with "seed N" taken out, so that both ways rows name a seed give one recipe
    ("main job seed 1, CoSENT" and "main job, CoSENT, seed 1" -> "main job, CoSENT")."""
    import re

    return re.sub(r"\s+", " ", re.sub(r",?\s*\bseed \d+\b", "", model)).strip().removeprefix(", ")


def seeded_cycles(board: str | Path | pd.DataFrame) -> pd.DataFrame:
    """The scoreboard's trained rows (cycles) that name a seed, each with its ``recipe`` (`recipe_name`)."""
    df = board if hasattr(board, "columns") else read_board(board)
    df = df[(df["seed"].astype(str) != "n/a") & df["stage"].astype(str).str.startswith("cycle")].copy()
    df["recipe"] = df["model"].map(recipe_name)
    return df


def seed_groups(path: str | Path) -> pd.DataFrame:
    """The scoreboard's seed groups: trained rows (cycles) of one recipe run with two or more seeds (the same
    name once "seed N" is taken out, kind, stage and pool), with each group's n, mean and sample sd of the 7-set
    avg, and its start (the mean of the recipe's bi "start" rows; NaN where its runs recorded none)."""
    board = read_board(path)
    df = seeded_cycles(board).rename(columns={"recipe": "group"})
    keys = ["group", "kind", "stage", "pool"]
    groups = df.groupby(keys).agg(n=("seed", "nunique"), mean=("avg", "mean"), sd=("avg", "std"))
    groups = groups[groups["n"] >= 2].reset_index()
    starts = board[(board["stage"] == "start") & (board["kind"] == "bi")]
    groups["start"] = groups["group"].map(starts.groupby(starts["model"].map(recipe_name))["avg"].mean())
    return groups


def pooled_sd(groups: pd.DataFrame) -> float:
    """The pooled sample sd of seed groups: sqrt(sum (n - 1) sd^2 / sum (n - 1))."""
    import math

    dof = (groups["n"] - 1).sum()
    return math.sqrt(float(((groups["n"] - 1) * groups["sd"] ** 2).sum() / dof)) if dof else float("nan")


def gain_report(summary: dict, repeats: str | Path = "", sds: float = 2.0, board: str | Path = "") -> str:
    """The selected encoders against the start (7-set average), each gain set against the noise: the sample sd
    of the gains in ``repeats`` (a CSV of the same job run with other seeds, `seed_rows`) when it holds 3 or
    more seeds, and the pooled sd of the scoreboard's seed groups in ``board`` (results/sts.csv); the larger
    judges: "beyond noise" when the gain exceeds ``sds`` of it. Each line says how many seeds stand behind it
    (n=1: a pilot, not a finding). Empty for a run with no evaluated start or no 7-set average."""
    import math

    import pandas as pd

    start = _start_avg(summary)
    if start is None or any("avg" not in pick["row"] for pick in summary["selected"].values()):
        return ""
    seeds = pd.read_csv(repeats) if repeats and Path(repeats).is_file() else None
    groups = seed_groups(board) if board and Path(board).is_file() else None
    pooled = pooled_sd(groups) if groups is not None and len(groups) else math.nan
    lines = [f"start (cycle 0 bi-encoder): {start:.2f}"]
    for kind, pick in summary["selected"].items():
        gain = pick["row"]["avg"] - start
        line = f"{kind}-encoder, cycle {pick['cycle']}: {pick['row']['avg']:.2f} ({gain:+.2f} over the start)"
        g = seeds.loc[seeds["kind"] == kind, "gain"] if seeds is not None else pd.Series(dtype=float)
        noise = []
        if len(g) >= 2:
            line += (
                f"; {len(g)} seeds: gain {g.mean():+.2f} mean, sd {g.std():.2f}, range {g.min():+.2f} to {g.max():+.2f}"
            )
            if len(g) >= 3:
                noise.append(g.std())
        else:
            line += "; n=1 seed (a pilot, not a finding)"
        if not math.isnan(pooled):
            line += f"; pooled sd of the scoreboard's {len(groups)} seed groups {pooled:.2f}"
            noise.append(pooled)
        if noise:
            verdict = "beyond noise" if gain > sds * max(noise) else "NOT beyond noise"
            line += f" -> {verdict} (gain > {sds:g} x sd {max(noise):.2f})"
        lines.append(line)
    return "\n".join(lines)
