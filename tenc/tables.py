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

from . import selection
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
    for (run, kind, member), sub in df[df["cycle"].notna()].groupby(["run", "kind", "member"], sort=False):
        if member not in ("model", "ensemble"):
            continue
        rows = [{"cycle": int(r.cycle), "kind": kind, "member": member,
                 "dev": None if pd.isna(r.dev) else float(r.dev)} for r in sub.itertuples()]
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
        rows.append({"run": name, "source": str(path.parent), "kind": r["kind"],
                     "stage": "start" if r["cycle"] == 0 else f"cycle {r['cycle']}", "cycle": r["cycle"],
                     "member": r.get("member", "model"), "dev": r.get("dev"),
                     **{k: r.get(k) for k in (*EVAL_SETS, "avg")},
                     "selected": False, "ablation": params.get("ablation", ""), "value": params.get("value", ""),
                     "protocol": protocol_of(r["kind"], doc)})
    return rows


def _flat_row(path: Path, doc: dict) -> list[dict]:
    m, params = doc["metrics"], doc.get("params") or {}
    if "sts_avg_spearman" not in m:
        return []
    row = {s: round(m[f"sts_{s}_spearman"], 2) for s in (*EVAL_SETS, "avg")}
    stage = params.get("stage") or ("primed" if "method" in params else "eval")
    return [{"run": params.get("name") or path.parent.name, "source": str(path.parent),
             "kind": params.get("kind", "bi"), "stage": stage, "cycle": np.nan, "member": "model",
             "dev": None, **row, "selected": False, "ablation": "", "value": "",
             "protocol": protocol_of(params.get("kind", "bi"), doc)}]


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
    return df.drop(columns=["source"]).astype({"cycle": "Int64", "dev": "float64"}).to_csv(index=False, float_format="%.2f")


def main_table(df: pd.DataFrame) -> pd.DataFrame:
    """The paper's layout: per run, start then every cycle, bi and cross (ensembles and members)."""
    if df.empty:
        return df
    d = df[df["ablation"].fillna("") == ""].copy()
    d["_order"] = d["stage"].map(lambda s: -1 if s in ("packaged", "raw", "eval", "primed", "start")
                                 else int(s.split()[-1]) if s.startswith("cycle") else 99)
    d = d.sort_values(["run", "_order", "kind", "member"], kind="stable")
    d["model"] = d.apply(lambda r: r["run"] + ("" if r["member"] in ("model", "ensemble") else f" [{r['member']}]"),
                         axis=1)
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


PRIME_SETTINGS = ["layers", "method", "pooling", "lr", "steps", "batch_size", "length_buckets", "span", "mlp", "dev_select"]


def priming_table(roots: list[str | Path] | str) -> pd.DataFrame:
    """One row per priming run (10_prime / ``tenc prime``): its settings, speed, collapse, dev and 7-set row."""
    from .prime import PrimeConfig  # settings added later: older runs used the default

    rows = []
    for path, doc in _metrics_docs(roots):
        params, stats = doc.get("params") or {}, doc.get("train") or {}
        if "method" not in params or not isinstance(stats, dict):
            continue
        dev = dict((int(s), v) for s, v in stats.get("dev") or [])
        rows.append({"run": path.parent.name, "model": params.get("model"),
                     **{k: params.get(k, getattr(PrimeConfig, k)) for k in PRIME_SETTINGS},
                     "sent/s": stats.get("sentences_per_second"), "padding": stats.get("padding_fraction"),
                     "collapse": stats.get("collapse_after"), "best step": stats.get("best_step"),
                     "dev": dev.get(stats.get("best_step"), max(dev.values(), default=np.nan)),
                     **(doc.get("row") or {})})
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


# -- figures ---------------------------------------------------------------------------------------

FLOOR = -12.0  # figures of gains: a collapsed student (e.g. -64) would flatten every other difference


def cycles_figure(df: pd.DataFrame):
    """Change of the 7-task average from each run's start, per cycle, bi and cross: one panel per
    distillation run, four a row, one y scale for all (a +0.2 looks like a +0.2 everywhere); values
    under `FLOOR` are drawn on it with their value written."""
    from matplotlib.figure import Figure

    runs = [r for r in dict.fromkeys(df.loc[df["cycle"].notna() & (df["ablation"].fillna("") == ""), "run"])]
    cols = min(4, max(len(runs), 1))
    rows = -(-max(len(runs), 1) // cols)
    fig = Figure(figsize=(3.1 * cols, 2.5 * rows + 0.4), layout="constrained")
    axes, lo, hi = [], 0.0, 0.0
    for i, run in enumerate(runs):
        ax = fig.add_subplot(rows, cols, i + 1, sharey=axes[0] if axes else None)
        axes.append(ax)
        sub = df[(df["run"] == run) & df["member"].isin(["model", "ensemble"])]
        start = sub[(sub["cycle"] == 0) & (sub["kind"] == "bi")]["avg"]
        base = float(start.iloc[0]) if len(start) else np.nan
        for kind, marker in (("bi", "o"), ("cross", "s")):
            k = sub[sub["kind"] == kind].sort_values("cycle")
            delta = k["avg"] - base
            shown = delta.clip(lower=FLOOR)  # a collapsed student sits on the floor, its value written beside it
            ax.plot(k["cycle"], shown, marker=marker, label=kind)
            for c, d in zip(k["cycle"], delta):
                if d < FLOOR:
                    ax.annotate(f"{d:+.1f}", (c, FLOOR), textcoords="offset points", xytext=(0, 5), ha="center", fontsize=7)
            lo, hi = min(lo, shown.min()), max(hi, shown.max())
        ax.axhline(0, color="0.4", ls=":", lw=0.8)
        ax.set_title("\n".join(_wrap(run, 34)) + f"\nstart {base:.2f}", fontsize=8)
        ax.set_xticks(sorted(sub["cycle"].dropna().unique()))
        ax.tick_params(labelsize=7)
        if i % cols == 0:
            ax.set_ylabel("7-task avg − start", fontsize=8)
    if axes:
        pad = 0.05 * (hi - lo or 1)
        axes[0].set_ylim(lo - pad, hi + pad)
        fig.legend(*axes[0].get_legend_handles_labels(), loc="outside upper center", ncols=2, fontsize=8)
    return fig


def _wrap(text: str, width: int) -> list[str]:
    import textwrap

    return textwrap.wrap(text, width) or [""]


def gains_figure(board: pd.DataFrame, spec: dict, reference: dict | None = None):
    """The README's figure: per track of ``spec`` (params/paper_table.yaml), each trained row's 7-task
    average minus the track's start, as bars on one shared scale, with the paper's BERT-base gains
    (``reference``: {"bi": …, "cross": …}) as lines. Rows the scoreboard lacks are left out."""
    from matplotlib.figure import Figure

    tracks = spec.get("tracks", [])
    fig = Figure(figsize=(5.2 * max(len(tracks), 1), 3.6), layout="constrained")
    axes = []
    for i, track in enumerate(tracks):
        ax = fig.add_subplot(1, len(tracks), i + 1, sharey=axes[0] if axes else None)
        axes.append(ax)
        found = []
        for row in track["rows"]:
            hit = board[(board["model"] == row["model"]) & (board["kind"] == row["kind"]) & (board["stage"] == row["stage"])]
            if len(hit):
                found.append((row, float(hit["avg"].iloc[0])))
        if not found:
            continue
        start, rest = found[0][1], found[1:]
        colors = {"bi": "tab:blue", "cross": "tab:orange"}
        x = np.arange(len(rest))
        gains = np.array([v - start for _, v in rest])
        bars = ax.bar(x, np.clip(gains, FLOOR, None), color=[colors[r["kind"]] for r, _ in rest])
        ax.bar_label(bars, [f"{g:+.2f}" + (" (cut)" if g < FLOOR else "") for g in gains], fontsize=7, padding=1)
        ax.axhline(0, color="0.3", lw=0.8)
        for kind, gain in (reference or {}).items():
            ax.axhline(gain, color=colors[kind], ls="--", lw=0.9, label=f"paper, BERT-base {kind}: {gain:+.2f}")
        ax.set_xticks(x, ["\n".join(_wrap(r["label"].replace("Trans-Encoder ", ""), 22)) for r, _ in rest], fontsize=6.5)
        ax.set_title("\n".join(_wrap(track["name"], 60)) + f"\nstart {start:.2f}", fontsize=8)
        if i == 0:
            ax.set_ylabel("7-task avg − start (points)", fontsize=8)
        ax.tick_params(axis="y", labelsize=7)
        ax.legend(fontsize=6.5, loc="lower left")
    if axes:
        axes[0].set_ylim(FLOOR - 1, max(8.0, max(abs(bar.get_height()) for a in axes for bar in a.patches) + 1.5))
    return fig


def scatter_figure(run_dir: str | Path):
    """Bi vs cross score on the test pairs per cycle, coloured by the gold score (saved predictions)."""
    from matplotlib.figure import Figure

    run_dir = Path(run_dir)
    cycles = sorted((p for p in run_dir.glob("cycle_*") if (p / "preds_bi_model.csv").is_file()
                     and (p / "preds_cross_model.csv").is_file()), key=lambda p: int(p.name.split("_")[1]))
    fig = Figure(figsize=(3.2 * max(len(cycles), 1), 3.0), layout="constrained")
    for i, c in enumerate(cycles):
        bi = pd.read_csv(c / "preds_bi_model.csv", keep_default_na=False)
        cross = pd.read_csv(c / "preds_cross_model.csv", keep_default_na=False)
        ax = fig.add_subplot(1, len(cycles), i + 1)
        gold = pd.to_numeric(bi["score"], errors="coerce")
        sc = ax.scatter(bi["pred"], cross["pred"], c=gold, s=2, cmap="viridis", alpha=0.5, rasterized=True)
        ax.set(title=f"{run_dir.name} {c.name}", xlabel="bi cosine", ylabel="cross score" if i == 0 else None)
        if i == len(cycles) - 1:
            fig.colorbar(sc, ax=ax, label="gold")
    return fig


def ablation_figure(tables: dict[str, pd.DataFrame]):
    """Bars of the last cycle's bi and cross average per ablation value, each value's start a line over them.

    Four panels a row, in the order of ``tenc.config.ABLATIONS``; one y axis for all, spanning the bars
    and the start (the values differ by a point or two, which bars from zero would hide); every bar is
    labelled with its value, and one far below the rest shows its value on the floor instead.
    """
    from matplotlib.figure import Figure

    cols = min(4, max(len(tables), 1))
    rows = -(-max(len(tables), 1) // cols)
    fig = Figure(figsize=(3.2 * cols, 2.6 * rows), layout="constrained")
    shown = pd.concat([t[c] for t in tables.values() for c in ("last bi", "last cross", "start")]).dropna()
    # the floor: 2 under the lowest value, but no lower than 15 under the median, so one collapsed student
    # (pool_size=1000's cross at 6.77) does not flatten every other panel's 1-2 point differences
    lo = max(shown.min(), shown.median() - 15) - 2 if len(shown) else 0
    for i, (name, t) in enumerate(tables.items()):
        ax = fig.add_subplot(rows, cols, i + 1)
        x = np.arange(len(t))
        for dx, kind in ((-0.2, "bi"), (0.2, "cross")):
            v = t[f"last {kind}"]
            bars = ax.bar(x + dx, v, 0.4, label=kind)
            ax.bar_label(bars, [f"{b:.1f}" if b >= lo else "" for b in v], fontsize=6, padding=1)  # NaN: none
            for xi, b in zip(x + dx, v):
                if b < lo:  # below the floor: its bar is out of sight, so its value sits on the axis
                    ax.text(xi, lo, f"{b:.1f}\n(below)", ha="center", va="bottom", fontsize=6)
        has = t["start"].notna().to_numpy()
        if has.any():  # each value's own start over its bars: pooling=cls starts from a cls-pooled model
            ax.hlines(t["start"][has], x[has] - 0.45, x[has] + 0.45, color="0.3", ls="--", lw=0.8, label="start")
        if len(shown):  # one scale for every panel: the ablations compare with each other
            ax.set_ylim(lo, shown.max() + 2)
        ax.set_xticks(x, [str(v) for v in t["value"]], fontsize=7)
        ax.set(title=name, ylabel="7-task avg" if i % cols == 0 else None)
    if tables:  # one legend above the panels, clear of the bars and the start line
        fig.legend(*fig.axes[0].get_legend_handles_labels(), loc="outside upper center", ncols=3, fontsize=7)
    return fig


# -- the paper's layout ----------------------------------------------------------------------------

def paper_table(board: pd.DataFrame, spec: dict) -> str:
    """results/paper_table.md: per track, the rows ``spec`` names from the scoreboard (results/sts.csv)
    in the paper's layout (seven sets and their mean), then the published reference rows.

    ``spec`` (params/paper_table.yaml): ``tracks``: a list of ``{name, rows: [{label, model, kind,
    stage}]}``, and ``published``: a list of ``{label, <set>: value, avg: value}`` copied from PAPER.md.
    A row the scoreboard lacks is shown as not run, never dropped."""
    head = ["", *EVAL_SETS, "avg", "protocol"]
    lines = []
    for track in spec.get("tracks", []):
        lines += [f"### {track['name']}", "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for row in track["rows"]:
            hit = board[(board["model"] == row["model"]) & (board["kind"] == row["kind"])
                        & (board["stage"] == row["stage"])]
            if hit.empty:
                cells = ["not run"] + [""] * (len(head) - 2)
            else:
                r = hit.iloc[0]
                cells = [f"{r[c]:.2f}" for c in (*EVAL_SETS, "avg")] + [str(r.get("protocol", ""))]
            lines.append("| " + " | ".join([row["label"], *cells]) + " |")
        lines.append("")
    if spec.get("published"):
        lines += ["### Published (PAPER.md)", "", "| " + " | ".join(head[:-1]) + " |", "|" + "---|" * (len(head) - 1)]
        for row in spec["published"]:
            cells = [f"{v:.2f}" if isinstance(v, (int, float)) else str(v) for v in (row.get(c, "") for c in (*EVAL_SETS, "avg"))]
            lines.append("| " + " | ".join([row["label"], *cells]) + " |")
        lines.append("")
    return "\n".join(lines)
