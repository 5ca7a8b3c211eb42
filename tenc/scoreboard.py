"""The results CSVs: the STS scoreboard (``results/sts.csv``: one row per model, kind and stage, seven sets,
their mean and the scoring protocol) and the task table (``results/tasks.csv``), plus a run summary as text.

Example::

    from tenc.scoreboard import record_result
    record_result("results/sts.csv", "minilm-l6", "bi", "packaged", row, "cosine")
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

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


def record_result(path: str | Path, model: str, kind: str, stage: str, row: dict, protocol: str) -> None:
    """Insert or replace the (model, kind, stage) row of a results CSV (the scoreboard); ``protocol`` names
    how it was scored ("cosine", "one-order" or "two-order mean", `tenc.evaluation.protocol`)."""
    record_results(path, [{"model": model, "kind": kind, "stage": stage, **row, "protocol": protocol}])


def record_results(path: str | Path, rows: list[dict]) -> None:
    """Insert or replace several scoreboard rows (each with model, kind, stage, the scores and protocol):
    one read and one atomic write."""
    import pandas as pd

    from .io import atomic_write_text

    path = Path(path)
    df = _read_board(path, RESULT_COLUMNS[:-1]) if path.is_file() else pd.DataFrame(columns=RESULT_COLUMNS)
    if "protocol" not in df.columns:  # a scoreboard from before the protocol column
        df["protocol"] = ""
    for row in rows:
        new = [row[c] for c in RESULT_COLUMNS]
        key = (df["model"] == row["model"]) & (df["kind"] == row["kind"]) & (df["stage"] == row["stage"])
        if key.any():
            df.loc[key, RESULT_COLUMNS] = new
        else:
            df = pd.concat([df, pd.DataFrame([dict(zip(RESULT_COLUMNS, new))])], ignore_index=True)
    atomic_write_text(path, df[RESULT_COLUMNS].to_csv(index=False, float_format="%.2f"))


def _row_name(row: dict, name: str) -> tuple[str, str]:
    """(model, stage) of a run's evaluation row: members other than the reported one get a [m0] suffix."""
    stage = "start" if row["cycle"] == 0 else f"cycle {row['cycle']}"
    return (name if row["member"] in ("model", "ensemble") else f"{name} [{row['member']}]"), stage


def _read_board(path: Path, needs: list[str]):
    """A results CSV that must hold ``needs`` columns; anything else is a one-line DataError."""
    import pandas as pd

    from .data import DataError

    try:
        df = pd.read_csv(path)
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
    rows = []
    for row in summary["cycles"]:
        if "avg" in row:
            model, stage = _row_name(row, name)
            rows.append({**row, "model": model, "stage": stage, "protocol": protocol(row["kind"], orders)})
    record_results(results, rows)


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
    import pandas as pd

    from .io import atomic_write_text

    path = Path(results)
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
    sel = ", ".join(f"{k}: cycle {v['cycle']} ({v['rule']})" for k, v in summary["selected"].items())
    return markdown(table) + f"\nselected: {sel}"


def _start_avg(summary: dict) -> float | None:
    """The 7-set average of a run's evaluated start (its cycle-0 bi-encoder), or None."""
    return next((r.get("avg") for r in summary["cycles"] if r["cycle"] == 0 and r["kind"] == "bi"), None)


def seed_rows(run_dirs: list[str | Path]) -> pd.DataFrame:
    """One row per run and encoder type: the seed, the start's and the selected cycle's 7-set average and
    the gain (repeats of one job with different seeds: the spread of their gains is the job's noise)."""
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
                    "selected": pick["row"]["avg"],
                    "gain": round(pick["row"]["avg"] - start, 2),
                }
            )
    return pd.DataFrame(rows)


def gain_report(summary: dict, repeats: str | Path = "", sds: float = 3.0) -> str:
    """The selected encoders against the start (7-set average), each gain set against the spread (sample
    standard deviation) of the gains in ``repeats``, a CSV of the same job run with other seeds
    (`seed_rows`): "beyond noise" when the gain exceeds ``sds`` of them. Empty for a run with no evaluated
    start or no 7-set average (another task)."""
    import pandas as pd

    start = _start_avg(summary)
    if start is None or any("avg" not in pick["row"] for pick in summary["selected"].values()):
        return ""
    seeds = pd.read_csv(repeats) if repeats and Path(repeats).is_file() else None
    lines = [f"start (cycle 0 bi-encoder): {start:.2f}"]
    for kind, pick in summary["selected"].items():
        gain = pick["row"]["avg"] - start
        line = f"{kind}-encoder, cycle {pick['cycle']}: {pick['row']['avg']:.2f} ({gain:+.2f} over the start)"
        if seeds is not None and (seeds["kind"] == kind).sum() >= 2:
            g = seeds.loc[seeds["kind"] == kind, "gain"]
            verdict = "beyond noise" if gain > sds * g.std() else "NOT beyond noise"
            line += (
                f"; {len(g)} seeds: gain {g.mean():+.2f} mean, sd {g.std():.2f}, range {g.min():+.2f} to "
                f"{g.max():+.2f} -> {verdict} (gain > {sds:g} sd)"
            )
        lines.append(line)
    return "\n".join(lines)
