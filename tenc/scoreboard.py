"""The results CSVs: the STS scoreboard (``results/sts.csv``: one row per model, kind and stage, seven sets,
their mean and the scoring protocol) and the task table (``results/tasks.csv``), plus a run summary as text.

Example::

    from tenc.scoreboard import record_result
    record_result("results/sts.csv", "minilm-l6", "bi", "packaged", row, "cosine")
"""

from __future__ import annotations

from pathlib import Path

RESULT_COLUMNS = ["model", "kind", "stage", "STS12", "STS13", "STS14", "STS15", "STS16", "STS-B", "SICK-R", "avg",
                  "protocol"]
SCORES = RESULT_COLUMNS[3:-1]


def record_result(path: str | Path, model: str, kind: str, stage: str, row: dict, protocol: str) -> None:
    """Insert or replace the (model, kind, stage) row of a results CSV (the scoreboard); ``protocol`` names
    how it was scored ("cosine", "one-order" or "two-order mean", `tenc.evaluation.protocol`)."""
    import pandas as pd

    from .io import atomic_write_text

    path = Path(path)
    new = {"model": model, "kind": kind, "stage": stage, **{k: row[k] for k in SCORES}, "protocol": protocol}
    df = _read_board(path, RESULT_COLUMNS[:-1]) if path.is_file() else pd.DataFrame(columns=RESULT_COLUMNS)
    if "protocol" not in df.columns:  # a scoreboard from before the protocol column
        df["protocol"] = ""
    key = (df["model"] == model) & (df["kind"] == kind) & (df["stage"] == stage)
    if key.any():
        df.loc[key, RESULT_COLUMNS] = [new[c] for c in RESULT_COLUMNS]
    else:
        df = pd.concat([df, pd.DataFrame([new])], ignore_index=True)
    atomic_write_text(path, df[RESULT_COLUMNS].to_csv(index=False, float_format="%.2f"))


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
        raise DataError(f"{path}: not this kind of results CSV (no {', '.join(missing)} column); "
                        "STS rows go to results/sts.csv, task rows to results/tasks.csv")
    return df


def write_summary_rows(summary: dict, results: str, name: str) -> None:
    from .evaluation import protocol

    if summary["config"].get("task", "sts") != "sts":
        return write_task_rows(summary, results, name)
    orders = summary["config"].get("cross_orders", "both")  # runs from before the setting scored both orders
    for row in summary["cycles"]:
        if "avg" not in row:
            continue
        stage = "start" if row["cycle"] == 0 else f"cycle {row['cycle']}"
        model = name if row["member"] in ("model", "ensemble") else f"{name} [{row['member']}]"
        record_result(results, model, row["kind"], stage, row, protocol(row["kind"], orders))


def write_task_rows(summary: dict, results: str, name: str) -> None:
    """Per-task table: model, kind, stage, dev and one column per test set (Spearman or ROC-AUC x 100)."""
    import pandas as pd

    from .io import atomic_write_text

    path = Path(results)
    df = _read_board(path, ["task", "model", "kind", "stage"]) if path.is_file() else pd.DataFrame()
    for row in summary["cycles"]:
        stage = "start" if row["cycle"] == 0 else f"cycle {row['cycle']}"
        model = name if row["member"] in ("model", "ensemble") else f"{name} [{row['member']}]"
        new = {"task": summary["config"]["task"], "model": model, "kind": row["kind"], "stage": stage,
               **{k: v for k, v in row.items() if k not in ("cycle", "kind", "member")}}
        if len(df):
            df = df[~((df["model"] == model) & (df["kind"] == row["kind"]) & (df["stage"] == stage))]
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
