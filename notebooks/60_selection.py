# %% [markdown]
# # 60 · Selection: which cycle to keep?
# The paper keeps the cycle with the best STS-B dev score. How often does dev pick the cycle the seven test sets
# prefer (the test oracle), and what does missing it cost, against simply keeping the last cycle? Every
# multi-cycle run in `results/cycles.csv`, per encoder type (the member a run is reported by). Logic:
# `tenc.analysis.selection_picks`.

# %%
import tenc.notebook as tnb

_before = tnb.mark(globals())

# %% tags=["parameters"]
cycles_csv: str = "results/cycles.csv"  # every run's per-cycle rows (make tables)
figure: str = "figures/analysis_selection.png"  # where the figure is saved (empty: not saved)

# %%
P = tnb.parameters(globals(), _before)
from matplotlib.figure import Figure

from tenc import analysis

picks = analysis.selection_picks(cycles_csv).dropna(subset=["dev_cycle"])
picks["dev_loss"] = (picks["oracle_avg"] - picks["dev_avg"]).round(2)
picks["last_loss"] = (picks["oracle_avg"] - picks["last_avg"]).round(2)
picks

# %%
fig = Figure(figsize=(6.5, 3.2), layout="constrained")
ax = fig.add_subplot()
order = picks.sort_values("last_loss").reset_index(drop=True)
ax.plot(order.index, order["last_loss"], "o", label="last cycle", alpha=0.7)
ax.plot(order.index, order["dev_loss"], "s", label="STS-B dev (the paper's rule)", alpha=0.7)
ax.set(xlabel="pick (run, encoder type), sorted", ylabel="7-set avg lost to the test oracle", title="selection")
ax.legend()
if figure:
    fig.savefig(figure, dpi=120)
fig

# %% [markdown]
# ## What this shows

# %%
s = analysis.selection_summary(cycles_csv)
print(
    f"Over {s['picks']} picks of {s['runs']} multi-cycle runs, STS-B dev picks the test oracle's cycle "
    f"{s['dev_hits_oracle']} times and loses {s['dev_mean_loss']} to it on average; the last cycle hits it "
    f"{s['last_hits_oracle']} times and loses {s['last_mean_loss']}. Dev selection is worth keeping, and a "
    "number picked by the test sets (the oracle) is not a result: it is labelled 'test oracle' wherever quoted."
)

# %% [markdown]
# ## A tolerance for dev ties?
# Dev picks a later cycle on any gain, however small (the full-pool mutual's 2-layer cross-encoder moved to cycle 4 on
# a dev gain of 0.002 and lost 0.23 on test; that run's per-cycle dev scores are in docs/results.md, not in
# `results/cycles.csv`). `tenc.selection.pick(..., min_delta=d)` keeps the earlier cycle unless dev gains more than
# `d`. What each tolerance would have done to every member's pick in `results/cycles.csv`
# (`tenc.analysis.selection_tolerance`):

# %%
tolerance = analysis.selection_tolerance(cycles_csv)
tolerance

# %%
small = tolerance[(tolerance["min_delta"] > 0) & (tolerance["min_delta"] <= 0.05)]
large = tolerance[tolerance["min_delta"] >= 0.1]
helps = tolerance[tolerance["avg_change_sum"] > 0]
print(
    f"Over {int(tolerance['picks'].iloc[0])} picks, a tolerance up to 0.05 moves {int(small['moved'].max())} of them; "
    f"0.1 and more move {int(large['moved'].min())} to {int(large['moved'].max())} and change the 7-set averages "
    f"by {large['avg_change_sum'].max():+.2f} to {large['avg_change_sum'].min():+.2f} in sum. "
    + (
        "No tolerance gains on test, so the runs keep the paper's plain rule."
        if helps.empty
        else f"Tolerances {', '.join(map(str, helps['min_delta']))} gain on test: worth a run-time option."
    )
)
