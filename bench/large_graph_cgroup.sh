#!/usr/bin/env bash
# A graph larger than the memory it may use, end to end: the learnable csbm graph (10M
# nodes / 200M edges / 128 features by default) is generated in the OGB raw layout (input
# preparation, not limited: the OGB writer holds the graph in memory), then converted to
# the native format (float16 features) by the streaming `ripple convert --memory-budget`,
# then sampled and trained for one epoch of mini-batch GraphSAGE (15,10,5) - the convert
# and the training each inside a memory cgroup limited to MEMORY_LIMIT (6 GiB). The native
# dataset is memory-mapped; page cache counts against the limit but is reclaimable, so
# the anonymous memory (peak RSS, printed by /usr/bin/time) is what must fit.
#
#   bench/large_graph_cgroup.sh [WORK_DIR]          (as root, or with a delegated cgroup)
#   knobs: NODES=10000000 EDGES=200000000 FEATURES=128 CLASSES=16 TRAIN_FRACTION=0.01
#          BUDGET=2G (convert) FANOUTS=15,10,5 BATCH=1024 WORKERS=2 HIDDEN=256 BATCHES=0
#          CONVERT=1 (0: keep an existing WORK_DIR/native and only train)
#
# TRAIN_FRACTION: the share of labelled training nodes (ogbn-papers100M labels about 1%);
# one epoch visits each once. Needs a writable cgroup-v1 memory hierarchy
# (/sys/fs/cgroup/memory) or systemd-run on cgroup v2; refuses to run unbounded. Not part
# of `make test` (tens of minutes, tens of GB of disk).
set -euo pipefail
cd "$(dirname "$0")/.."
WORK=${1:-/tmp/ripple-large}
RIPPLE=${RIPPLE:-build/ripple}
MEMORY_LIMIT=${MEMORY_LIMIT:-6G}
NODES=${NODES:-10000000}
EDGES=${EDGES:-200000000}
FEATURES=${FEATURES:-128}
CLASSES=${CLASSES:-16}
TRAIN_FRACTION=${TRAIN_FRACTION:-0.01}
BUDGET=${BUDGET:-2G}
FANOUTS=${FANOUTS:-15,10,5}
BATCH=${BATCH:-1024}
WORKERS=${WORKERS:-2}
HIDDEN=${HIDDEN:-256}
BATCHES=${BATCHES:-0}
CONVERT=${CONVERT:-1}

bytes_of() {  # 6G -> 6442450944
  numfmt --from=iec "$1"
}

# Runs "$@" inside a fresh memory cgroup capped at MEMORY_LIMIT, with /usr/bin/time -v;
# prints the cgroup's peak usage (page cache included) after the command.
limited() {
  local v1=/sys/fs/cgroup/memory
  if [[ -w $v1 ]]; then
    local cg=$v1/ripple-bench-$$
    mkdir -p "$cg"
    bytes_of "$MEMORY_LIMIT" >"$cg/memory.limit_in_bytes"
    [[ -e $cg/memory.memsw.limit_in_bytes ]] && bytes_of "$MEMORY_LIMIT" >"$cg/memory.memsw.limit_in_bytes" || true
    local status=0
    bash -c 'echo $$ > "$1/cgroup.procs"; shift; exec /usr/bin/time -v "$@"' _ "$cg" "$@" || status=$?
    echo "cgroup limit_bytes=$(cat "$cg/memory.limit_in_bytes") max_usage_bytes=$(cat "$cg/memory.max_usage_in_bytes") failcnt=$(cat "$cg/memory.failcnt")" >&2
    grep -E '^(total_rss|total_cache|total_mapped_file) ' "$cg/memory.stat" >&2 || true
    rmdir "$cg"
    return $status
  elif command -v systemd-run >/dev/null && [[ -f /sys/fs/cgroup/cgroup.controllers ]]; then
    systemd-run --scope --quiet -p MemoryMax="$MEMORY_LIMIT" -p MemorySwapMax=0 /usr/bin/time -v "$@"
  else
    echo "large_graph_cgroup.sh: no writable memory cgroup (v1 /sys/fs/cgroup/memory or systemd-run on v2)" >&2
    return 2
  fi
}

mkdir -p "$WORK"
if [[ ! -f $WORK/ogb/raw/num-node-list.csv.gz ]]; then
  echo "== generate csbm ${NODES} nodes / ${EDGES} edges / ${FEATURES} features in the OGB layout (not limited)" >&2
  /usr/bin/time -v "$RIPPLE" generate --kind csbm --nodes "$NODES" --edges "$EDGES" --features "$FEATURES" \
    --classes "$CLASSES" --train-fraction "$TRAIN_FRACTION" --format ogb --out "$WORK/ogb"
fi
du -sh --apparent-size "$WORK/ogb" >&2
if [[ $CONVERT != 0 || ! -f $WORK/native/header.json ]]; then
  echo "== convert to native float16, --memory-budget $BUDGET, inside $MEMORY_LIMIT" >&2
  rm -rf "$WORK/native"
  limited "$RIPPLE" convert --in "$WORK/ogb" --out "$WORK/native" --feature-dtype float16 --memory-budget "$BUDGET"
fi
du -sh --apparent-size "$WORK/native" >&2
echo "== sample (one pass) and train one epoch of GraphSAGE ($FANOUTS, batch $BATCH, $WORKERS workers) inside $MEMORY_LIMIT" >&2
limited "$RIPPLE" bench --dataset "$WORK/native" --sampler --fanouts "$FANOUTS" --batch-size "$BATCH" \
  --workers "$WORKERS" --batches "$BATCHES" --model sage --hidden "$HIDDEN" --threads 2 --epochs 1 --warmup 0 \
  --output json
