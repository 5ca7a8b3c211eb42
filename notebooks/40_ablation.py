# %% [markdown]
# # 40 · Ablations on the quick budget: one setting changed, the whole loop rerun
# `ablation` names what changes (cycles, init, cross_loss, bi_loss, pooling, pool_size, pool) and `value` its setting;
# everything else is the base configuration. The run's metrics.json carries the ablation and value, so 90_tables /
# 91_figures make one table and one bar chart per ablation.

# %%
import tenc.notebook as tnb

_before = tnb.mark(globals())

# %% tags=["parameters"]
ablation: str = "cross_loss"  # cycles, init, cross_loss, bi_loss, pooling, pool_size or pool
value: str = "mse"  # the setting: 1/2/3, fresh/inherit, bce/mse, mse/cosent, cls/mean, 1000/.../all, a pool mode
preset: str = "quick"  # the base budget
config: str = ""  # optional YAML of base overrides (params/*.yaml)
start: str = "minilm-l6"  # start bi-encoder (alias or folder)
data: str = ""  # STS data folder (empty: default resolution)
run_dir: str = "papermill_runs/40_ablation/default"  # the run folder (the plan sets one per ablation value)
reuse_from: str = ""  # comma-separated folders whose finished runs may lend cycles (papermill_runs/20_distill)

# %%
P = tnb.parameters(globals(), _before)
from pathlib import Path

from tenc import reuse
from tenc.config import DistillConfig, ablation_overrides
from tenc.scoreboard import summary_table

changes = ablation_overrides(ablation, value)
cfg = DistillConfig.from_sources(preset, config, start=start, data=data, **changes)
tnb.seed_all(cfg.seed)
changes

# %% [markdown]
# ## Run the loop (finished stages are skipped)

# %%
# an ablation value equal to a finished run beside it (e.g. cycles=1 and cross_loss=bce on the quick budget) or
# in reuse_from records that run's results under its own name instead of training the same thing again; a
# run that shares some cycles with it lends them (tenc.reuse.run_or_reuse)
search = [Path(run_dir).parent] + [Path(f.strip()) for f in reuse_from.split(",") if f.strip()]
tags = {"name": f"{ablation}={value}", "ablation": ablation, "value": value}
summary = reuse.run_or_reuse(cfg, run_dir, tags=tags, search=search)
print(summary_table(summary))
