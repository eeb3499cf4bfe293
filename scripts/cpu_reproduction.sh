#!/usr/bin/env bash
# The real-data `cpu`-profile reproduction behind results/: Table 2 and the lower bound / DTML /
# upper bound rows of Table 3, seeds 1-3, `cpu` profile, dev split (training uses a GPU when one is
# present: device auto). Resumable: re-running skips finished runs and continues interrupted ones
# from their last checkpoint.
#   DTML_DATA=../shared/data/LA nohup scripts/cpu_reproduction.sh > runs/queue.log 2>&1 &
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
: "${DTML_DATA:?set DTML_DATA to the LA data root}"
SEEDS=${SEEDS:-"1 2 3"}
THREADS=${THREADS:-2}  # torch threads; 1 when the machine is shared (not part of the run key)
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}  # no spinning threads on a busy machine
# method|extra overrides; JOBS="supervised| sdf_only|" (space-separated) runs a subset, so two
# workers can share the list (a run being trained elsewhere is skipped: train.lock).
if [ -n "${JOBS:-}" ]; then read -r -a JOBS <<< "$JOBS"; else JOBS=(
  "dtml|"
  "supervised|"
  "supervised|--set=labeled_count=64"
  "sdf_only|"
  "dtml_labeled|"
); fi
for seed in $SEEDS; do
  for job in "${JOBS[@]}"; do
    method=${job%%|*}
    extra=${job#*|}
    echo "=== $(date -u +%FT%TZ) train $method seed $seed $extra"
    # shellcheck disable=SC2086
    if ! run=$($PY -m dtml train --profile cpu --method "$method" --seed "$seed" --data "$DTML_DATA" \
        --quiet --set threads="$THREADS" $extra | tail -1); then
      echo "=== skipped (failed or being trained elsewhere)"; continue
    fi
    echo "=== $(date -u +%FT%TZ) evaluate $run"
    $PY -m dtml evaluate "$run" --data "$DTML_DATA" --split dev
  done
done
