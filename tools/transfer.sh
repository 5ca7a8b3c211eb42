#!/bin/bash
# Domain transfer (the paper's section 5 idea): encoders distilled on one task's pool, scored on another's test.
#   TrecQA pool -> STS: the dev-selected encoders of the two TrecQA runs (docs/results.md, "Binary tasks"),
#                       on the 7 STS sets at the paper's limits (bi 32 tokens, cross 64, one order) -> results/sts.csv
#   STS pool -> TrecQA: STS-distilled encoders, on TrecQA at the limits a TrecQA run fits (bi 64, cross 80)
#                       -> results/tasks.csv
# The start rows to compare with are already on both boards (packaged minilm-l6, primed rampart).
#   PY=.venv/bin/python bash tools/transfer.sh                 (about 25 min here)
# Each STS-pool run is given as NAME=FOLDER in STS_RUNS (default: make run's main job).
set -euo pipefail
PY=${PY:-.venv/bin/python}
TRECQA_RUNS=${TRECQA_RUNS:-"trecqa minilm-l6=runs/trecqa-minilm-l6;trecqa rampart simcse 2 layers=runs/trecqa-rampart"}
STS_RUNS=${STS_RUNS:-"main job seed 0=papermill_runs/20_distill/main"}
IFS=';' read -ra trecqa_runs <<< "$TRECQA_RUNS"
IFS=';' read -ra sts_runs <<< "$STS_RUNS"
for entry in "${trecqa_runs[@]}"; do
  name=${entry%%=*}; run=${entry#*=}
  $PY -m tenc evaluate --model $run/best/bi --kind bi --max-length 32 --quiet \
    --name "$name, TrecQA pool -> STS" --stage "dev-selected" --results results/sts.csv
  $PY -m tenc evaluate --model $run/best/cross --kind cross --max-length 64 --cross-orders one --quiet \
    --name "$name, TrecQA pool -> STS" --stage "dev-selected" --results results/sts.csv
done
for entry in "${sts_runs[@]}"; do
  name=${entry%%=*}; run=${entry#*=}
  $PY -m tenc evaluate --task trecqa --model $run/best/bi --kind bi --max-length 64 --quiet \
    --name "$name, STS pool -> TrecQA" --stage "dev-selected" --results results/tasks.csv
  $PY -m tenc evaluate --task trecqa --model $run/best/cross --kind cross --max-length 80 --quiet \
    --name "$name, STS pool -> TrecQA" --stage "dev-selected" --results results/tasks.csv
done
