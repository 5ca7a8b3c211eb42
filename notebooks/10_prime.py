# %% [markdown]
# # 10 · Priming a bi-encoder from a language model (SimCSE / Mirror-BERT)
# PAPER.md step 1. The primed model is saved in sentence-transformers format: pass its folder as `start` to
# `20_distill`.

# %%
import tenc.notebook as tnb

_before = tnb.mark(globals())

# %% tags=["parameters"]
config: str = ""  # optional YAML of PrimeConfig settings (params/prime-rampart.yaml); keys set below override it
model: str = "rampart"  # language model to prime
layers: int = 0  # keep only the first N transformer layers; 0 keeps all
method: str = "simcse"  # simcse or mirror
pooling: str = "cls"  # cls or mean
steps: int = 500  # optimisation steps
batch_size: int = 64  # sentences per step
lr: float = 3e-05  # learning rate
max_sentences: int = 0  # subsample the pool's sentences; 0 keeps all
data: str = ""  # STS data folder (empty: default resolution)
evaluate_test: bool = True  # 7-task evaluation of the primed model
out_dir: str = "papermill_runs/10_prime/default"  # the primed model and metrics.json

# %%
P = tnb.parameters(globals(), _before)
from tenc import prime
from tenc.config import PrimeConfig, load_yaml

values = load_yaml(config) if config else {}
values.update(
    tnb.overrides(P, PrimeConfig)
)  # the defaults above are PrimeConfig's: only changed keys override the YAML
cfg = PrimeConfig.from_dict(values)
tnb.seed_all(cfg.seed)
cfg

# %% [markdown]
# ## Train, save, evaluate

# %%
result = prime.run(cfg, out_dir)
{k: v for k, v in result["train"].items() if k != "loss_curve"}

# %% [markdown]
# ## The priming curve
# The contrastive loss over the steps (in-batch InfoNCE: each sentence must find its own second view among the
# batch) and, where dev checks ran, STS-B dev Spearman of the embeddings; the star marks the step that was kept.

# %%
from IPython.display import display

from tenc import plots

display(plots.training_curves({f"prime {cfg.method}": result["train"]}))

# %%
print(result["table"])
