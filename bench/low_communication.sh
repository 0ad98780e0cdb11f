#!/usr/bin/env bash
# Low-communication strategies against ddp (issue 17's table): mini-batch GraphSAGE
# (fanouts 10,5, batch 256) on a learnable 200k-node / 4M-edge csbm graph, partitioned in 4
# (METHOD: metis or random) with a 1-hop halo, 4 ranks with dist.data = "partitioned".
# Runs each of STRATEGIES (default: ddp diloco gossip; the periodic ones with H = SYNC_EVERY,
# gossip on a ring with the final merge) for EPOCHS epochs and SEEDS seeds, then each again
# over a simulated 100 Mbit/s link, and prints per run: test accuracy, total bytes, the
# largest collective, synchronizations, wall time. Not part of make test (6 runs of about
# 1.5 min per 50 epochs per seed on 2 cores).
# Usage: [STRATEGIES="ddp diloco"] bench/low_communication.sh [EPOCHS] [SEEDS] [SYNC_EVERY] [METHOD]
set -euo pipefail
EPOCHS=${1:-50}
SEEDS=${2:-1}
H=${3:-100}
METHOD=${4:-random}
STRATEGIES=${STRATEGIES:-ddp diloco gossip}
RIPPLE=${RIPPLE:-build/ripple}
WORK=${WORK:-$(mktemp -d)}
DATA="$WORK/csbm200k"
PARTS="$WORK/parts-$METHOD"
[ -d "$DATA" ] || "$RIPPLE" generate --kind csbm --nodes 200000 --edges 4000000 --features 128 --classes 16 \
  --format native --p-in 0.5 --signal 0.06 --train-fraction 0.1 --out "$DATA" > /dev/null
[ -d "$PARTS" ] || "$RIPPLE" partition --in "$DATA" --parts 4 --method "$METHOD" --halo 1 --out "$PARTS" > /dev/null
common=(train --config examples/cora_sage.toml --set "dataset.path=$PARTS" --set dataset.split=random
  --set dataset.normalize_features=false --set 'sampler.fanouts=[10,5]' --set sampler.batch_size=256
  --set "train.epochs=$EPOCHS" --set train.patience=0 --set train.threads=1 --set dist.data=partitioned
  --seeds "$SEEDS")
run() {
  local name=$1
  shift
  local start end
  start=$(date +%s.%N)
  OMP_NUM_THREADS=1 "$RIPPLE" launch --nproc 4 -- "${common[@]}" --run-dir "$WORK/$name" "$@" > "$WORK/$name.log" 2>&1
  end=$(date +%s.%N)
  python3 - "$WORK/$name" "$name" "$start" "$end" <<'PY'
import json, sys
s = json.load(open(sys.argv[1] + "/summary.json"))
m, d = s["metrics"], s["dist"]
print(f"{sys.argv[2]:<14} test {100 * m['test_acc']['mean']:.2f} +- {100 * m['test_acc']['std']:.2f} %  "
      f"bytes {d['bytes']['total'] / 1e6:9.2f} MB  peak {d['peak_collective_bytes'] / 1e3:7.1f} kB  "
      f"syncs/rank {d['synchronizations_per_rank']:6.0f}  wall {float(sys.argv[4]) - float(sys.argv[3]):6.1f} s")
PY
}
for strategy in $STRATEGIES; do
  case $strategy in
    ddp) name=ddp; args=(--set dist.strategy=ddp) ;;
    *) name="$strategy-h$H"; args=(--set "dist.strategy=$strategy" --set "dist.sync_every=$H") ;;
  esac
  run "$name" "${args[@]}"
  run "$name-100mbit" "${args[@]}" --set dist.link_mbps=100
done
