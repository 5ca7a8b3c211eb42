#!/bin/bash
# Adaptation on the disjoint pool (no sentence of any of the seven test sets, 9,799 pairs): all-MiniLM-L6-v2 as the
# start, mpnet as a frozen teacher of both students, one cycle, 3 bi epochs, seeds 0, 1, 2; against the standard
# distillation baseline (the same bi student on mpnet's cosines alone, teachers_teach=bi, same pool and epochs,
# seeds 0, 1, 2) and the no-training test-time average of the start and mpnet (seed-free). Rows -> results/sts.csv.
# About 30 min a seed here for the Trans-Encoder runs and 10 for the baseline; an interrupted run resumes.
#   make mpnet && bash tools/adapt_disjoint.sh
set -euo pipefail
PY=${PY:-.venv/bin/python}
OUT=${OUT:-runs/adapt-disjoint}
RESULTS=${RESULTS:-results/sts.csv}
RECIPE="--preset paper --set start=minilm-l6 --set teachers=mpnet --set cycles=1 --set bi_epochs=3 --set patience=3
        --set lengths=fixed --set pool=disjoint"
for s in ${SEEDS:-0 1 2}; do
  $PY -m tenc distill $RECIPE --set teachers_teach=both --set seed=$s --out $OUT/both-seed-$s --results $RESULTS \
    --name "adaptation minilm-l6, disjoint pool, mpnet teaching both students, 3 bi epochs, seed $s" --quiet
done
for s in ${SEEDS:-0 1 2}; do
  $PY -m tenc distill $RECIPE --set teachers_teach=bi --set seed=$s --out $OUT/baseline-seed-$s --results $RESULTS \
    --name "standard distillation baseline: minilm-l6 on mpnet cosines alone, disjoint pool, 3 bi epochs, seed $s" --quiet
done
$PY -m tenc evaluate --model minilm-l6 mpnet --max-length 32 --results $RESULTS --quiet \
  --name "no-training average of minilm-l6 and mpnet cosines (test time)" --stage ensemble
