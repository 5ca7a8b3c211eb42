# %% [markdown]
# # 00 · Data: the seven STS sets and the unlabelled pool
# Loads STS12-16, STS-B and SICK-R, builds the transductive and inductive pools and plots sentence lengths.

# %%
import tenc.notebook as tnb

_before = tnb.mark(globals())

# %% tags=["parameters"]
data: str = ""  # STS data folder; empty means $TENC_DATA, ./data/sts, ../shared/data/sts, then the hub
layout: str = "senteval"  # senteval (lower-cased, tokenised: what the papers evaluate) or raw
out_dir: str = "papermill_runs/00_data/default"  # where metrics.json and the figure go

# %%
P = tnb.parameters(globals(), _before)
import json
from pathlib import Path

from tenc import data as tdata
from tenc import plots

out = Path(out_dir)
out.mkdir(parents=True, exist_ok=True)
pairs = tdata.load_sts(data or None, layout=layout)

# %% [markdown]
# ## Pairs per set and split (scored = with a gold score)

# %%
counts = pairs.groupby(["dataset", "split"])["score"].agg(pairs="size", scored="count").reset_index()
counts

# %% [markdown]
# ## The unlabelled pool

# %%
pools = {mode: tdata.build_pool(pairs, mode) for mode in tdata.POOL_MODES}
for mode, pool in pools.items():
    print(f"{mode}: {len(pool)} unique pairs, {len(pool.sentences)} sentences ({pool.n_before_dedup} before de-dup)")

# %% [markdown]
# ## Sentence lengths (word-piece tokens of the MiniLM vocabulary)

# %%
fig = plots.length_histogram(pools["transductive"].sentences)
fig.savefig(out / "lengths.png", dpi=120, metadata={"Software": None})
metrics = {
    "pool_transductive_pairs": len(pools["transductive"]),
    "pool_inductive_pairs": len(pools["inductive"]),
    "pool_sentences": len(pools["transductive"].sentences),
    "pairs_total": len(pairs),
}
(out / "metrics.json").write_text(json.dumps({"metrics": metrics, "params": P}, indent=2))
fig
