#!/usr/bin/env bash
# bf16 autocast vs fp32 on the phantom: the same supervised V-Net (8 filters, 400 iterations,
# 16 labeled, dev split) at both precisions, seeds 1-3. Prints one line per run (Dice %).
# Trains into the git-ignored runs_phantom/ (fp32) and runs_phantom_bf16/ (bf16); the bf16 run
# folders behind results/precision_phantom.md are committed (without weights) in
# results/precision_phantom/runs/.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
for seed in 1 2 3; do
  for prec in fp32 bf16; do
    dir=runs_phantom; [ "$prec" = bf16 ] && dir=runs_phantom_bf16
    run=$($PY -m dtml train --profile ci --method supervised --seed $seed --runs-dir $dir --quiet \
          --set base_filters=8 --set iterations=400 --set lr_step=300 --set threads=1 \
          --set precision=$prec --set labeled_count=16 | tail -1)
    $PY -m dtml evaluate "$run" --split dev |
      $PY -c "import json,sys; s=json.load(sys.stdin); print('seed $seed $prec', s['run'], round(100*s['metrics_voxel']['dice']['mean'], 2))"
  done
done
