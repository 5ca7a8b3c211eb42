# %% [markdown]
# # 61 · Seeds and noise: which differences are real?
# A recipe run with several seeds spreads; the scoreboard holds such seed groups (trained rows of one recipe
# under 2-3 seeds). Their pooled sd is the noise a one-seed difference must beat (2 sd here), and every pair of
# groups compared at the same kind, stage and pool (and start, where both recorded one) says whether its
# difference does. Logic:
# `tenc.scoreboard.seed_groups`, `pooled_sd`, `tenc.analysis.noise_comparisons`, `paired_changes`.

# %%
import tenc.notebook as tnb

_before = tnb.mark(globals())

# %% tags=["parameters"]
board: str = "results/sts.csv"  # the scoreboard
sds: float = 2.0  # a difference counts when it exceeds this many pooled sd
figure: str = "figures/analysis_noise.png"  # where the figure is saved (empty: not saved)
paired_a: str = "main job"  # a recipe (its rows' name without "seed N") ...
paired_b: str = "frozen teacher|cross-encoder initialised|job, 2 cross epochs"  # ... and changes to it (a regex)
cosent_a: str = "main job, CoSENT bi loss, minmax targets"  # a second recipe (the full pool's bi loss and targets)
cosent_b: str = "random bi batches|2 cross epochs|labels averaged"  # ... and changes to it (a regex)
versus: str = "main job, CoSENT bi loss, rank targets vs main job, CoSENT bi loss, minmax targets"  # "b vs a; ..."
teachers_a: str = "main job, SimCSE 6-layer priming as frozen teacher"  # a third recipe ...
teachers_b: str = "Mirror-BERT"  # ... and the recipes (a regex over any name) it is set against

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
# ## Seed by seed
# Two recipes run with the same seeds share each seed's pool sample, data order and initial weights, so their
# per-seed differences carry less noise than the groups' spreads: `tenc.analysis.paired_seeds` (a difference
# counts when it exceeds 2 standard errors of the paired differences and every seed moves the same way).
# Two recipes and their changes: the main job (MSE bi loss, clipped targets) and the main job with the full
# pool's CoSENT bi loss and minmax targets; then `versus`, recipes compared as named; then the frozen teachers: the
# Mirror-BERT priming in the SimCSE 6-layer priming's place and beside it.

# %%
import pandas as pd

paired = pd.concat(
    [
        analysis.paired_changes(board, a, changes, sds).assign(against=a)
        for a, changes in ((paired_a, paired_b), (cosent_a, cosent_b))
    ]
    + [analysis.paired_versus(board, versus, sds)]
    + [analysis.paired_changes(board, teachers_a, teachers_b, sds, prefix=False).assign(against=teachers_a)],
    ignore_index=True,
)
paired

# %% [markdown]
# ## What this shows

# %%
beyond = comparisons[comparisons["beyond_noise"]]
print(
    f"{len(groups)} seed groups, sd {groups['sd'].min():.2f} to {groups['sd'].max():.2f}, pooled {noise:.2f}. "
    f"Of {len(comparisons)} comparisons between groups at the same kind, stage, pool and start, {len(beyond)} exceed "
    f"{sds:g} pooled sd ({sds * noise:.2f}); the largest difference is {comparisons['b_minus_a'].abs().max():.2f}. "
    "A one-seed difference below that is a pilot, not a finding."
)
for r in paired.itertuples():
    print(
        f"{r.change!r} against {r.against!r}, {r.kind}, {r.stage}, {r.n} seeds: {r.a_mean:.2f} -> {r.b_mean:.2f}, "
        f"per seed {r.diffs} (mean {r.mean_diff:+.2f}, sd {r.sd_diff:.2f}, paired t-test p {r.p:.3f}): "
        f"{'beyond' if r.beyond_noise else 'NOT beyond'} seed-by-seed noise; against {sds:g} pooled sd of the "
        f"groups ({sds * noise:.2f}) it is {'beyond' if abs(r.mean_diff) > sds * noise else 'not beyond'} noise."
    )
