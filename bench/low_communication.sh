#!/usr/bin/env bash
# Low-communication strategies against ddp (issue 17's table): mini-batch GraphSAGE
# (fanouts 10,5, batch 256) on a learnable 200k-node / 4M-edge csbm graph, partitioned in 4
# (METHOD: metis or random) with a 1-hop halo, 4 ranks with dist.data = "partitioned".
# Runs each of STRATEGIES (default: ddp diloco gossip; also local-sgd, diloco-int4 and
# streaming-diloco-int4: 4 fragments, 1 step of overlap, int4 changes; ddp-fetch: ddp
# fetching what lies beyond the halo from its owners (ddp-fetch-half: evaluating in float16,
# which halves the evaluation's exchanges); replicated: ddp with every rank on the
# whole graph, sharding the training nodes; the periodic ones
# with H = SYNC_EVERY, gossip on a ring with the final merge) for EPOCHS epochs and SEEDS
# seeds, then each again over a simulated 100 Mbit/s link for LINK_SEEDS seeds (default
# SEEDS; 0: not), and prints per run: test accuracy, total bytes, the largest collective of
# training (the peak per synchronization), synchronizations, wall time. Not part of make
# test (about 1.5 min per 50 epochs per seed and run on 2 cores).
# Usage: [STRATEGIES="ddp diloco"] [LINK_SEEDS=1] bench/low_communication.sh [EPOCHS] [SEEDS] [SYNC_EVERY] [METHOD]
set -euo pipefail
EPOCHS=${1:-50}
SEEDS=${2:-1}
H=${3:-100}
METHOD=${4:-random}
STRATEGIES=${STRATEGIES:-ddp diloco gossip}
LINK_SEEDS=${LINK_SEEDS:-$SEEDS}
RIPPLE=${RIPPLE:-build/ripple}
WORK=${WORK:-$(mktemp -d)}
DATA="$WORK/csbm200k"
PARTS="$WORK/parts-$METHOD"
[ -d "$DATA" ] || "$RIPPLE" generate --kind csbm --nodes 200000 --edges 4000000 --features 128 --classes 16 \
  --format native --p-in 0.5 --signal 0.06 --train-fraction 0.1 --out "$DATA" > /dev/null
[ -d "$PARTS" ] || "$RIPPLE" partition --in "$DATA" --parts 4 --method "$METHOD" --halo 1 --out "$PARTS" > /dev/null
common=(train --config examples/cora_sage.toml --set "dataset.path=$PARTS" --set dataset.split=random
  --set dataset.normalize_features=false --set 'sampler.fanouts=[10,5]' --set sampler.batch_size=256
  --set "train.epochs=$EPOCHS" --set train.patience=0 --set train.threads=1 --set dist.data=partitioned)
run() {
  local name=$1 seeds=$2
  shift 2
  local start end
  start=$(date +%s.%N)
  OMP_NUM_THREADS=1 "$RIPPLE" launch --nproc 4 -- "${common[@]}" --seeds "$seeds" --run-dir "$WORK/$name" "$@" \
    > "$WORK/$name.log" 2>&1
  end=$(date +%s.%N)
  python3 - "$WORK/$name" "$name" "$start" "$end" "$seeds" <<'PY'
import json, sys
s = json.load(open(sys.argv[1] + "/summary.json"))
m, d = s["metrics"], s["dist"]
seeds = int(sys.argv[5])
per_seed = " ".join(f"{100 * a:.2f}" for a in m["test_acc"]["per_seed"])
print(f"{sys.argv[2]:<28} test {100 * m['test_acc']['mean']:.2f} +- {100 * m['test_acc']['std']:.2f} % ({per_seed})  "
      f"bytes/seed {d['bytes']['total'] / seeds / 1e6:8.2f} MB  peak {d['peak_collective_bytes'] / 1e3:7.1f} kB  "
      f"syncs/rank/seed {d['synchronizations_per_rank'] / seeds:5.0f}  "
      f"wall/seed {(float(sys.argv[4]) - float(sys.argv[3])) / seeds:6.1f} s")
PY
}
for strategy in $STRATEGIES; do
  case $strategy in
    ddp) name=ddp; args=(--set dist.strategy=ddp) ;;
    ddp-fetch) name=ddp-fetch; args=(--set dist.strategy=ddp --set dist.remote=fetch) ;;
    ddp-fetch-half) name=ddp-fetch-half; args=(--set dist.strategy=ddp --set dist.remote=fetch --set sampler.eval_dtype=float16) ;;
    replicated) name=replicated; args=(--set dist.strategy=ddp --set dist.data=replicated --set "dataset.path=$DATA") ;;
    *-int4) name="$strategy-h$H"
      args=(--set "dist.strategy=${strategy%-int4}" --set "dist.sync_every=$H" --set dist.compress=int4) ;;
    *) name="$strategy-h$H"; args=(--set "dist.strategy=$strategy" --set "dist.sync_every=$H") ;;
  esac
  run "$name" "$SEEDS" "${args[@]}"
  if [ "$LINK_SEEDS" -gt 0 ]; then run "$name-100mbit" "$LINK_SEEDS" "${args[@]}" --set dist.link_mbps=100; fi
done
