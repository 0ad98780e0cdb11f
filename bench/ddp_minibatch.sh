#!/usr/bin/env bash
# Mini-batch GraphSAGE (fanouts 10,5) on a learnable 1M-node / 20M-edge csbm graph: one
# process with batch 2*B against 2 data-parallel ranks with batch B each (the same global
# batch), SEEDS seeds each; prints test accuracy (mean, std), epoch time and the bytes of
# the 2-rank run by kind. Not part of make test (about 10 minutes on 2 cores).
# Usage: bench/ddp_minibatch.sh [EPOCHS] [SEEDS] [B]
set -euo pipefail
EPOCHS=${1:-10}
SEEDS=${2:-3}
B=${3:-1024}
RIPPLE=${RIPPLE:-build/ripple}
WORK=${WORK:-$(mktemp -d)}
DATA="$WORK/csbm1m"
[ -d "$DATA" ] || "$RIPPLE" generate --kind csbm --nodes 1000000 --edges 20000000 --features 128 --classes 16 \
  --format native --feature-dtype float16 --p-in 0.5 --signal 0.06 --train-fraction 0.1 --out "$DATA" > /dev/null
common=(train --config examples/cora_sage.toml --set "dataset.path=$DATA" --set dataset.split=random
  --set dataset.normalize_features=false --set 'sampler.fanouts=[10,5]' --set "train.epochs=$EPOCHS"
  --set train.patience=0 --seeds "$SEEDS")
"$RIPPLE" "${common[@]}" --set "sampler.batch_size=$((2 * B))" --set train.threads=2 --run-dir "$WORK/one" > /dev/null
OMP_NUM_THREADS=1 "$RIPPLE" launch --nproc 2 -- "${common[@]}" --set "sampler.batch_size=$B" --set train.threads=1 \
  --run-dir "$WORK/two" > /dev/null 2>&1
python3 - "$WORK" <<'PY'
import json, sys
w = sys.argv[1]
for name, label in (("one", "1 process, batch 2B"), ("two", "2 ranks, batch B each")):
    s = json.load(open(f"{w}/{name}/summary.json"))
    m = s["metrics"]
    line = f"{label}: test {100 * m['test_acc']['mean']:.2f} +- {100 * m['test_acc']['std']:.2f} % " \
           f"(per seed {[round(100 * x, 2) for x in m['test_acc']['per_seed']]}), epoch {m['epoch_ms']['mean']:.0f} ms"
    if "dist" in s:
        b = s["dist"]["bytes"]
        line += f", bytes {json.dumps({k: round(v / 1e6, 2) for k, v in b.items()})} MB over all epochs and seeds"
    print(line)
PY
