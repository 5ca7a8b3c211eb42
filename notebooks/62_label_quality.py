# %% [markdown]
# # 62 · Label quality per cycle: what bounds the students?
# Each cycle's two label sets scored against the test pairs they contain (transductive pools): the bi labels
# the cross-encoder learns, and the cross labels the bi-encoder learns. When the cross labels stop beating the
# bi labels they were made from, the loop has nothing more to teach. Logic: `tenc.analysis.label_quality`
# on `results/label_quality.csv` (written by `tools/label_quality.py RUN`).

# %%
import tenc.notebook as tnb

_before = tnb.mark(globals())

# %% tags=["parameters"]
quality_csv: str = "results/label_quality.csv"  # per run and cycle, each label set's score on the test pairs
figure: str = "figures/analysis_label_quality.png"  # where the figure is saved (empty: not saved)

# %%
P = tnb.parameters(globals(), _before)
from matplotlib.figure import Figure

from tenc import analysis

quality = analysis.label_quality(quality_csv)
quality

# %%
multi = quality.groupby("run").filter(lambda g: len(g) >= 2)
fig = Figure(figsize=(6.5, 3.4), layout="constrained")
ax = fig.add_subplot()
for i, (run, sub) in enumerate(multi.groupby("run")):
    ax.plot(sub["cycle"], sub["cross_over_bi_labels"], "o-", color=f"C{i % 10}", label=run)
ax.axhline(0, color="0.4", lw=0.8)
ax.set(xlabel="cycle", ylabel="cross labels minus bi labels (test avg)", title="what each cross-encoder adds")
ax.set_xticks(sorted(multi["cycle"].unique()))
ax.legend(fontsize=6, ncol=2)
if figure:
    fig.savefig(figure, dpi=120)
fig

# %% [markdown]
# ## What this shows

# %%
by_cycle = multi.groupby("cycle")["cross_over_bi_labels"].agg(["mean", "count"])
parts = [f"cycle {c}: {r['mean']:+.2f} (n={int(r['count'])} runs)" for c, r in by_cycle.iterrows()]
print(
    "What the cross-encoder adds over the labels it learns from, mean over multi-cycle runs: "
    + "; ".join(parts)
    + ". The margin shrinks cycle by cycle: the loop levels off when the cross student no longer beats its labels."
)
