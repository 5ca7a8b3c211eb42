"""Tables and figures rebuilt from metrics.json files only (notebooks 90_tables, 91_figures).

Every run leaves a ``metrics.json``: distillation runs (CLI or notebooks 20/30) a list of per-cycle
rows, evaluations (50_evaluate, ``tenc evaluate --out``) and priming runs (10_prime) flat
``sts_<set>_spearman`` numbers. `collect` turns all of them into one tidy frame:

    run, source, kind, stage, member, dev, STS12 … SICK-R, avg, selected, ablation, value, protocol

``selected`` is the paper's rule for every run (`tenc.selection`, "dev": the best STS-B dev among the
trained cycles, per encoder type and member), whatever rule the run itself used; ``protocol`` names how
the row was scored (cosine; one-order or two-order mean for a cross-encoder: runs from before the
protocol was recorded scored both orders).

Example::

    from tenc import tables
    df = tables.collect(["papermill_runs", "runs"])
    print(tables.markdown(tables.main_table(df)))
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from . import evaluation, selection
from .config import PrimeConfig
from .data import EVAL_SETS

COLUMNS = ["run", "kind", "stage", "member", "dev", *EVAL_SETS, "avg"]


def protocol_of(kind: str, doc: dict | None = None) -> str:
    """A row's scoring protocol: as its metrics.json records it, else that of the runs made before it was
    recorded (cosine for bi-encoders, the two-order mean for cross-encoders)."""
    recorded = ((doc or {}).get("protocol") or {}).get(kind)
    return recorded or ("cosine" if kind == "bi" else "two-order mean")


def paper_selection(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with ``selected`` set by the paper's rule: per run, encoder type and reported member (the
    ensemble or the one model), the trained cycle with the best dev score; the start is no candidate."""
    if df.empty or not {"cycle", "kind", "member", "dev"} <= set(df.columns):  # e.g. the priming table
        return df
    df = df.copy()
    df["selected"] = False
    for (_run, kind, member), sub in df[df["cycle"].notna()].groupby(["run", "kind", "member"], sort=False):
        if member not in ("model", "ensemble"):
            continue
        rows = [
            {"cycle": int(r.cycle), "kind": kind, "member": member, "dev": None if pd.isna(r.dev) else float(r.dev)}
            for r in sub.itertuples()
        ]
        pick = selection.pick(rows, kind, member, "dev")
        if pick is not None:
            df.loc[sub.index[sub["cycle"] == pick], "selected"] = True
    return df


def _distill_rows(path: Path, doc: dict) -> list[dict]:
    params = doc.get("params") or {}
    name = params.get("name") or path.parent.name
    rows = []
    for r in doc["metrics"]:
        if "avg" not in r:  # binary tasks: no STS row
            continue
        rows.append(
            {
                "run": name,
                "source": str(path.parent),
                "kind": r["kind"],
                "stage": "start" if r["cycle"] == 0 else f"cycle {r['cycle']}",
                "cycle": r["cycle"],
                "member": r.get("member", "model"),
                "dev": r.get("dev"),
                **{k: r.get(k) for k in (*EVAL_SETS, "avg")},
                "selected": False,
                "ablation": params.get("ablation", ""),
                "value": params.get("value", ""),
                "protocol": protocol_of(r["kind"], doc),
            }
        )
    return rows


def _flat_row(path: Path, doc: dict) -> list[dict]:
    m, params = doc["metrics"], doc.get("params") or {}
    if "sts_avg_spearman" not in m:
        return []
    row = {s: round(m[f"sts_{s}_spearman"], 2) for s in (*EVAL_SETS, "avg")}
    stage = params.get("stage") or ("primed" if "method" in params else "eval")
    return [
        {
            "run": params.get("name") or path.parent.name,
            "source": str(path.parent),
            "kind": params.get("kind", "bi"),
            "stage": stage,
            "cycle": np.nan,
            "member": "model",
            "dev": None,
            **row,
            "selected": False,
            "ablation": "",
            "value": "",
            "protocol": protocol_of(params.get("kind", "bi"), doc),
        }
    ]


def _metrics_docs(roots: list[str | Path] | str):
    """(path, document) of every readable metrics.json under ``roots`` (a list or a comma-separated string)."""
    if isinstance(roots, (str, Path)):
        roots = [r for r in str(roots).split(",") if r]
    for root in roots:
        for path in sorted(Path(root).rglob("metrics.json")):
            try:
                doc = json.loads(path.read_text())
            except (json.JSONDecodeError, OSError):
                continue  # written atomically, so only a foreign file can be unreadable
            if isinstance(doc, dict):
                yield path, doc


def collect(roots: list[str | Path] | str) -> pd.DataFrame:
    """Every STS result under ``roots`` (folders searched recursively for metrics.json)."""
    rows = []
    for path, doc in _metrics_docs(roots):
        if "metrics" not in doc:
            continue
        if isinstance(doc["metrics"], list):
            rows += _distill_rows(path, doc)
        elif isinstance(doc["metrics"], dict):
            rows += _flat_row(path, doc)
    df = pd.DataFrame(rows)
    if df.empty:
        return pd.DataFrame(columns=COLUMNS + ["source", "cycle", "selected", "ablation", "value", "protocol"])
    # one run can be visible twice (a notebook run folder and the CLI's): keep the first source
    df = df.drop_duplicates(subset=["run", "kind", "stage", "member"], keep="first").reset_index(drop=True)
    return paper_selection(df)


def keep_earlier(df: pd.DataFrame, earlier: str | Path, key: str = "run") -> pd.DataFrame:
    """``df`` plus the rows of an earlier table (a cycles.csv or prime_search.csv this module wrote)
    whose ``key`` (run name) ``df`` lacks: runs made on another machine keep their rows in a rebuild.

    A run found under the roots replaces all of its earlier rows, in place; new runs come after, so a
    rebuild's diff shows only what changed. A missing file keeps nothing. The cost: a run deleted
    everywhere stays in the table until its rows are removed from the file.

        df = tables.keep_earlier(tables.collect("papermill_runs,runs"), "results/cycles.csv")
    """
    path = Path(earlier)
    if not path.is_file():
        return df
    old = pd.read_csv(path, dtype={"run": str, "ablation": str, "value": str})
    for col in ("ablation", "value", "member", "stage"):
        if col in old:
            old[col] = old[col].fillna("")
    if "source" in df and len(old):
        old["source"] = str(path)
    if len(old) and "kind" in old and "protocol" not in old:  # written before protocols were recorded
        old["protocol"] = old["kind"].map(protocol_of)
    fresh = set(df[key]) if len(df) else set()
    parts, placed = [], set()
    for run, rows in old.groupby(key, sort=False):  # earlier order; a fresh run takes its old place
        if run in fresh:
            parts.append(df[df[key] == run])
            placed.add(run)
        else:
            parts.append(rows)
    parts.append(df[~df[key].isin(placed)] if len(df) else df)
    parts = [p for p in parts if len(p)]
    return paper_selection(pd.concat(parts, ignore_index=True)) if parts else df


def cycles_csv(df: pd.DataFrame) -> str:
    """``collect``'s frame as results/cycles.csv text (no source paths; what `keep_earlier` reads back)."""
    return (
        df.drop(columns=["source"])
        .astype({"cycle": "Int64", "dev": "float64"})
        .to_csv(index=False, float_format="%.2f")
    )


def main_table(df: pd.DataFrame) -> pd.DataFrame:
    """The paper's layout: per run, start then every cycle, bi and cross (ensembles and members)."""
    if df.empty:
        return df
    d = df[df["ablation"].fillna("") == ""].copy()
    d["_order"] = d["stage"].map(
        lambda s: (
            -1
            if s in ("packaged", "raw", "eval", "primed", "start")
            else int(s.split()[-1])
            if s.startswith("cycle")
            else 99
        )
    )
    d = d.sort_values(["run", "_order", "kind", "member"], kind="stable")
    d["model"] = d.apply(
        lambda r: r["run"] + ("" if r["member"] in ("model", "ensemble") else f" [{r['member']}]"), axis=1
    )
    return d[["model", "kind", "stage", *EVAL_SETS, "avg", "dev", "selected", "protocol"]].reset_index(drop=True)


def ablation_tables(df: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """One table per ablation: each value's start, then for bi and cross the 7-task average of the
    last cycle (what the setting trains) and of the cycle STS-B dev selects (the start when no cycle
    beats it on dev). No column picks a cycle by its test score."""
    from .config import ABLATIONS

    def order(known):  # the order of tenc.config.ABLATIONS (pool sizes 1000 < 4000 < 16000 < all), others last
        return lambda key: (known.index(key) if key in known else len(known), str(key))

    out = {}
    d = df[df["ablation"].fillna("") != ""]
    for name in sorted(d["ablation"].unique(), key=order(list(ABLATIONS))):
        sub = d[d["ablation"] == name]
        rows = []
        values = list(ABLATIONS[name][0]) if name in ABLATIONS else []
        for value in sorted(sub["value"].unique(), key=order(values)):
            runs = sub[sub["value"] == value]
            start = runs[runs["stage"] == "start"]["avg"]
            row = {"ablation": name, "value": value, "start": start.iloc[0] if len(start) else np.nan}
            for kind in ("bi", "cross"):
                trained = runs[(runs["kind"] == kind) & (runs["stage"] != "start")].sort_values("cycle")
                row[f"last {kind}"] = trained["avg"].iloc[-1] if len(trained) else np.nan
            for kind in ("bi", "cross"):
                sel = runs[(runs["kind"] == kind) & runs["selected"]]
                row[f"selected {kind}"] = sel["avg"].iloc[0] if len(sel) else np.nan
            rows.append(row)
        out[name] = pd.DataFrame(rows)
    return out


PRIME_SETTINGS = [
    "layers",
    "method",
    "pooling",
    "lr",
    "steps",
    "batch_size",
    "length_buckets",
    "span",
    "mlp",
    "dev_select",
]


def priming_table(roots: list[str | Path] | str) -> pd.DataFrame:
    """One row per priming run (10_prime / ``tenc prime``): its settings, speed, collapse, dev and 7-set row."""

    rows = []
    for path, doc in _metrics_docs(roots):
        params, stats = doc.get("params") or {}, doc.get("train") or {}
        if "method" not in params or not isinstance(stats, dict):
            continue
        dev = dict((int(s), v) for s, v in stats.get("dev") or [])
        rows.append(
            {
                "run": path.parent.name,
                "model": params.get("model"),
                **{k: params.get(k, getattr(PrimeConfig, k)) for k in PRIME_SETTINGS},
                "sent/s": stats.get("sentences_per_second"),
                "padding": stats.get("padding_fraction"),
                "collapse": stats.get("collapse_after"),
                "best step": stats.get("best_step"),
                "dev": dev.get(stats.get("best_step"), max(dev.values(), default=np.nan)),
                **(doc.get("row") or {}),
            }
        )
    df = pd.DataFrame(rows)
    return df.drop_duplicates(subset=["run"], keep="first").reset_index(drop=True) if len(df) else df


def _cell(v) -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return ""
    if isinstance(v, float):
        return f"{v:.0e}" if 0 < abs(v) < 0.01 else f"{v:.2f}"
    return str(v)


def markdown(table: pd.DataFrame) -> str:
    if table.empty:
        return "(no results yet)"
    head = "| " + " | ".join(map(str, table.columns)) + " |"
    lines = [head, "|" + "---|" * len(table.columns)]
    for _, r in table.iterrows():
        cells = [_cell(v) for v in r]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


# -- the paper's layout ----------------------------------------------------------------------------


def board_row(board: pd.DataFrame, row: dict) -> pd.Series | None:
    """The scoreboard row a spec row names by ``model``, ``kind`` and ``stage``, or None (not run)."""
    hit = board[(board["model"] == row["model"]) & (board["kind"] == row["kind"]) & (board["stage"] == row["stage"])]
    return hit.iloc[0] if len(hit) else None


def binary_table(tasks_board: pd.DataFrame, spec: dict) -> str:
    """The binary-task part of results/paper_table.md: per entry of ``spec["binary"]`` (``{name, task,
    rows: [{label, model, kind, stage}]}``) the dev and test ROC-AUC x 100 of each named row of the task
    table (results/tasks.csv); a row it lacks is shown as not run."""
    lines = []
    for track in spec.get("binary", []):
        test = f"{track['task']}-test"
        lines += [f"### {track['name']}", "", f"|  | dev | {test} |", "|---|---|---|"]
        for row in track["rows"]:
            hit = board_row(tasks_board[tasks_board["task"] == track["task"]], row)
            cells = ["not run", ""] if hit is None else [f"{hit['dev']:.2f}", f"{hit[test]:.2f}"]
            lines.append("| " + " | ".join([row["label"], *cells]) + " |")
        lines.append("")
    return "\n".join(lines)


def paper_table(board: pd.DataFrame, spec: dict) -> str:
    """results/paper_table.md: per track, the rows ``spec`` names from the scoreboard (results/sts.csv)
    in the paper's layout (seven sets and their mean), then the published reference rows.

    ``spec`` (params/paper_table.yaml): ``tracks``: a list of ``{name, rows: [{label, model, kind,
    stage}]}``, and ``published``: a list of ``{label, <set>: value, avg: value}`` copied from PAPER.md.
    A row the scoreboard lacks is shown as not run, never dropped. Each row names its seed and whether the
    run's selection rule picked it (``no``: a cycle dev did not pick, quoted only as a test oracle)."""
    head = ["", *EVAL_SETS, "avg", "protocol", "seed", "selected"]
    lines = []
    for track in spec.get("tracks", []):
        lines += [f"### {track['name']}", "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for row in track["rows"]:
            r = board_row(board, row)
            if r is None:
                cells = ["not run"] + [""] * (len(head) - 2)
            else:
                cells = [f"{r[c]:.2f}" for c in (*EVAL_SETS, "avg")] + [
                    _cell(r.get(c)) for c in ("protocol", "seed", "selected")
                ]
            lines.append("| " + " | ".join([row["label"], *cells]) + " |")
        lines.append("")
    if spec.get("published"):
        published = head[: len(EVAL_SETS) + 2]
        lines += ["### Published (PAPER.md)", "", "| " + " | ".join(published) + " |", "|" + "---|" * len(published)]
        for row in spec["published"]:
            cells = [
                f"{v:.2f}" if isinstance(v, (int, float)) else str(v)
                for v in (row.get(c, "") for c in (*EVAL_SETS, "avg"))
            ]
            lines.append("| " + " | ".join([row["label"], *cells]) + " |")
        lines.append("")
    return "\n".join(lines)


def format_paper_table(rows: list[tuple[str, pd.DataFrame]]) -> str:
    """The paper's layout: one line per model, 7 sets + avg (Spearman x 100, "all" setting)."""
    cols = list(EVAL_SETS) + ["avg"]
    return markdown(
        pd.DataFrame(
            [{"model": name, **{c: evaluation.paper_row(t).get(c) for c in cols}} for name, t in rows],
            columns=["model"] + cols,
        )
    )
