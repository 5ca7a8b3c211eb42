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
