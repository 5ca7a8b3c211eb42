#!/bin/bash
# The main job's noise: its distillation (preset main: one paper-track cycle on 8,000 pool pairs) repeated with
# seeds 0, 1, 2 from one primed start (rampart, SimCSE on 2 layers, seed 0) -> results/main_seeds.csv, which
# make run's final report reads. About 35 min a seed here; finished runs are skipped, an interrupted one resumes.
#   make main-seeds        (or: PY=.venv/bin/python bash tools/main_seeds.sh)
set -euo pipefail
PY=${PY:-.venv/bin/python}
R=${RUNS:-runs}
PRIMED=$R/prime/simcse-mean-lr3e-4-layers2
test -f $PRIMED/metrics.json || $PY -m tenc prime --config params/prime-search/simcse-mean-lr3e-4-layers2.yaml --out $PRIMED --quiet
for s in 0 1 2; do
  $PY -m tenc distill --preset main --set start=$PRIMED --set cross_init=rampart --set seed=$s \
    --out $R/main/seed-$s --name "main job seed $s" --quiet
done
$PY - "$R" <<'PY'
import sys
from tenc.scoreboard import seed_rows
runs = [f"{sys.argv[1]}/main/seed-{s}" for s in (0, 1, 2)]
seed_rows(runs).to_csv("results/main_seeds.csv", index=False, float_format="%.2f")
print(open("results/main_seeds.csv").read())
PY
