# %% [markdown]
# # 20 · Self-distillation: one cycle (or one direction of one cycle) per run
# bi -> cross: label the pool with the bi-encoder, train a cross-encoder. cross -> bi: label with the cross-encoder,
# train a bi-encoder. Every stage is resumable; cycle 0 evaluates the start checkpoint.

# %%
import tenc.notebook as tnb

_before = tnb.mark(globals())

# %% tags=["parameters"]
preset: str = "quick"  # paper, main, quick or smoke
config: str = ""  # optional YAML of DistillConfig overrides (params/*.yaml)
start: str = "minilm-l6"  # start bi-encoder (alias or folder; a primed model from 10_prime)
cross_init: str = ""  # cross-encoder initialisation; empty means the start model
data: str = ""  # STS data folder (empty: default resolution)
cycle: int = 1  # which cycle to run; 0 evaluates the start only
direction: str = "both"  # both, cross (bi to cross) or bi (cross to bi)
run_dir: str = "papermill_runs/20_distill/quick"  # the run folder shared by the cycles of one run
repeats: str = ""  # CSV of this job run with other seeds (results/main_seeds.csv): gains are set against their spread

# %%
P = tnb.parameters(globals(), _before)
from pathlib import Path

from tenc import distill
from tenc.config import DistillConfig
from tenc.io import run_lock
from tenc.scoreboard import summary_table

# start, cross_init and data override the YAML only when set away from DistillConfig's defaults
cfg = DistillConfig.from_sources(
    preset, config, **tnb.overrides({"start": start, "cross_init": cross_init, "data": data}, DistillConfig)
)
tnb.seed_all(cfg.seed)
cfg

# %% [markdown]
# ## Run the stages (already finished stages are skipped)

# %%
with run_lock(run_dir):
    run = distill.Run(cfg, run_dir, tags={"name": Path(run_dir).name})  # writes run_dir/metrics.json
    if cycle == 0:
        run.evaluate(0, "bi")
    else:
        run.run_cycle(cycle, direction)
    summary = run.summarise()
print(summary_table(summary))
from tenc.scoreboard import gain_report

print(gain_report(summary, repeats, board="results/sts.csv") if cycle > 0 else "")

# %% [markdown]
# ## Pseudo-labels of this cycle

# %%
from tenc import plots

fig = plots.label_distributions(run_dir)
fig
