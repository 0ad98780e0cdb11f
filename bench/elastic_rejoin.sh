#!/usr/bin/env bash
# A rank lost and taken back (issue 17): 4 ranks of diloco (dist.elastic) train GraphSAGE
# mini-batch on the 200k-node csbm graph of bench/low_communication.sh, replicated on every
# rank. Three runs side by side: uninterrupted; rank 2 killed with SIGKILL once rank 0 has
# printed epoch KILL_AT, the survivors going on without it; the same with the launcher
# starting rank 2 again (--max-rejoins 1), which rejoins at the end of an epoch and proves
# rank 0's state with its parameter hash. Prints each run's test accuracy (best validation
# epoch), bytes, wall time and membership history.
#
#   bash bench/elastic_rejoin.sh [EPOCHS=50] [KILL_AT=10] [H=100]
#
# WORK (default: a new temporary directory) keeps the graph and the runs; RIPPLE names the
# binary (default build/ripple); SEED sets train.seed (default the config's); RUNS picks
# among the three runs (default "uninterrupted dropped rejoined").
set -euo pipefail
EPOCHS=${1:-50}
KILL_AT=${2:-10}
H=${3:-100}
RIPPLE=${RIPPLE:-build/ripple}
WORK=${WORK:-$(mktemp -d)}
DATA="$WORK/csbm200k"
[ -d "$DATA" ] || "$RIPPLE" generate --kind csbm --nodes 200000 --edges 4000000 --features 128 --classes 16 \
  --format native --p-in 0.5 --signal 0.06 --train-fraction 0.1 --out "$DATA" > /dev/null
common=(train --config examples/cora_sage.toml --set "dataset.path=$DATA" --set dataset.split=random
  --set dataset.normalize_features=false --set 'sampler.fanouts=[10,5]' --set sampler.batch_size=256
  --set "train.epochs=$EPOCHS" --set train.patience=0 --set train.threads=1 --set dist.strategy=diloco
  --set "dist.sync_every=$H" --set dist.elastic=true ${SEED:+--set "train.seed=$SEED"})

# run NAME KILL(0|1) [launch flags...]
run() {
  local name=$1 kill_rank=$2
  shift 2
  rm -rf "${WORK:?}/$name" "$WORK/$name.log"
  local start end
  start=$(date +%s.%N)
  OMP_NUM_THREADS=1 "$RIPPLE" launch --nproc 4 --elastic "$@" -- "${common[@]}" --run-dir "$WORK/$name" \
    > "$WORK/$name.log" 2>&1 &
  local launcher=$!
  if [ "$kill_rank" = 1 ]; then
    until grep -q "epoch *$KILL_AT/$EPOCHS" "$WORK/$name.log" 2>/dev/null; do sleep 0.2; done
    kill -9 "$(sed -n 's/^ripple launch: rank 2 of 4 pid \([0-9]*\).*/\1/p' "$WORK/$name.log" | head -1)"
  fi
  wait "$launcher"
  end=$(date +%s.%N)
  python3 - "$WORK/$name" "$name" "$start" "$end" <<'PY'
import json, sys
s = json.load(open(sys.argv[1] + "/summary.json"))
d = s["dist"]
history = "; ".join(
    f"gen {m['generation']}: ranks {m['ranks']}"
    + (f" lost {m['lost']}" if m.get("lost") else "")
    + (f" joined {m['joined']} hash {m['parameter_hash']}" if m.get("joined") else "")
    for m in d["membership"])
print(f"{sys.argv[2]:<14} test {100 * s['metrics']['test_acc']['mean']:.2f} %  bytes {d['bytes']['total'] / 1e6:7.2f} MB  "
      f"wall {float(sys.argv[4]) - float(sys.argv[3]):6.1f} s  {history}")
PY
}
for name in ${RUNS:-uninterrupted dropped rejoined}; do
  case $name in
    uninterrupted) run uninterrupted 0 ;;
    dropped) run dropped 1 ;;
    rejoined) run rejoined 1 --max-rejoins 1 ;;
    *) echo "RUNS: unknown run \"$name\" (uninterrupted, dropped, rejoined)" >&2; exit 2 ;;
  esac
done
