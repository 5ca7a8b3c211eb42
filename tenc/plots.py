"""One function per figure: tidy data in, a ``matplotlib.figure.Figure`` out, no pyplot state.

Save with ``fig.savefig(path, metadata=FIXED)`` so a rebuild does not churn git.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from .runfolder import Layout
from .tables import board_row

FIXED = {"Software": None}  # PNG metadata without a version string; PDF/SVG: pass metadata per format


def length_histogram(sentences: list[str], tokenizer=None) -> Figure:
    """Histogram of word-piece lengths of ``sentences`` (MiniLM vocabulary by default), drawn by seaborn."""
    import seaborn as sns

    if tokenizer is None:
        from transformers import AutoTokenizer

        from .models import resolve

        tokenizer = AutoTokenizer.from_pretrained(resolve("minilm-l6"))
    lengths = np.array([len(x) for x in tokenizer(sentences, add_special_tokens=True)["input_ids"]])
    fig = Figure(figsize=(6, 3.2), layout="constrained")
    ax = fig.add_subplot()
    sns.histplot(x=lengths, bins=np.arange(0, min(lengths.max(), 128) + 2, 2), color="#4c72b0", ax=ax)
    for q in (50, 90, 99):
        v = np.percentile(lengths, q)
        ax.axvline(v, color="0.3", lw=0.8, ls="--")
        ax.text(v, ax.get_ylim()[1] * 0.92, f"p{q}={v:.0f}", fontsize=7, ha="left")
    ax.set(
        xlabel="tokens per sentence (with [CLS]/[SEP])",
        ylabel="sentences",
        title=f"{len(lengths)} unique pool sentences",
    )
    return fig


def training_curves(stages: dict[str, dict]) -> Figure:
    """One panel per training stage: its loss curve (``loss_curve``: step, mean loss) and, on a second axis,
    its dev checks (``dev``: step, score), the kept best step marked. ``stages`` maps a name to a stage's
    ``train`` record (`TrainStats.summary()`, as `stage_records` reads them from a run folder)."""
    fig = Figure(figsize=(4.2 * max(len(stages), 1), 3.0), layout="constrained")
    for i, (name, rec) in enumerate(stages.items()):
        ax = fig.add_subplot(1, max(len(stages), 1), i + 1)
        curve = rec.get("loss_curve") or []
        if curve:
            ax.plot(*zip(*curve), color="C0", lw=1.2, label="loss")
        elif rec.get("loss_first") is not None:  # stages trained before curves were kept: first and last only
            ax.plot([0, rec["steps"]], [rec["loss_first"], rec["loss_last"]], "o--", color="C0", label="loss (ends)")
        ax.set(title=name, xlabel="step", ylabel="training loss")
        if rec.get("dev"):
            dev = ax.twinx()
            dev.plot(*zip(*rec["dev"]), "s-", color="C1", ms=3, lw=1, label="dev")
            if rec.get("best_step"):
                best = dict(map(tuple, rec["dev"])).get(rec["best_step"])
                if best is not None:
                    dev.plot([rec["best_step"]], [best], "*", color="C3", ms=10, label="kept")
            dev.set_ylabel("dev score")
    return fig


def stage_records(run_dir: str | Path, cycle: int | None = None) -> dict[str, dict]:
    """The ``train`` records of a run's finished training stages (every cycle, or one), named "cycle k kind"."""
    from .io import read_marker

    layout = Layout(run_dir)
    out = {}
    for c in [cycle] if cycle is not None else layout.cycles():
        for marker in sorted(layout.cycle(c).glob("train_*.done.json")):
            stage = marker.name.removesuffix(".done.json")
            info = read_marker(layout.cycle(c), stage) or {}
            if "train" in info:
                out[f"cycle {c} {stage.removeprefix('train_')}"] = info["train"]
    return out


def label_distributions(run_dir: str | Path) -> Figure:
    """Pseudo-label histograms per cycle: bi cosines (teacher of cross) and cross scores (teacher of bi)."""
    layout = Layout(run_dir)
    fig = Figure(figsize=(6, 3.2), layout="constrained")
    ax = fig.add_subplot()
    bins = np.linspace(-0.2, 1.0, 49)
    for cycle in layout.cycles():
        for source, ls in (("bi", "-"), ("cross", "--")):
            if layout.labels(cycle, source).is_file():
                values = np.load(layout.labels(cycle, source))
                ax.hist(values, bins=bins, histtype="step", ls=ls, label=f"{layout.cycle(cycle).name} {source}")
    ax.set(xlabel="pseudo-label", ylabel="pairs", title="pseudo-labels per cycle")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7)
    return fig


# -- figures of results (tables built by tenc.tables) --------------------------------------------------

FLOOR = -12.0  # figures of gains: a collapsed student (e.g. -64) would flatten every other difference


# the cycles figure's tracks, in row order, and the name prefixes that put a run on one (the first that
# matches wins: "paper minilm-l6" is the adaptation track's full-pool run, not the paper track's)
TRACKS = ("paper track", "main job", "adaptation", "quick budget")
PREFIXES = (
    ("paper minilm", "adaptation"),
    ("paper", "paper track"),
    ("main", "main job"),
    ("adaptation", "adaptation"),
    ("quick", "quick budget"),
)


def track_of(run: str) -> str:
    """The track a run's name puts it on ("other" if none of `PREFIXES` matches)."""
    return next((name for prefix, name in PREFIXES if run.startswith(prefix)), "other")


def cycles_figure(df: pd.DataFrame):
    """Change of the 7-task average from each run's start, per cycle, bi and cross: one panel per
    distillation run, the runs of a track (`TRACKS`) together, each track starting a row of at most
    four, one y scale for all (a +0.2 looks like a +0.2 everywhere); values under `FLOOR` are drawn
    on it with their value written."""
    runs = list(dict.fromkeys(df.loc[df["cycle"].notna() & (df["ablation"].fillna("") == ""), "run"]))
    order = [*TRACKS, "other"]
    by_track = {t: [r for r in runs if track_of(r) == t] for t in order}
    places, row = [], 0  # (run, track, row, column): a track starts a new row
    for track, members in by_track.items():
        for j, run in enumerate(members):
            places.append((run, track, row + j // 4, j % 4))
        row += -(-len(members) // 4)
    cols = min(4, max([c for *_, c in places], default=0) + 1)
    rows = max(row, 1)
    fig = Figure(figsize=(3.1 * cols, 2.5 * rows + 0.4), layout="constrained")
    grid = fig.add_gridspec(rows, cols)
    axes, lo, hi = [], 0.0, 0.0
    for run, track, r, c in places:
        ax = fig.add_subplot(grid[r, c], sharey=axes[0] if axes else None)
        axes.append(ax)
        sub = df[(df["run"] == run) & df["member"].isin(["model", "ensemble"])]
        start = sub[(sub["cycle"] == 0) & (sub["kind"] == "bi")]["avg"]
        base = float(start.iloc[0]) if len(start) else np.nan
        for kind, marker in (("bi", "o"), ("cross", "s")):
            k = sub[sub["kind"] == kind].sort_values("cycle")
            delta = k["avg"] - base
            shown = delta.clip(lower=FLOOR)  # a collapsed student sits on the floor, its value written beside it
            ax.plot(k["cycle"], shown, marker=marker, label=kind)
            for x, d in zip(k["cycle"], delta):
                if d < FLOOR:
                    ax.annotate(
                        f"{d:+.1f}", (x, FLOOR), textcoords="offset points", xytext=(0, 5), ha="center", fontsize=7
                    )
            lo, hi = min(lo, shown.min()), max(hi, shown.max())
        ax.axhline(0, color="0.4", ls=":", lw=0.8)
        ax.set_title("\n".join(_wrap(run, 34)) + f"\nstart {base:.2f}", fontsize=8)
        ax.set_xticks(sorted(sub["cycle"].dropna().unique()))
        ax.tick_params(labelsize=7)
        if c == 0:
            ax.set_ylabel(f"{track}\n7-task avg − start", fontsize=8)
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
    average minus the track's start, as horizontal bars named by the table's labels, one panel a track
    (its height follows its row count), one shared scale, with the paper's BERT-base gains
    (``reference``: {"bi": …, "cross": …}) as dashed lines. Rows the scoreboard lacks, and rows marked
    ``reference: true`` (another model shown for comparison), are left out."""
    from matplotlib.figure import Figure

    panels = []
    for track in spec.get("tracks", []):
        hits = [(row, board_row(board, row)) for row in track["rows"] if not row.get("reference")]  # no gain to draw
        panels.append((track, [(row, float(hit["avg"])) for row, hit in hits if hit is not None]))
    sizes = [max(len(found) - 1, 1) for _, found in panels] or [1]
    fig = Figure(figsize=(9.0, 0.8 + 0.24 * sum(sizes) + 0.55 * len(sizes)), layout="constrained")
    grid = fig.add_gridspec(len(sizes), 1, height_ratios=sizes)
    colors = {"bi": "tab:blue", "cross": "tab:orange"}
    axes = []
    for i, (track, found) in enumerate(panels):
        ax = fig.add_subplot(grid[i, 0], sharex=axes[0] if axes else None)
        axes.append(ax)
        if not found:
            continue
        start, rest = found[0][1], found[1:]
        y = np.arange(len(rest))
        gains = np.array([v - start for _, v in rest])
        bars = ax.barh(y, np.clip(gains, FLOOR, None), color=[colors[r["kind"]] for r, _ in rest], height=0.7)
        ax.bar_label(bars, [f"{g:+.2f}" + (" (cut)" if g < FLOOR else "") for g in gains], fontsize=7, padding=2)
        ax.axvline(0, color="0.3", lw=0.8)
        for kind, gain in (reference or {}).items():
            ax.axvline(gain, color=colors[kind], ls="--", lw=0.9, label=f"paper, BERT-base {kind}: {gain:+.2f}")
        ax.set_yticks(y, ["\n".join(_wrap(r["label"].replace("Trans-Encoder ", ""), 75)) for r, _ in rest], fontsize=7)
        ax.invert_yaxis()  # the table's order, top to bottom
        ax.set_title(track["name"].split(":")[0] + f" (start {start:.2f})", fontsize=9, loc="left")
        ax.tick_params(axis="x", labelsize=7)
    if axes:
        handles, labels = axes[0].get_legend_handles_labels()
        if handles:  # under the panels, clear of every bar
            fig.legend(handles, labels, fontsize=7, loc="outside lower center", ncols=len(handles))
        axes[-1].set_xlabel("7-task avg − start (points)", fontsize=8)
        widths = [bar.get_width() for a in axes for bar in a.patches]
        cut = any(w <= FLOOR for w in widths)  # room on the left for a floored bar's "(cut)" label
        axes[0].set_xlim(FLOOR - (4.5 if cut else 1), max([8.0, *widths]) + 1.5)
    return fig


def scatter_figure(run_dir: str | Path):
    """Bi vs cross score on the test pairs per cycle, coloured by the gold score (saved predictions)."""
    from matplotlib.figure import Figure

    layout = Layout(run_dir)
    cycles = [c for c in layout.cycles() if layout.preds(c, "bi").is_file() and layout.preds(c, "cross").is_file()]
    fig = Figure(figsize=(3.2 * max(len(cycles), 1), 3.0), layout="constrained")
    for i, c in enumerate(cycles):
        bi = pd.read_csv(layout.preds(c, "bi"), keep_default_na=False)
        cross = pd.read_csv(layout.preds(c, "cross"), keep_default_na=False)
        ax = fig.add_subplot(1, len(cycles), i + 1)
        gold = pd.to_numeric(bi["score"], errors="coerce")
        sc = ax.scatter(bi["pred"], cross["pred"], c=gold, s=2, cmap="viridis", alpha=0.5, rasterized=True)
        ax.set(title=f"{layout.root.name} cycle {c}", xlabel="bi cosine", ylabel="cross score" if i == 0 else None)
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
