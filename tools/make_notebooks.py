"""Write the notebooks (no outputs) from this file, their one source: edit here, then run
``python tools/make_notebooks.py``. An edit made in JupyterLab is overwritten by the next run, so
tests/test_notebooks.py fails when a committed notebook differs from what this file writes.
``--out DIR`` writes them elsewhere (the test does)."""

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook
from pathlib import Path

import sys

NB = Path(sys.argv[sys.argv.index("--out") + 1]) if "--out" in sys.argv else Path(__file__).resolve().parents[1] / "notebooks"
HEAD = "import tenc.notebook as tnb\n_before = tnb.mark(globals())"


def write(name, cells):
    nb = new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
                                             "language_info": {"name": "python"}})
    for i, c in enumerate(nb.cells):
        c.id = f"{Path(name).stem}-{i:02d}"  # stable ids: regenerating does not churn git
    nbformat.write(nb, NB / name)


def params(src):
    cell = new_code_cell(src.strip())
    cell.metadata["tags"] = ["parameters"]
    return cell


md, code = new_markdown_cell, lambda s: new_code_cell(s.strip())

write("00_data.ipynb", [
    md("# 00 · Data: the seven STS sets and the unlabelled pool\nLoads STS12-16, STS-B and SICK-R, "
       "builds the transductive and inductive pools and plots sentence lengths."),
    code(HEAD),
    params('''
data: str = ""  # STS data folder; empty means $TENC_DATA, ./data/sts, ../shared/data/sts, then the hub
layout: str = "senteval"  # senteval (lower-cased, tokenised: what the papers evaluate) or raw
out_dir: str = "papermill_runs/00_data/default"  # where metrics.json and the figure go
'''),
    code('''
P = tnb.parameters(globals(), _before)
from pathlib import Path
import json
from tenc import data as tdata, plots
out = Path(out_dir); out.mkdir(parents=True, exist_ok=True)
pairs = tdata.load_sts(data or None, layout=layout)
'''),
    md("## Pairs per set and split (scored = with a gold score)"),
    code('''
counts = pairs.groupby(["dataset", "split"])["score"].agg(pairs="size", scored="count").reset_index()
counts
'''),
    md("## The unlabelled pool"),
    code('''
pools = {mode: tdata.build_pool(pairs, mode) for mode in ("transductive", "inductive")}
for mode, pool in pools.items():
    print(f"{mode}: {len(pool)} unique pairs, {len(pool.sentences)} unique sentences ({pool.n_before_dedup} before de-duplication)")
'''),
    md("## Sentence lengths (word-piece tokens of the MiniLM vocabulary)"),
    code('''
fig = plots.length_histogram(pools["transductive"].sentences)
fig.savefig(out / "lengths.png", dpi=120, metadata={"Software": None})
metrics = {"pool_transductive_pairs": len(pools["transductive"]), "pool_inductive_pairs": len(pools["inductive"]),
           "pool_sentences": len(pools["transductive"].sentences), "pairs_total": len(pairs)}
(out / "metrics.json").write_text(json.dumps({"metrics": metrics, "params": P}, indent=2))
fig
'''),
])

write("10_prime.ipynb", [
    md("# 10 · Priming a bi-encoder from a language model (SimCSE / Mirror-BERT)\n"
       "PAPER.md step 1. The primed model is saved in sentence-transformers format: pass its folder as "
       "`start` to `20_distill`."),
    code(HEAD),
    params('''
config: str = ""  # optional YAML of PrimeConfig settings (e.g. params/prime-rampart.yaml); a key below set away from its default overrides it
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
'''),
    code('''
P = tnb.parameters(globals(), _before)
from tenc import prime
from tenc.config import load_yaml
values = load_yaml(config) if config else {}
values.update(tnb.overrides(P, prime.PrimeConfig))  # the defaults above are PrimeConfig's: only changed keys override the YAML
cfg = prime.PrimeConfig.from_dict(values)
tnb.seed_all(cfg.seed)
cfg
'''),
    md("## Train, save, evaluate"),
    code('''
result = prime.run(cfg, out_dir)
result["train"]
'''),
    code('print(result["table"])'),
])

write("20_distill.ipynb", [
    md("# 20 · Self-distillation: one cycle (or one direction of one cycle) per run\n"
       "bi -> cross: label the pool with the bi-encoder, train a cross-encoder. cross -> bi: label with the "
       "cross-encoder, train a bi-encoder. Every stage is resumable; cycle 0 evaluates the start checkpoint."),
    code(HEAD),
    params('''
preset: str = "quick"  # paper, main, quick or smoke
config: str = ""  # optional YAML of DistillConfig overrides (params/*.yaml)
start: str = "minilm-l6"  # start bi-encoder (alias or folder; a primed model from 10_prime)
cross_init: str = ""  # cross-encoder initialisation; empty means the start model
data: str = ""  # STS data folder (empty: default resolution)
cycle: int = 1  # which cycle to run; 0 evaluates the start only
direction: str = "both"  # both, cross (bi to cross) or bi (cross to bi)
run_dir: str = "papermill_runs/20_distill/quick"  # the run folder shared by the cycles of one run
repeats: str = ""  # CSV of this job run with other seeds (results/main_seeds.csv): gains are set against their spread
'''),
    code('''
P = tnb.parameters(globals(), _before)
from pathlib import Path
from tenc import distill
from tenc.cli import summary_table
from tenc.config import DistillConfig
from tenc.io import run_lock
# start, cross_init and data override the YAML only when set away from DistillConfig's defaults
cfg = DistillConfig.from_sources(preset, config, **tnb.overrides({"start": start, "cross_init": cross_init, "data": data}, DistillConfig))
tnb.seed_all(cfg.seed)
cfg
'''),
    md("## Run the stages (already finished stages are skipped)"),
    code('''
with run_lock(run_dir):
    run = distill.Run(cfg, run_dir, tags={"name": Path(run_dir).name})  # writes run_dir/metrics.json
    if cycle == 0:
        run.evaluate(0, "bi")
    else:
        run.run_cycle(cycle, direction)
    summary = run.summarise()
print(summary_table(summary))
from tenc.scoreboard import gain_report
print(gain_report(summary, repeats) if cycle > 0 else "")
'''),
    md("## Pseudo-labels of this cycle"),
    code('''
from tenc import plots
fig = plots.label_distributions(run_dir)
fig
'''),
])

write("30_mutual.ipynb", [
    md("# 30 · Mutual distillation: several members learn from the mean of their scores\n"
       "Each member keeps its own start checkpoint and cross-encoder initialisation; at every step the "
       "pseudo-labels are the mean of the members' scores and every student trains on them. Test-time "
       "ensembles average the members' scores (cosine for bi-encoders, sigmoid for cross-encoders)."),
    code(HEAD),
    params('''
preset: str = "quick"  # paper, quick or smoke
config: str = ""  # optional YAML of DistillConfig overrides (params/*.yaml)
members: str = "minilm-l6,minilm-l3"  # comma-separated start models
cross_init: str = ""  # comma-separated cross-encoder initialisations; empty means the members
parallel: bool = False  # train the members concurrently (one process each, threads split)
data: str = ""  # STS data folder (empty: default resolution)
run_dir: str = "papermill_runs/30_mutual/quick"  # the run folder
'''),
    code('''
P = tnb.parameters(globals(), _before)
from pathlib import Path
from tenc import distill
from tenc.cli import summary_table
from tenc.config import DistillConfig
cfg = DistillConfig.from_sources(preset, config, start=members, cross_init=cross_init, parallel=parallel, data=data)
tnb.seed_all(cfg.seed)
cfg.members
'''),
    md("## Run every cycle (finished stages are skipped)"),
    code('''
summary = distill.run(cfg, run_dir, tags={"name": Path(run_dir).name})  # writes run_dir/metrics.json
print(summary_table(summary))
'''),
])

write("50_evaluate.ipynb", [
    md("# 50 · STS / SICK-R evaluation (Spearman x 100, \"all\" setting)\n"
       "Evaluates one model or an ensemble (mean score of the members) on the seven sets."),
    code(HEAD),
    params('''
model: str = "minilm-l6"  # alias or folder; a comma list is an ensemble
kind: str = "bi"  # bi (cosine) or cross (sigmoid score)
pooling: str = ""  # override a bi-encoder's pooling (cls or mean); empty keeps it
name: str = ""  # row name in the table; empty uses the model string
data: str = ""  # STS data folder (empty: default resolution)
out_dir: str = "papermill_runs/50_evaluate/default"  # metrics.json goes here
'''),
    code('''
P = tnb.parameters(globals(), _before)
from pathlib import Path
from tenc import data as tdata, evaluation, models
pairs = tdata.load_sts(data or None)
names = [m.strip() for m in model.split(",") if m.strip()]
if kind == "bi":
    members = [models.bi_encoder(m, pooling=pooling or None) for m in names]
else:
    members = [models.cross_encoder(m) for m in names]
'''),
    md("## Evaluate"),
    code('''
table, metrics, preds = evaluation.evaluate(members, kind, pairs)
evaluation.write_metrics(Path(out_dir) / "metrics.json", metrics, P)
print(evaluation.format_paper_table([(name or model, table)]))
table
'''),
])

write("explore_pairs.ipynb", [
    md("# Explore pairs: what did the encoders learn?\n"
       "Opens the pair-score inspector on a run's saved predictions (nothing is retrained). Sort by "
       "|bi - cross| to see where the two students disagree; type two sentences to score them live."),
    code(HEAD),
    params('''
run_dir: str = "runs/quick-minilm-l6"  # a distillation run folder (its */preds_*.csv are read)
live: bool = True  # load the last cycle's encoders to score typed sentences
'''),
    code('''
P = tnb.parameters(globals(), _before)
from tenc.widgets import PairInspector
inspector = PairInspector.from_run(run_dir, live=live)
inspector
'''),
    md("The rows currently listed, as a DataFrame:"),
    code("inspector.selected.head()"),
])

write("40_ablation.ipynb", [
    md("# 40 · Ablations on the quick budget: one setting changed, the whole loop rerun\n"
       "`ablation` names what changes (cycles, init, cross_loss, bi_loss, pooling, pool_size, pool) and "
       "`value` its setting; everything else is the base configuration. The run's metrics.json carries "
       "the ablation and value, so 90_tables / 91_figures make one table and one bar chart per ablation."),
    code(HEAD),
    params('''
ablation: str = "cross_loss"  # cycles, init, cross_loss, bi_loss, pooling, pool_size or pool
value: str = "mse"  # the setting, e.g. 1/2/3, fresh/inherit, bce/mse, mse/cosent, cls/mean, 1000/4000/16000/all, transductive/inductive
preset: str = "quick"  # the base budget
config: str = ""  # optional YAML of base overrides (params/*.yaml)
start: str = "minilm-l6"  # start bi-encoder (alias or folder)
data: str = ""  # STS data folder (empty: default resolution)
run_dir: str = "papermill_runs/40_ablation/default"  # the run folder (the plan sets one per ablation value)
reuse_from: str = ""  # more folders (comma-separated) whose finished runs may lend cycles, e.g. papermill_runs/20_distill
'''),
    code('''
P = tnb.parameters(globals(), _before)
from pathlib import Path
from tenc import distill
from tenc.cli import summary_table
from tenc.config import DistillConfig, ablation_overrides
changes = ablation_overrides(ablation, value)
cfg = DistillConfig.from_sources(preset, config, start=start, data=data, **changes)
tnb.seed_all(cfg.seed)
changes
'''),
    md("## Run the loop (finished stages are skipped)"),
    code('''
# an ablation value equal to a finished run beside it (e.g. cycles=1 and cross_loss=bce on the quick budget) or
# in reuse_from records that run's results under its own name instead of training the same thing again; a
# run that shares some cycles with it lends them (tenc.distill.run_or_reuse)
search = [Path(run_dir).parent] + [Path(f.strip()) for f in reuse_from.split(",") if f.strip()]
tags = {"name": f"{ablation}={value}", "ablation": ablation, "value": value}
summary = distill.run_or_reuse(cfg, run_dir, tags=tags, search=search)
print(summary_table(summary))
'''),
])

write("90_tables.ipynb", [
    md("# 90 · Tables, rebuilt from metrics.json files only\n"
       "Every run (distillation, evaluation, priming) leaves a metrics.json; this notebook collects them "
       "(`tenc.tables.collect`) and writes the paper-layout main table and one table per ablation."),
    code(HEAD),
    params('''
roots: str = "papermill_runs,runs"  # comma-separated folders searched for metrics.json
out_dir: str = "results"  # tables.md and cycles.csv go here
keep: str = ""  # an earlier results folder (e.g. results): its rows for runs not found under roots are kept
paper_spec: str = "params/paper_table.yaml"  # which scoreboard rows fill the paper's layout
'''),
    code('''
P = tnb.parameters(globals(), _before)
from pathlib import Path
from tenc import tables
from tenc.io import atomic_write_text
df = tables.collect(roots)
priming = tables.priming_table(roots)
print(f"{len(df)} result rows from {df['source'].nunique() if len(df) else 0} metrics.json files")
if keep:  # runs made on another machine: their rows from the last rebuild (a run found here replaces its own)
    n = len(df)
    df = tables.keep_earlier(df, Path(keep) / "cycles.csv")
    priming = tables.keep_earlier(priming, Path(keep) / "prime_search.csv")
    print(f"{len(df) - n} result rows kept from {Path(keep) / 'cycles.csv'}")
main = tables.main_table(df)
ablations = tables.ablation_tables(df)
'''),
    md("## Main table (Spearman x 100, \"all\" setting; `selected` marks the cycle each rule picked)"),
    code('''
main
'''),
    md("## Ablations"),
    code('''
for name, t in ablations.items():
    print(name)
    display(t)
'''),
    md("## Priming runs (settings, speed, collapse, dev and the 7 sets)"),
    code('''
priming
'''),
    md("## Write results/tables.md, results/cycles.csv and results/prime_search.csv"),
    code('''
text = ["# Results rebuilt from metrics.json (notebooks/90_tables.ipynb)", "", "## Main table", "",
        tables.markdown(main)]
for name, t in ablations.items():
    text += ["", f"## Ablation: {name}", "", tables.markdown(t)]
if len(priming):
    text += ["", "## Priming runs", "", tables.markdown(priming)]
Path(out_dir).mkdir(parents=True, exist_ok=True)
atomic_write_text(Path(out_dir) / "tables.md", "\\n".join(text) + "\\n")
atomic_write_text(Path(out_dir) / "cycles.csv", tables.cycles_csv(df))
if len(priming):
    atomic_write_text(Path(out_dir) / "prime_search.csv", priming.to_csv(index=False))
'''),
    md("## The paper's layout: results/paper_table.md (the scoreboard rows `paper_spec` names)"),
    code('''
import pandas as pd
from tenc.config import load_yaml
board = Path(out_dir) / "sts.csv"
if board.is_file():
    spec = load_yaml(paper_spec)
    paper = tables.paper_table(pd.read_csv(board), spec)
    if (Path(out_dir) / "tasks.csv").is_file():  # the binary tasks (ROC-AUC), when such rows exist
        paper += "\\n" + tables.binary_table(pd.read_csv(Path(out_dir) / "tasks.csv"), spec)
    head = f"# The paper's layout (notebooks/90_tables.ipynb; rows named in {paper_spec})"
    atomic_write_text(Path(out_dir) / "paper_table.md", head + "\\n\\n" + paper)
    print(paper)
'''),
])

write("91_figures.ipynb", [
    md("# 91 · Figures, rebuilt from metrics.json files (and the runs' saved predictions and labels)\n"
       "The 7-task average per cycle, bi-vs-cross scatter per cycle coloured by gold score, pseudo-label "
       "distributions per cycle, and ablation bars with the start as a line. PNG for the README, SVG too."),
    code(HEAD),
    params('''
roots: str = "papermill_runs,runs"  # comma-separated folders searched for metrics.json
runs: str = ""  # comma-separated run names for the per-run figures; empty: every distillation run found
out_dir: str = "figures"  # where the PNG and SVG files go
keep: str = ""  # an earlier results folder (e.g. results): its rows for runs not found under roots are kept
paper_spec: str = "params/paper_table.yaml"  # the tracks of the gains figure
'''),
    code('''
P = tnb.parameters(globals(), _before)
import re
from pathlib import Path
import matplotlib
from tenc import plots, tables
df = tables.collect(roots)
if keep:  # rows of runs made on another machine (their per-run figures stay as they are)
    df = tables.keep_earlier(df, Path(keep) / "cycles.csv")
wanted = [r.strip() for r in runs.split(",") if r.strip()]
if wanted:
    df = df[df["run"].isin(wanted)]
out = Path(out_dir)
out.mkdir(parents=True, exist_ok=True)

def save(fig, name):
    fig.savefig(out / f"{name}.png", dpi=120, metadata=plots.FIXED)
    with matplotlib.rc_context({"svg.hashsalt": "tenc"}):  # fixed SVG ids: a rebuild does not churn git
        fig.savefig(out / f"{name}.svg", metadata={"Date": None})
    return fig
'''),
    md("## Gain over the start per track (the README's figure; rows named in `paper_spec`)"),
    code('''
import pandas as pd
from tenc.config import load_yaml
board = Path(keep or "results") / "sts.csv"
if board.is_file():
    spec = load_yaml(paper_spec)
    save(plots.gains_figure(pd.read_csv(board), spec, spec.get("reference_gains")), "gains")
'''),
    md("## 7-task average per cycle, against each run's start"),
    code('save(plots.cycles_figure(df), "cycles")'),
    md("## Bi vs cross per cycle, and the pseudo-labels, for each run"),
    code('''
distill_runs = df[df["cycle"].notna()].drop_duplicates("run")[["run", "source"]].itertuples(index=False)
for name, source in distill_runs:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")  # "paper rampart 2-layer bi, 6-layer cross" -> paper-rampart-2-layer-bi-6-layer-cross
    if any(Path(source).glob("cycle_*/preds_cross_model.csv")):
        display(save(plots.scatter_figure(source), f"scatter_{slug}"))
    if any(Path(source).glob("cycle_*/labels_*.npy")):
        display(save(plots.label_distributions(source), f"labels_{slug}"))
'''),
    md("## Ablations"),
    code('''
abl = tables.ablation_tables(df)
save(plots.ablation_figure(abl), "ablations") if abl else print("no ablation runs yet")
'''),
])
