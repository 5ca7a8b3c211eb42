#!/bin/bash
# The main job's noise: its distillation (preset main: one paper-track cycle on 8,000 pool pairs) repeated with
# seeds 0, 1, 2 from make run's primed start (rampart, SimCSE on 2 layers, seed 0) -> results/main_seeds.csv, which
# make run's gain report reads. About 11 min a seed here; seed 0 is make run's own run when it is there (--reuse
# takes a finished sibling with the same settings), an interrupted seed resumes.
#   make main-seeds        (or: PY=.venv/bin/python bash tools/main_seeds.sh)
set -euo pipefail
PY=${PY:-.venv/bin/python}
PRIMED=${PRIMED:-papermill_runs/10_prime/rampart-simcse-2layers}   # where make run's 10_prime step writes it
OUT=${OUT:-papermill_runs/20_distill}                              # beside make run's papermill_runs/20_distill/main
test -f $PRIMED/metrics.json || $PY -m tenc prime --config params/prime-search/simcse-mean-lr3e-4-layers2.yaml --out $PRIMED --quiet
for s in 0 1 2; do
  $PY -m tenc distill --preset main --set start=$PRIMED --set cross_init=rampart --set seed=$s \
    --out $OUT/seed-$s --name "main job seed $s" --results results/sts.csv --reuse --quiet
done
$PY - "$OUT" <<'PY'
import sys
from tenc.scoreboard import seed_rows
runs = [f"{sys.argv[1]}/seed-{s}" for s in (0, 1, 2)]
seed_rows(runs).to_csv("results/main_seeds.csv", index=False, float_format="%.2f")
print(open("results/main_seeds.csv").read())
PY
