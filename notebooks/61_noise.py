# %% [markdown]
# # 61 · Seeds and noise: which differences are real?
# A recipe run with several seeds spreads; the scoreboard holds 12 such seed groups (trained rows of one recipe
# under 2-3 seeds). Their pooled sd is the noise a one-seed difference must beat (2 sd here), and every pair of
# groups compared at the same kind and stage says whether its difference does. Logic:
# `tenc.scoreboard.seed_groups`, `pooled_sd`, `tenc.analysis.noise_comparisons`.

# %%
import tenc.notebook as tnb

_before = tnb.mark(globals())

# %% tags=["parameters"]
board: str = "results/sts.csv"  # the scoreboard
sds: float = 2.0  # a difference counts when it exceeds this many pooled sd
figure: str = "figures/analysis_noise.png"  # where the figure is saved (empty: not saved)

# %%
P = tnb.parameters(globals(), _before)
from matplotlib.figure import Figure

from tenc import analysis
from tenc.scoreboard import pooled_sd, seed_groups

groups = seed_groups(board)
noise = pooled_sd(groups)
groups.round(2)

# %%
comparisons = analysis.noise_comparisons(groups, noise, sds)
comparisons

# %%
fig = Figure(figsize=(6.5, 3.2), layout="constrained")
ax = fig.add_subplot()
ax.bar(range(len(groups)), groups["sd"], color="C0")
ax.axhline(noise, color="C3", ls="--", label=f"pooled sd {noise:.2f}")
ax.set(xlabel="seed group (kind, stage of one recipe)", ylabel="sd of the 7-set avg over seeds", title="noise")
ax.legend()
if figure:
    fig.savefig(figure, dpi=120)
fig

# %% [markdown]
# ## What this shows

# %%
beyond = comparisons[comparisons["beyond_noise"]]
print(
    f"{len(groups)} seed groups, sd {groups['sd'].min():.2f} to {groups['sd'].max():.2f}, pooled {noise:.2f}. "
    f"Of {len(comparisons)} comparisons between groups at the same kind and stage, {len(beyond)} exceed "
    f"{sds:g} pooled sd ({sds * noise:.2f}); the largest difference is {comparisons['b_minus_a'].abs().max():.2f}. "
    "A one-seed difference below that is a pilot, not a finding."
)
