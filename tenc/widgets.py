"""PairInspector: an ipywidgets tool for looking at what the encoders learned, pair by pair.

Give it pairs (``sentence1``, ``sentence2``, optional gold ``score``, ``dataset``, ``subset``) and any
number of score columns (one per model or per cycle); it lists the pairs with each model's score and
rank, filters by dataset and text, sorts by disagreement, shows a pair's score trajectory across
cycles, scores typed sentences live with loaded encoders, and hands the current rows back as
``inspector.selected``. Scores come from saved predictions, so opening it never retrains.

Example (in JupyterLab)::

    from tenc.widgets import PairInspector
    insp = PairInspector.from_run("runs/quick-minilm-l6")
    insp            # displays the widget
    insp.selected   # the rows currently shown, as a DataFrame
"""

from __future__ import annotations

import html
import io
import re
from pathlib import Path

import ipywidgets as W
import numpy as np
import pandas as pd

from .runfolder import Layout

SORTS = {
    "index": "pair order",
    "bi_vs_cross": "|bi - cross| (rank)",
    "model_vs_gold": "|model - gold| (rank)",
    "score": "model score",
}


class PairInspector(W.VBox):
    """Browse pairs and model scores; see the module docstring."""

    def __init__(
        self,
        pairs: pd.DataFrame,
        scores: dict[str, np.ndarray],
        bi: str | None = None,
        cross: str | None = None,
        trajectories: list[str] | None = None,
        live_bi=None,
        live_cross=None,
        page: int = 20,
    ):
        missing = {"sentence1", "sentence2"} - set(pairs.columns)
        if missing:
            raise ValueError(f"pairs lack column(s) {sorted(missing)}")
        for name, values in scores.items():
            if len(values) != len(pairs):
                raise ValueError(f"scores {name!r} have {len(values)} values for {len(pairs)} pairs")
        self.frame = pairs.reset_index(drop=True).copy()
        if "dataset" not in self.frame:
            self.frame["dataset"] = "pairs"
        self.models = list(scores)
        for name, values in scores.items():
            self.frame[name] = np.asarray(values, dtype=float)
            self.frame[f"rank:{name}"] = self.frame[name].rank(pct=True)
        if "score" in self.frame:
            self.frame["rank:gold"] = self.frame["score"].rank(pct=True)
        self.bi, self.cross = (
            bi or next((m for m in self.models if "bi" in m), None),
            cross or next((m for m in self.models if "cross" in m), None),
        )
        self.trajectories = trajectories or self.models
        self.live_bi, self.live_cross = live_bi, live_cross

        self.dataset = W.Dropdown(options=["all"] + sorted(self.frame["dataset"].unique()), description="dataset")
        self.search = W.Text(placeholder="words in either sentence", description="search")
        self.sort = W.Dropdown(options=[(v, k) for k, v in SORTS.items()], value="index", description="sort by")
        self.model = W.Dropdown(options=self.models, description="model")
        self.page = W.BoundedIntText(value=page, min=1, max=500, description="rows")
        self.table = W.HTML()
        self.pick = W.Dropdown(options=[], description="pair")
        self.detail = W.HTML()
        self.plot = W.Image(format="png", layout=W.Layout(width="360px"))
        self.s1, self.s2 = W.Text(description="sentence 1"), W.Text(description="sentence 2")
        self.score_button = W.Button(description="score", button_style="primary")
        self.live = W.HTML()
        for w in (self.dataset, self.search, self.sort, self.model, self.page):
            w.observe(lambda _: self.refresh(), names="value")
        self.pick.observe(lambda _: self.show_pair(), names="value")
        self.score_button.on_click(lambda _: self.score_live())
        super().__init__(
            [
                W.HBox([self.dataset, self.search]),
                W.HBox([self.sort, self.model, self.page]),
                self.table,
                self.pick,
                W.HBox([self.detail, self.plot]),
                W.HTML("<b>score your own pair</b>"),
                W.HBox([self.s1, self.s2, self.score_button]),
                self.live,
            ]
        )
        self.add_class("tenc-inspector")  # CSS hooks for the browser test
        self.table.add_class("tenc-table")
        for name in ("dataset", "search", "sort", "model", "page", "pick", "s1", "s2", "plot"):
            getattr(self, name).add_class(f"tenc-{name}")
        self.refresh()

    # -- constructors ------------------------------------------------------------------------------
    @classmethod
    def from_run(cls, run_dir: str | Path, data: str | None = None, live: bool = False, **kw) -> PairInspector:
        """Open a distillation run's saved test predictions (every cycle, bi and cross); never retrains."""
        run_dir = Path(run_dir)
        files = _prediction_files(run_dir)
        base, scores = None, {}
        for path in sorted(files, key=_cycle_key):
            df = pd.read_csv(path, keep_default_na=False)
            kind, member = re.match(r"preds_(bi|cross)_(\w+)\.csv", path.name).groups()
            name = f"{path.parent.name}:{kind}" + ("" if member in ("model", "ensemble") else f":{member}")
            if base is None:
                base = df.drop(columns=["pred"])
                if "sentence1" not in base:
                    base = _with_sentences(base, data)
            scores[name] = df["pred"].to_numpy()
        last = lambda kind: next((n for n in reversed(list(scores)) if n.endswith(f":{kind}")), None)
        live_bi = live_cross = None
        if live:
            from . import models

            bi_dir, cross_dir = _selected_dir(run_dir, "bi"), _selected_dir(run_dir, "cross")
            live_bi = models.bi_encoder(str(bi_dir)) if bi_dir else None
            live_cross = models.cross_encoder(str(cross_dir)) if cross_dir else None
        return cls(base, scores, bi=last("bi"), cross=last("cross"), live_bi=live_bi, live_cross=live_cross, **kw)

    # -- state -------------------------------------------------------------------------------------
    @property
    def selected(self) -> pd.DataFrame:
        """The rows currently listed (after filters, sort and row limit)."""
        return self._view().head(self.page.value).copy()

    def _view(self) -> pd.DataFrame:
        df = self.frame
        if self.dataset.value != "all":
            df = df[df["dataset"] == self.dataset.value]
        words = self.search.value.strip().lower()
        if words:
            text = (df["sentence1"] + " " + df["sentence2"]).str.lower()
            for w in words.split():
                df = df[text.loc[df.index].str.contains(re.escape(w))]
        key = self.sort.value
        if key == "bi_vs_cross" and self.bi and self.cross:
            df = df.assign(_k=(df[f"rank:{self.bi}"] - df[f"rank:{self.cross}"]).abs()).sort_values(
                "_k", ascending=False
            )
        elif key == "model_vs_gold" and "rank:gold" in df:
            df = df.assign(_k=(df[f"rank:{self.model.value}"] - df["rank:gold"]).abs()).sort_values(
                "_k", ascending=False
            )
        elif key == "score":
            df = df.sort_values(self.model.value, ascending=False)
        return df.drop(columns=["_k"], errors="ignore")

    # -- rendering ---------------------------------------------------------------------------------
    def refresh(self) -> None:
        view = self.selected
        cols = ["dataset", "sentence1", "sentence2"] + (["score"] if "score" in view else []) + self.models
        head = "".join(f"<th>{html.escape(c)}</th>" for c in cols)
        rows = []
        for i, r in view.iterrows():
            cells = []
            for c in cols:
                v = r[c]
                if c in self.models:
                    cells.append(f"<td>{v:.3f} <small>({r[f'rank:{c}']:.0%})</small></td>")
                elif isinstance(v, float):
                    cells.append(f"<td>{v:.2f}</td>")
                else:
                    cells.append(f"<td>{html.escape(str(v))[:120]}</td>")
            rows.append(f"<tr><td>{i}</td>{''.join(cells)}</tr>")
        self.table.value = (
            f"<p>{len(self._view())} pairs match; showing {len(view)}</p>"
            f"<table><tr><th>#</th>{head}</tr>{''.join(rows)}</table>"
        )
        self.pick.options = [(f"#{i}: {r['sentence1'][:50]}", int(i)) for i, r in view.iterrows()]

    def show_pair(self) -> None:
        i = self.pick.value
        if i is None:
            return
        r = self.frame.loc[i]
        gold = f"<br>gold {r['score']:.2f}" if "score" in r else ""
        scores = "".join(f"<li>{html.escape(m)}: {r[m]:.3f}</li>" for m in self.models)
        self.detail.value = (
            f"<p><b>1</b> {html.escape(r['sentence1'])}<br><b>2</b> {html.escape(r['sentence2'])}"
            f"{gold}</p><ul>{scores}</ul>"
        )
        buf = io.BytesIO()
        self.trajectory_figure(i).savefig(buf, format="png", dpi=100)  # a PNG renders in every front end
        self.plot.value = buf.getvalue()

    def trajectory_figure(self, i: int):
        from matplotlib.figure import Figure

        fig = Figure(figsize=(3.6, 2.2), layout="constrained")
        ax = fig.add_subplot()
        r = self.frame.loc[i]
        stages = list(dict.fromkeys(m.split(":")[0] for m in self.trajectories))  # start, cycle_1, ...
        for kind in ("bi", "cross"):
            names = [m for m in self.trajectories if m.endswith(f":{kind}")]
            if names:
                ax.plot([stages.index(m.split(":")[0]) for m in names], [r[m] for m in names], marker="o", label=kind)
        ax.set_xticks(range(len(stages)), stages, fontsize=7)
        if "score" in r:
            ax.axhline(r["score"] / 5, color="0.4", ls="--", lw=0.8, label="gold / 5")
        ax.set_ylabel("score")
        ax.legend(fontsize=7)
        return fig

    def score_live(self) -> None:
        a, b = self.s1.value.strip(), self.s2.value.strip()
        if not a or not b:
            self.live.value = "<i>type two sentences</i>"
            return
        from . import encode

        parts = []
        if self.live_bi is not None:
            parts.append(f"bi cosine {encode.pair_cosines(self.live_bi, [a], [b])[0]:.3f}")
        if self.live_cross is not None:
            parts.append(f"cross score {encode.cross_scores(self.live_cross, [a], [b])[0]:.3f}")
        self.live.value = ", ".join(parts) or "<i>no live models loaded (use live=True)</i>"


def _prediction_files(run_dir: Path) -> list[Path]:
    """A run's saved per-pair predictions, or a one-line reason there are none."""
    if not run_dir.is_dir():
        raise FileNotFoundError(
            f"{run_dir}: no such run folder; `make run` writes papermill_runs/20_distill/main, "
            "`python -m tenc distill --out DIR` writes DIR"
        )
    files = sorted(run_dir.glob("*/preds_*_*.csv"))
    if not files:
        raise FileNotFoundError(
            f"{run_dir}: no saved predictions (preds_*.csv) yet: the run has not finished an evaluation; "
            "rerun its command (finished stages are skipped)"
        )
    return files


def _cycle_key(path: Path):
    name = path.parent.name
    return (0 if name == "start" else int(name.split("_")[-1]) if name.startswith("cycle_") else 99, path.name)


def _selected_dir(run_dir: Path, kind: str) -> Path | None:
    """The model the run selected (best/), or its last trained one when no selection is written yet."""
    best = Layout(run_dir).best_student(kind)
    return best if (best / "modules.json").is_file() else _last_dir(run_dir, kind)


def _last_dir(run_dir: Path, kind: str) -> Path | None:
    layout = Layout(run_dir)
    dirs = [layout.student(c, kind) for c in layout.cycles() if layout.student(c, kind).is_dir()]
    return dirs[-1] if dirs else None


def _with_sentences(preds: pd.DataFrame, data: str | None) -> pd.DataFrame:
    """Older prediction files kept no text: rebuild it from the evaluation sets (same row order)."""
    from . import data as tdata

    ev = tdata.eval_sets(tdata.load_sts(data))
    full = pd.concat([ev[n] for n in tdata.EVAL_SETS], ignore_index=True)
    if len(full) != len(preds):
        raise ValueError("saved predictions do not match the evaluation sets; pass the run's data folder")
    return full[["dataset", "subset", "sentence1", "sentence2", "score"]]
