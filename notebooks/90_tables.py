# %% [markdown]
# # 90 · Tables, rebuilt from metrics.json files only
# Every run (distillation, evaluation, priming) leaves a metrics.json; this notebook collects them
# (`tenc.tables.collect`) and writes the paper-layout main table and one table per ablation.

# %%
import tenc.notebook as tnb

_before = tnb.mark(globals())

# %% tags=["parameters"]
roots: str = "papermill_runs,runs"  # comma-separated folders searched for metrics.json
out_dir: str = "results"  # tables.md and cycles.csv go here
keep: str = ""  # an earlier results folder (e.g. results): its rows for runs not found under roots are kept
paper_spec: str = "params/paper_table.yaml"  # which scoreboard rows fill the paper's layout

# %%
P = tnb.parameters(globals(), _before)
from pathlib import Path

from IPython.display import display

from tenc import tables
from tenc.io import atomic_write_text

df = tables.collect(roots)
priming = tables.priming_table(roots)
print(f"{len(df)} result rows from {df['source'].nunique() if len(df) else 0} metrics.json files")
if keep:  # runs made on another machine: their rows from the last rebuild (a run found here replaces its own)
    n = len(df)
    df = tables.keep_earlier(df, Path(keep) / "cycles.csv")
    priming = tables.keep_earlier(priming, Path(keep) / "prime_search.csv")
    print(f"{len(df) - n} result rows kept from {Path(keep) / 'cycles.csv'}")
main = tables.main_table(df)
ablations = tables.ablation_tables(df)

# %% [markdown]
# ## Main table (Spearman x 100, "all" setting; `selected` marks the cycle each rule picked)

# %%
main

# %% [markdown]
# ## Ablations

# %%
for name, t in ablations.items():
    print(name)
    display(t)

# %% [markdown]
# ## Priming runs (settings, speed, collapse, dev and the 7 sets)

# %%
priming

# %% [markdown]
# ## Write results/tables.md, results/cycles.csv and results/prime_search.csv

# %%
text = [
    "# Results rebuilt from metrics.json (notebooks/90_tables.ipynb)",
    "",
    "## Main table",
    "",
    tables.markdown(main),
]
for name, t in ablations.items():
    text += ["", f"## Ablation: {name}", "", tables.markdown(t)]
if len(priming):
    text += ["", "## Priming runs", "", tables.markdown(priming)]
Path(out_dir).mkdir(parents=True, exist_ok=True)
atomic_write_text(Path(out_dir) / "tables.md", "\n".join(text) + "\n")
atomic_write_text(Path(out_dir) / "cycles.csv", tables.cycles_csv(df))
if len(priming):
    atomic_write_text(Path(out_dir) / "prime_search.csv", priming.to_csv(index=False))

# %% [markdown]
# ## The paper's layout: results/paper_table.md (the scoreboard rows `paper_spec` names)

# %%
import pandas as pd

from tenc.config import load_yaml
from tenc.scoreboard import read_board

board = Path(out_dir) / "sts.csv"
if board.is_file():
    spec = load_yaml(paper_spec)
    paper = tables.paper_table(read_board(board), spec)
    if (Path(out_dir) / "tasks.csv").is_file():  # the binary tasks (ROC-AUC), when such rows exist
        paper += "\n" + tables.binary_table(pd.read_csv(Path(out_dir) / "tasks.csv"), spec)
    head = f"# The paper's layout (notebooks/90_tables.ipynb; rows named in {paper_spec})"
    atomic_write_text(Path(out_dir) / "paper_table.md", head + "\n\n" + paper)
    print(paper)
