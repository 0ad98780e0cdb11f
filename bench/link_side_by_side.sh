#!/usr/bin/env bash
# ogbl-ddi GraphSAGE link-prediction epoch, Ripple (examples/ddi_sage.toml) against PyG 2.8 on
# PyPI's torch running OGB's reference example (bench/pyg_link.py), same machine, one
# sitting (alternating rounds), same model, batch and thread count. Both sides are timed the
# same way: EPOCHS epochs after one warm-up epoch, medians of the epoch and evaluation times
# (Ripple's from the run's metrics.jsonl; its first epoch pays the page faults of the
# buffers it then reuses, as PyG's does). PyG runs twice per
# round: message passing on edge_index (PyG's default without torch-sparse) and on a
# torch.sparse CSR adjacency (its fast path); the faster is the yardstick.
# Usage: PYG_PYTHON=/path/to/venv/bin/python bash bench/link_side_by_side.sh
# The venv needs torch and torch_geometric from PyPI (`pip install torch==2.2.1
# torch-geometric==2.8.1`, or ../shared/tools/pypi-baseline/setup.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYG_PYTHON:?set PYG_PYTHON to a python with torch and torch_geometric}
EPOCHS=${EPOCHS:-2} THREADS=${THREADS:-2} ROUNDS=${ROUNDS:-2} EDGE_INDEX=${EDGE_INDEX:-1}
OUT=$(mktemp -d)
for round in $(seq "$ROUNDS"); do
  rm -rf "$OUT/run"
  build/ripple train --config examples/ddi_sage.toml --set train.epochs="$((EPOCHS + 1))" --set train.eval_every=1 --set train.threads="$THREADS" \
    --set train.log_every=1000 --run-dir "$OUT/run" > /dev/null 2>&1
  python3 -c "
import json, statistics, sys
rows = [json.loads(line) for line in open(sys.argv[1])][1:]  # after the warm-up epoch
print(json.dumps({'lib': 'ripple', 'epoch_ms_median': statistics.median(r['epoch_ms'] for r in rows),
                  'eval_ms_median': statistics.median(r['eval_ms'] for r in rows)}))" "$OUT/run/seed-0/metrics.jsonl"
  "$PY" bench/pyg_link.py --data data/ogbl-ddi --epochs "$EPOCHS" --threads "$THREADS" --sparse 2>/dev/null
  if [ "$EDGE_INDEX" = 1 ]; then "$PY" bench/pyg_link.py --data data/ogbl-ddi --epochs 1 --threads "$THREADS" 2>/dev/null; fi
done | tee "$OUT/results.jsonl"
python3 bench/side_by_side_report.py "$OUT/results.jsonl" epoch_ms_median eval_ms_median
