# %% [markdown]
# # Explore pairs: what did the encoders learn?
# Opens the pair-score inspector on a run's saved predictions (nothing is retrained). Sort by |bi - cross| to see
# where the two students disagree; type two sentences to score them live.

# %%
import tenc.notebook as tnb

_before = tnb.mark(globals())

# %% tags=["parameters"]
run_dir: str = "papermill_runs/20_distill/main"  # a distillation run folder (make run's; its */preds_*.csv)
live: bool = True  # load the run's selected encoders (best/) to score typed sentences

# %%
P = tnb.parameters(globals(), _before)
from tenc.widgets import PairInspector

inspector = PairInspector.from_run(run_dir, live=live)
inspector

# %% [markdown]
# The rows currently listed, as a DataFrame:

# %%
inspector.selected.head()
