"""One function per figure: tidy data in, a ``matplotlib.figure.Figure`` out, no pyplot state.

Save with ``fig.savefig(path, metadata=FIXED)`` so a rebuild does not churn git.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

FIXED = {"Software": None}  # PNG metadata without a version string; PDF/SVG: pass metadata per format


def length_histogram(sentences: list[str], tokenizer=None) -> Figure:
    """Histogram of word-piece lengths of ``sentences`` (MiniLM vocabulary by default)."""
    if tokenizer is None:
        from transformers import AutoTokenizer

        from .models import resolve

        tokenizer = AutoTokenizer.from_pretrained(resolve("minilm-l6"))
    lengths = np.array([len(x) for x in tokenizer(sentences, add_special_tokens=True)["input_ids"]])
    fig = Figure(figsize=(6, 3.2), layout="constrained")
    ax = fig.add_subplot()
    ax.hist(lengths, bins=np.arange(0, min(lengths.max(), 128) + 2, 2), color="#4c72b0")
    for q in (50, 90, 99):
        v = np.percentile(lengths, q)
        ax.axvline(v, color="0.3", lw=0.8, ls="--")
        ax.text(v, ax.get_ylim()[1] * 0.92, f"p{q}={v:.0f}", fontsize=7, ha="left")
    ax.set(xlabel="tokens per sentence (with [CLS]/[SEP])", ylabel="sentences",
           title=f"{len(lengths)} unique pool sentences")
    return fig


def label_distributions(run_dir: str | Path) -> Figure:
    """Pseudo-label histograms per cycle: bi cosines (teacher of cross) and cross scores (teacher of bi)."""
    run_dir = Path(run_dir)
    cycles = sorted((p for p in run_dir.glob("cycle_*") if p.is_dir()), key=lambda p: int(p.name.split("_")[1]))
    fig = Figure(figsize=(6, 3.2), layout="constrained")
    ax = fig.add_subplot()
    bins = np.linspace(-0.2, 1.0, 49)
    for path in cycles:
        for name, ls in (("labels_bi.npy", "-"), ("labels_cross.npy", "--")):
            if (path / name).is_file():
                values = np.load(path / name)
                ax.hist(values, bins=bins, histtype="step", ls=ls, label=f"{path.name} {name[7:-4]}")
    ax.set(xlabel="pseudo-label", ylabel="pairs", title="pseudo-labels per cycle")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7)
    return fig
