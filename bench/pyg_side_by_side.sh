#!/usr/bin/env bash
# Full-batch training step, Ripple against PyTorch Geometric on the same machine, data and
# LibTorch (Debian's PyTorch), in one sitting: Cora and CiteSeer with GCN (hidden 16), GAT
# (8 heads x 8) and GraphSAGE (hidden 64), Planetoid settings, 2 threads. Needs the PyG
# venv of ../shared/tools/pyg-baseline (PYG_VENV, set up by its setup.sh); PyG is a
# yardstick here, never a dependency. Prints one JSON line per measurement.
set -euo pipefail
cd "$(dirname "$0")/.."
PYG_TOOLS=${PYG_TOOLS:-../shared/tools/pyg-baseline}
PYG_VENV=${PYG_VENV:-$HOME/.cache/ripple-pyg-baseline}
RIPPLE=${RIPPLE:-build/ripple}
SEEDS=${SEEDS:-3}
for ds in cora citeseer; do
  for model in gcn gat sage; do
    case $model in
      gcn) args="--hidden 16 --dropout 0.5" ;;
      gat) args="--hidden 8 --heads 8 --dropout 0.6" ;;
      sage) args="--hidden 64 --dropout 0.5" ;;
    esac
    "$RIPPLE" bench --dataset "data/$ds" --model $model $args --threads 2 --epochs 200 --warmup 10 --output json
    "$PYG_VENV/bin/python" "$PYG_TOOLS/bench_fullbatch.py" --data "data/$ds" --model $model --seeds "$SEEDS" \
      --threads 2 2>/dev/null | grep '^{' | head -1 || true
  done
done
