#!/usr/bin/env bash
# GIN graph-classification epoch, Ripple against PyG 2.8 on PyPI's torch, same machine, one
# sitting (alternating runs), same model, same batch size (32), same thread count. One
# epoch = training on 90 % of the dataset's graphs in batches of 32, then evaluating the
# other 10 % (what one fold of the cross-validation runs per epoch).
# Usage: PYG_PYTHON=/path/to/venv/bin/python bash bench/gin_side_by_side.sh [data/PROTEINS]
# The venv needs torch and torch_geometric from PyPI (../shared/tools/pypi-baseline/setup.sh
# makes one; `pip install torch==2.2.1 torch-geometric==2.8.1` is enough for this script).
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${1:-data/PROTEINS}
PY=${PYG_PYTHON:?set PYG_PYTHON to a python with torch and torch_geometric}
EPOCHS=${EPOCHS:-20} THREADS=${THREADS:-2} ROUNDS=${ROUNDS:-3}
OUT=$(mktemp -d)
for round in $(seq "$ROUNDS"); do
  rm -rf "$OUT/run"
  build/ripple train --config examples/proteins_gin.toml --set dataset.path="$DATA" --set train.epochs=$((EPOCHS + 2)) \
    --set task.run_folds=1 --set train.threads="$THREADS" --set train.log_every=1000 --run-dir "$OUT/run" > /dev/null 2>&1
  # PyG's epoch includes its test pass: add Ripple's eval_ms to epoch_ms (the training step
  # alone), epoch by epoch, past the same 2 warm-up epochs.
  python3 -c "import json,statistics,sys; r=[json.loads(l) for l in open(sys.argv[1])][2:]; print(json.dumps({'lib':'ripple','epoch_ms_median':statistics.median(x['epoch_ms']+x['eval_ms'] for x in r)}))" "$OUT/run/fold-0/metrics.jsonl"
  "$PY" bench/pyg_gin.py --data "$DATA" --epochs "$EPOCHS" --threads "$THREADS"
done | tee "$OUT/results.jsonl"
python3 - "$OUT/results.jsonl" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
r = statistics.median(x["epoch_ms_median"] for x in rows if x["lib"] == "ripple")
p = statistics.median(x["epoch_ms_median"] for x in rows if x["lib"] == "pyg")
print(f"GIN epoch (median of rounds): Ripple {r:.1f} ms, PyG {p:.1f} ms -> {p / r:.2f}x")
PY
