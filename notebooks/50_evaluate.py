# %% [markdown]
# # 50 · STS / SICK-R evaluation (Spearman x 100, "all" setting)
# Evaluates one model or an ensemble (mean score of the members) on the seven sets.

# %%
import tenc.notebook as tnb

_before = tnb.mark(globals())

# %% tags=["parameters"]
model: str = "minilm-l6"  # alias or folder; a comma list is an ensemble
kind: str = "bi"  # bi (cosine) or cross (sigmoid score)
pooling: str = ""  # override a bi-encoder's pooling (cls or mean); empty keeps it
name: str = ""  # row name in the table; empty uses the model string
data: str = ""  # STS data folder (empty: default resolution)
out_dir: str = "papermill_runs/50_evaluate/default"  # metrics.json goes here

# %%
P = tnb.parameters(globals(), _before)
from pathlib import Path

from tenc import data as tdata
from tenc import evaluation, models, tables

pairs = tdata.load_sts(data or None)
names = [m.strip() for m in model.split(",") if m.strip()]
if kind == "bi":
    members = [models.bi_encoder(m, pooling=pooling or None) for m in names]
else:
    members = [models.cross_encoder(m) for m in names]

# %% [markdown]
# ## Evaluate

# %%
table, metrics, preds = evaluation.evaluate(members, kind, pairs)
evaluation.write_metrics(Path(out_dir) / "metrics.json", metrics, P)
print(tables.format_paper_table([(name or model, table)]))
table
