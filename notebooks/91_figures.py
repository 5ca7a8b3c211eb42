# %% [markdown]
# # 91 · Figures, rebuilt from metrics.json files (and the runs' saved predictions and labels)
# The 7-task average per cycle, bi-vs-cross scatter per cycle coloured by gold score, pseudo-label distributions per
# cycle, and ablation bars with the start as a line. PNG for the README, SVG too.

# %%
import tenc.notebook as tnb

_before = tnb.mark(globals())

# %% tags=["parameters"]
roots: str = "papermill_runs,runs"  # comma-separated folders searched for metrics.json
runs: str = ""  # comma-separated run names for the per-run figures; empty: every distillation run found
out_dir: str = "figures"  # where the PNG and SVG files go
keep: str = ""  # an earlier results folder (e.g. results): its rows for runs not found under roots are kept
paper_spec: str = "params/paper_table.yaml"  # the tracks of the gains figure

# %%
P = tnb.parameters(globals(), _before)
import re
from pathlib import Path

import matplotlib
from IPython.display import display

from tenc import plots, tables

df = tables.collect(roots)
if keep:  # rows of runs made on another machine (their per-run figures stay as they are)
    df = tables.keep_earlier(df, Path(keep) / "cycles.csv")
wanted = [r.strip() for r in runs.split(",") if r.strip()]
if wanted:
    df = df[df["run"].isin(wanted)]
out = Path(out_dir)
out.mkdir(parents=True, exist_ok=True)


def save(fig, name):
    fig.savefig(out / f"{name}.png", dpi=120, metadata=plots.FIXED)
    with matplotlib.rc_context({"svg.hashsalt": "tenc"}):  # fixed SVG ids: a rebuild does not churn git
        fig.savefig(out / f"{name}.svg", metadata={"Date": None})
    return fig


# %% [markdown]
# ## Gain over the start per track (the README's figure; rows named in `paper_spec`)

# %%
import pandas as pd

from tenc.config import load_yaml

board = Path(keep or "results") / "sts.csv"
if board.is_file():
    spec = load_yaml(paper_spec)
    save(plots.gains_figure(pd.read_csv(board), spec, spec.get("reference_gains")), "gains")

# %% [markdown]
# ## 7-task average per cycle, against each run's start

# %%
save(plots.cycles_figure(df), "cycles")

# %% [markdown]
# ## Bi vs cross per cycle, and the pseudo-labels, for each run

# %%
distill_runs = df[df["cycle"].notna()].drop_duplicates("run")[["run", "source"]].itertuples(index=False)
for name, source in distill_runs:
    # "paper rampart 2-layer bi, 6-layer cross" -> paper-rampart-2-layer-bi-6-layer-cross
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    if any(Path(source).glob("cycle_*/preds_cross_model.csv")):
        display(save(plots.scatter_figure(source), f"scatter_{slug}"))
    if any(Path(source).glob("cycle_*/labels_*.npy")):
        display(save(plots.label_distributions(source), f"labels_{slug}"))

# %% [markdown]
# ## Ablations

# %%
abl = tables.ablation_tables(df)
save(plots.ablation_figure(abl), "ablations") if abl else print("no ablation runs yet")
