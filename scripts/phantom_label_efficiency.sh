#!/usr/bin/env bash
# Does the embedded phantom make labels matter? A supervised V-Net on 16 labeled phantom cases vs
# on all 64 non-validation cases (dev split), same budget, seeds 1-3; results -> results/phantom/.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
SETS=(--set base_filters=8 --set iterations=400 --set lr_step=300 --set threads=1)
for seed in 1 2 3; do
  for labeled in 16 64; do
    run=$($PY -m dtml train --profile ci --method supervised --seed $seed --runs-dir runs_phantom \
          --quiet "${SETS[@]}" --set labeled_count=$labeled | tail -1)
    $PY -m dtml evaluate "$run" --split dev > /dev/null
  done
done
$PY -m dtml publish --runs runs_phantom --profile ci --out results/phantom
