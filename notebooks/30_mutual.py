# %% [markdown]
# # 30 · Mutual distillation: several members learn from the mean of their scores
# Each member keeps its own start checkpoint and cross-encoder initialisation; at every step the pseudo-labels are the
# mean of the members' scores and every student trains on them. Test-time ensembles average the members' scores
# (cosine for bi-encoders, sigmoid for cross-encoders).

# %%
import tenc.notebook as tnb

_before = tnb.mark(globals())

# %% tags=["parameters"]
preset: str = "quick"  # paper, quick or smoke
config: str = ""  # optional YAML of DistillConfig overrides (params/*.yaml)
members: str = "minilm-l6,minilm-l3"  # comma-separated start models
cross_init: str = ""  # comma-separated cross-encoder initialisations; empty means the members
parallel: bool = False  # train the members concurrently (one process each, threads split)
data: str = ""  # STS data folder (empty: default resolution)
run_dir: str = "papermill_runs/30_mutual/quick"  # the run folder

# %%
P = tnb.parameters(globals(), _before)
from pathlib import Path

from tenc import distill
from tenc.config import DistillConfig
from tenc.scoreboard import summary_table

cfg = DistillConfig.from_sources(preset, config, start=members, cross_init=cross_init, parallel=parallel, data=data)
tnb.seed_all(cfg.seed)
cfg.members

# %% [markdown]
# ## Run every cycle (finished stages are skipped)

# %%
summary = distill.run(cfg, run_dir, tags={"name": Path(run_dir).name})  # writes run_dir/metrics.json
print(summary_table(summary))

# %% [markdown]
# ## Every member's training, cycle by cycle
# One panel per training stage (`cross_0` is member 0's cross-encoder): the loss over the steps and, where dev
# checks ran, STS-B dev Spearman with the kept step starred. Members that learn from the same averaged labels
# should move together; one that stalls while the others improve is worth a closer look.

# %%
from IPython.display import display

from tenc import plots

for c in range(1, cfg.cycles + 1):
    display(plots.training_curves(plots.stage_records(run_dir, c)))
