#!/usr/bin/env bash
# Neighbour sampling and mini-batch GraphSAGE, Ripple against PyG's NeighborLoader, on one
# generated csbm graph (1M nodes / 20M edges / 128 float16 features by default), in one
# sitting. Both read the same native dataset directory (PyG through bench/pyg_minibatch.py),
# so they sample from the same graph, seeds and features.
#
#   bench/sampler_side_by_side.sh [DATA_DIR]
#   knobs: NODES EDGES FEATURES FANOUTS=15,10,5 BATCH=1024 HIDDEN=256 THREADS=2
#          SAMPLE_BATCHES=100 (batches per sampling pass) TRAIN_BATCHES=20 (batches of the
#          timed training run; 0: every training seed) PYG_WORKERS=0 (NeighborLoader processes)
#
# Ripple prints seeds_per_second for 0 (in the training thread), 1 and 2 workers, and
# epoch_ms_median over TRAIN_BATCHES training batches; PyG prints seeds_per_second and
# train_ms over the same numbers of batches. Needs the PyG venv of ../shared/tools/pyg-baseline (PYG_VENV, from its
# setup.sh); PyG is a yardstick here, never a dependency. Not part of `make test`.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${1:-/tmp/ripple-sbs/csbm_1m}
RIPPLE=${RIPPLE:-build/ripple}
PYG_TOOLS=${PYG_TOOLS:-../shared/tools/pyg-baseline}
PYG_VENV=${PYG_VENV:-$HOME/.cache/ripple-pyg-baseline}
NODES=${NODES:-1000000}
EDGES=${EDGES:-20000000}
FEATURES=${FEATURES:-128}
FANOUTS=${FANOUTS:-15,10,5}
BATCH=${BATCH:-1024}
HIDDEN=${HIDDEN:-256}
THREADS=${THREADS:-2}
SAMPLE_BATCHES=${SAMPLE_BATCHES:-100}
TRAIN_BATCHES=${TRAIN_BATCHES:-20}
PYG_WORKERS=${PYG_WORKERS:-0}

if [[ ! -f $DATA/header.json ]]; then
  mkdir -p "$(dirname "$DATA")"
  "$RIPPLE" generate --kind csbm --nodes "$NODES" --edges "$EDGES" --features "$FEATURES" --classes 16 \
    --format native --feature-dtype float16 --out "$DATA" >&2
fi
uptime >&2
# Sampling + gathering alone: median of 3 passes over SAMPLE_BATCHES batches.
"$RIPPLE" bench --dataset "$DATA" --sampler --fanouts "$FANOUTS" --batch-size "$BATCH" --workers 0,1,2 \
  --batches "$SAMPLE_BATCHES" --threads "$THREADS" --epochs 3 --warmup 1 --output json
# Mini-batch training over TRAIN_BATCHES batches.
"$RIPPLE" bench --dataset "$DATA" --sampler --fanouts "$FANOUTS" --batch-size "$BATCH" --workers 0,1 \
  --batches "$TRAIN_BATCHES" --model sage --hidden "$HIDDEN" --dropout 0.5 --threads "$THREADS" --epochs 1 --warmup 0 \
  --output json
"$PYG_VENV/bin/python" bench/pyg_minibatch.py --dataset "$DATA" --pyg-tools "$PYG_TOOLS" --fanouts "$FANOUTS" \
  --batch-size "$BATCH" --hidden "$HIDDEN" --threads "$THREADS" --num-workers "$PYG_WORKERS" \
  --sample-batches "$SAMPLE_BATCHES" --train-batches "$TRAIN_BATCHES"
