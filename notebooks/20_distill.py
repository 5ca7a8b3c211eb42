# %% [markdown]
# # 20 · Self-distillation, one cycle step by step
# One Trans-Encoder cycle in the paper's order, one cell per step with a look between them: the bi-encoder labels
# the pool, a cross-encoder learns those labels, the cross-encoder labels the pool, a bi-encoder learns those.
# Every step is a resumable stage of the run folder: a finished step is read back (checked against its hash)
# instead of computed, so rerunning a cell is cheap. Cycle 0 evaluates the start checkpoint only.

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

import numpy as np
import pandas as pd
from IPython.display import display

from tenc import analysis, distill, plots
from tenc.config import DistillConfig
from tenc.io import run_lock
from tenc.scoreboard import gain_report, summary_table

# start, cross_init and data override the YAML only when set away from DistillConfig's defaults
cfg = DistillConfig.from_sources(
    preset, config, **tnb.overrides({"start": start, "cross_init": cross_init, "data": data}, DistillConfig)
)
tnb.seed_all(cfg.seed)
with run_lock(run_dir):  # one writer per run folder: every cell that writes holds the lock
    run = distill.Run(cfg, run_dir, tags={"name": Path(run_dir).name})  # writes config.json and pool.tsv
cross_half = cycle > 0 and direction in ("both", "cross") and cfg.teachers_teach != "bi"
bi_half = cycle > 0 and direction in ("both", "bi")
gold = analysis.pool_gold(run.pool, run.pairs) if run.pairs is not None else pd.Series(np.nan, index=run.pool.index)
print(f"{len(run.pool)} pool pairs, {int(gold.notna().sum())} of them scored test pairs; {cfg.cycles} cycles planned")
cfg

# %% [markdown]
# ## The losses
# * **Cross-encoder** (`cross_loss`): BCE on soft targets, the paper's,
#   $\mathcal{L} = -\frac{1}{N}\sum_i \big[y_i \log \sigma(z_i) + (1 - y_i)\log(1 - \sigma(z_i))\big]$,
#   with $z_i$ the pair's logit and $y_i \in [0, 1]$ the bi-encoder's cosine mapped by `target_map` (`clip`,
#   `minmax` or `rank`); `mse` is $(\sigma(z_i) - y_i)^2$. Each pair is seen in both orders.
# * **Bi-encoder** (`bi_loss`): MSE between the cosine and the cross score, the paper's,
#   $\mathcal{L} = \frac{1}{N}\sum_i (\cos(u_i, v_i) - y_i)^2$; or CoSENT, which only asks for the cross-encoder's
#   order inside a batch, $\mathcal{L} = \log\big(1 + \sum_{y_i > y_j} e^{20(\cos_j - \cos_i)}\big)$.
#   `bi_batches` says which pairs share a batch (length-bucketed or random).
#
# The registry of names is `tenc.losses`; the settings of this run:

# %%
{k: getattr(run.cfg, k) for k in ("cross_loss", "target_map", "bi_loss", "bi_batches", "cross_epochs", "bi_epochs")}

# %% [markdown]
# ## Cycle 0: the start (evaluated once a run)

# %%
with run_lock(run_dir):
    start_eval = run.evaluate(0, "bi")
pd.DataFrame(start_eval["results"]).T

# %% [markdown]
# ## Step 1 · bi → labels: the bi-encoder(s) of the previous cycle score every pool pair

# %%
if cross_half:
    with run_lock(run_dir):
        labels_bi = run.labels.bi(cycle)
    print(f"mean {labels_bi.mean():.3f}, sd {labels_bi.std():.3f}, below 0: {(labels_bi < 0).mean():.1%}")
    examples = run.pool.assign(bi_label=labels_bi, gold=gold).sample(8, random_state=0)
    display(examples)

# %% [markdown]
# ## Step 2 · train the cross-encoder on those labels (BCE targets), then its loss and dev curve

# %%
if cross_half:
    with run_lock(run_dir):
        run.train_students(cycle, "cross")
        cross_eval = run.evaluate(cycle, "cross")
    display(plots.training_curves({k: v for k, v in plots.stage_records(run_dir, cycle).items() if "cross" in k}))
    display(pd.DataFrame(cross_eval["results"]).T)

# %% [markdown]
# ## Step 3 · cross → labels: the new cross-encoder(s) score every pool pair; bi vs cross labels

# %%
if bi_half:
    with run_lock(run_dir):
        labels_cross = run.labels.cross(cycle)
    shown = {"cross labels": labels_cross}
    if cross_half:  # step 1's labels, passed along rather than read back
        shown["bi labels"] = labels_bi
    elif run.layout.labels(cycle, "bi").is_file():
        shown["bi labels"] = run.labels.bi(cycle)
    print(
        "Spearman x 100 against gold, on the pool pairs that are scored test pairs:",
        analysis.label_spearman(shown, gold) or "none in this pool",
    )
    if "bi labels" in shown:
        fig = plots.Figure(figsize=(4, 3.6), layout="constrained")
        ax = fig.add_subplot()
        ax.scatter(shown["bi labels"], labels_cross, s=2, alpha=0.3)
        ax.set(xlabel="bi label (cosine)", ylabel="cross label (sigmoid)", title=f"cycle {cycle}: the two teachers")
        display(fig)

# %% [markdown]
# ## Step 4 · train the bi-encoder on the cross labels, then its loss and dev curve

# %%
if bi_half:
    with run_lock(run_dir):
        run.train_students(cycle, "bi")
        bi_eval = run.evaluate(cycle, "bi")
    display(plots.training_curves({k: v for k, v in plots.stage_records(run_dir, cycle).items() if " bi" in k}))
    display(pd.DataFrame(bi_eval["results"]).T)

# %% [markdown]
# ## The run so far: every cycle, what the selection rule picks, the gain against the noise

# %%
with run_lock(run_dir):
    summary = run.summarise()  # summary.json, metrics.json and best/
print(summary_table(summary))
print(gain_report(summary, repeats, board="results/sts.csv") if cycle > 0 else "")

# %% [markdown]
# ## Pseudo-labels of every cycle so far

# %%
plots.label_distributions(run_dir)
