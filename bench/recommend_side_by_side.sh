#!/usr/bin/env bash
# Gowalla LightGCN epoch (BPR sampling + training) and full evaluation, Ripple
# (examples/gowalla_lightgcn.toml) against PyG 2.8's LightGCN on PyPI's torch
# (bench/pyg_lightgcn.py), same machine, one sitting (alternating rounds), same model,
# batch and thread count (and, like PyG's example, every training interaction once an epoch:
# recommend.sampling = interactions). Ripple's figures: the median epoch_ms and eval_ms of a run of
# EPOCHS epochs (summary.json). PyG's: the median of BATCHES training steps after 3 warm-up
# steps, times the 396 batches of an epoch, and one full evaluation; once on a torch.sparse
# CSR adjacency (its fast path without torch-sparse) and, with EDGE_INDEX=1, on edge_index.
# The faster PyG is the yardstick.
# Usage: PYG_PYTHON=/path/to/venv/bin/python bash bench/recommend_side_by_side.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYG_PYTHON:?set PYG_PYTHON to a python with torch and torch_geometric}
EPOCHS=${EPOCHS:-2} BATCHES=${BATCHES:-20} THREADS=${THREADS:-2} ROUNDS=${ROUNDS:-2} EDGE_INDEX=${EDGE_INDEX:-0}
OUT=$(mktemp -d)
for round in $(seq "$ROUNDS"); do
  rm -rf "$OUT/run"
  build/ripple train --config examples/gowalla_lightgcn.toml --set train.epochs="$EPOCHS" \
    --set train.threads="$THREADS" --set recommend.sampling=interactions --set train.log_every=1000 --run-dir "$OUT/run" > /dev/null 2>&1
  python3 -c "import json,sys; m=json.load(open(sys.argv[1]))['metrics']; print(json.dumps({'lib':'ripple','epoch_ms':m['epoch_ms']['mean'],'eval_ms':m['eval_ms']['mean']}))" "$OUT/run/summary.json"
  "$PY" bench/pyg_lightgcn.py --data data/gowalla --batches "$BATCHES" --threads "$THREADS" --sparse 2>/dev/null \
    | python3 -c "import json,sys; r=json.loads(sys.stdin.read()); print(json.dumps({'lib':r['lib'],'epoch_ms':r['epoch_ms_estimate'],'eval_ms':r['eval_ms']}))"
  if [ "$EDGE_INDEX" = 1 ]; then
    "$PY" bench/pyg_lightgcn.py --data data/gowalla --batches 5 --threads "$THREADS" 2>/dev/null \
      | python3 -c "import json,sys; r=json.loads(sys.stdin.read()); print(json.dumps({'lib':r['lib'],'epoch_ms':r['epoch_ms_estimate'],'eval_ms':r['eval_ms']}))"
  fi
done | tee "$OUT/results.jsonl"
python3 bench/side_by_side_report.py "$OUT/results.jsonl" epoch_ms eval_ms
