# %% [markdown]
# # 63 · Token limits: what do the paper's STS limits cost on longer sentences?
# The paper's bi limit (32 tokens) cuts few STS sentences but many TrecQA answers. `lengths=auto` fits the limits
# to the pool (its 99th percentile). Same recipe, both limits, per corpus: `results/lengths.csv`
# (`tools/lengths_effect.py`).

# %%
import tenc.notebook as tnb

_before = tnb.mark(globals())

# %% tags=["parameters"]
lengths_csv: str = "results/lengths.csv"  # per corpus: each limit's share of sentences cut and its scores
figure: str = "figures/analysis_lengths.png"  # where the figure is saved (empty: not saved)

# %%
P = tnb.parameters(globals(), _before)
import pandas as pd
from matplotlib.figure import Figure

lengths = pd.read_csv(lengths_csv)
lengths

# %%
fig = Figure(figsize=(5.5, 3.2), layout="constrained")
ax = fig.add_subplot()
for i, (corpus, sub) in enumerate(lengths.groupby("corpus")):
    ax.plot(sub["sentences_cut_pct"], sub["test"], "o-", color=f"C{i}", label=corpus)
ax.set(xlabel="sentences cut by the bi limit (%)", ylabel="test score of the start", title="token limits")
ax.legend()
if figure:
    fig.savefig(figure, dpi=120)
fig

# %% [markdown]
# ## What this shows

# %%
lines = []
for corpus, sub in lengths.groupby("corpus"):
    sts, fit = sub[sub["limit"] == "STS limit"].iloc[0], sub[sub["limit"] != "STS limit"].iloc[0]
    lines.append(
        f"{corpus}: the STS limit cuts {sts['sentences_cut_pct']:.1f}% of sentences; fitted to "
        f"{int(fit['bi_max_length'])} tokens it cuts {fit['sentences_cut_pct']:.1f}% and the test score moves "
        f"{fit['test'] - sts['test']:+.2f}"
    )
print("; ".join(lines) + " (one run each: a pilot).")
