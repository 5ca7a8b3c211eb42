# %% [markdown]
# # 64 · Depth: how many layers of the raw LM make a bi-encoder, and a cross-encoder?
# rampart (the raw-LM stand-in) was tuned to tag PII, so its top layers are far from sentence meaning. Two
# probes: mean-pooled embeddings of its first N layers scored on STS-B dev (`results/layer_scan.csv`,
# `tools/layer_scan.py`), and cross-encoders of 2 or 6 layers learning the bi labels (`results/cross_probe.csv`,
# `tools/cross_probe.py`).

# %%
import tenc.notebook as tnb

_before = tnb.mark(globals())

# %% tags=["parameters"]
scan_csv: str = "results/layer_scan.csv"  # STS-B dev of the first N layers, mean pooling
probe_csv: str = "results/cross_probe.csv"  # cross-encoders of N layers on the bi labels
figure: str = "figures/analysis_layers.png"  # where the figure is saved (empty: not saved)

# %%
P = tnb.parameters(globals(), _before)
import pandas as pd
from matplotlib.figure import Figure

scan, probe = pd.read_csv(scan_csv), pd.read_csv(probe_csv)
display_cols = ["layers", "lr", "stsb_dev", "loss_last"]
scan, probe[display_cols]

# %%
fig = Figure(figsize=(7, 3), layout="constrained")
a, b = fig.add_subplot(1, 2, 1), fig.add_subplot(1, 2, 2)
a.plot(scan["layers"], scan["stsb_dev"], "o-")
a.set(xlabel="first N layers", ylabel="STS-B dev (bi, no training)", title="bi: fewer layers are better")
best = probe.loc[probe.groupby("layers")["stsb_dev"].idxmax()]
b.bar(best["layers"].astype(str), best["stsb_dev"], color="C1")
b.set(xlabel="cross-encoder layers", ylabel="STS-B dev after training", title="cross: more layers are better")
if figure:
    fig.savefig(figure, dpi=120)
fig

# %% [markdown]
# ## What this shows

# %%
top = scan.loc[scan["stsb_dev"].idxmax()]
print(
    f"As a bi-encoder, rampart is best with its first {int(top['layers'])} layer(s) (STS-B dev {top['stsb_dev']:.2f}) "
    f"and worst with all {int(scan['layers'].max())} ({scan['stsb_dev'].iloc[-1]:.2f}); as a cross-encoder the "
    + ", ".join(f"{int(r.layers)}-layer model reaches {r.stsb_dev:.2f}" for r in best.itertuples())
    + ": the two students want different depths, which is why the paper track pairs a 2-layer bi with a 6-layer "
    "cross (one run each: a pilot)."
)
