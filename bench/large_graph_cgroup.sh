#!/usr/bin/env bash
# A graph larger than the memory it may use, end to end: the learnable csbm graph (10M
# nodes / 200M edges / 128 features by default) is generated in the OGB raw layout (input
# preparation, not limited: the OGB writer holds the graph in memory), then converted to
# the native format (float16 features) by the streaming `ripple convert --memory-budget`,
# then sampled and trained for one epoch of mini-batch GraphSAGE (15,10,5) by `ripple
# bench`, then by `ripple train` with its layer-wise evaluation of every node - the
# convert and each run inside a memory cgroup limited to MEMORY_LIMIT (6 GiB). The native
# dataset is memory-mapped; page cache counts against the limit but is reclaimable, so
# the anonymous memory (peak RSS, printed by /usr/bin/time) is what must fit.
#
#   bench/large_graph_cgroup.sh [WORK_DIR]          (as root, or with a delegated cgroup)
#   knobs: NODES=10000000 EDGES=200000000 FEATURES=128 CLASSES=16 TRAIN_FRACTION=0.01
#          BUDGET=2G (convert) FANOUTS=15,10,5 BATCH=1024 WORKERS=2 HIDDEN=256 BATCHES=0
#          CONVERT=1 (0: keep an existing WORK_DIR/native and only train)
#          GENERATE=ogb (native: generate straight into the native format, streaming, and
#          skip the OGB layout and the convert)
#          BENCH=1 (0: skip the `ripple bench` epoch)
#          TRAIN=1 (0: skip `ripple train`), TRAIN_HIDDEN=64, EVAL_DTYPE=float16: the train
#          run's width and the storage of its evaluation's layer outputs (sampler.eval_dtype)
#          PARTITION=0 (1: also `ripple partition` the native graph into PARTS=4 parts with
#          PART_METHOD=ldg and PART_HALO=1, --memory-budget MEMORY_LIMIT, inside the cgroup;
#          then ask METIS for the same under the same budget, which it refuses up front;
#          the parts go to WORK_DIR/parts and are removed afterwards)
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
GENERATE=${GENERATE:-ogb}
BENCH=${BENCH:-1}
TRAIN=${TRAIN:-1}
TRAIN_HIDDEN=${TRAIN_HIDDEN:-64}
PARTITION=${PARTITION:-0}
PARTS=${PARTS:-4}
PART_METHOD=${PART_METHOD:-ldg}
PART_HALO=${PART_HALO:-1}
EVAL_DTYPE=${EVAL_DTYPE:-float16}

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
if [[ $GENERATE == native ]]; then
  if [[ ! -f $WORK/native/header.json ]]; then
    echo "== generate csbm ${NODES} nodes / ${EDGES} edges / ${FEATURES} float16 features, native, streaming" >&2
    /usr/bin/time -v "$RIPPLE" generate --kind csbm --nodes "$NODES" --edges "$EDGES" --features "$FEATURES" \
      --classes "$CLASSES" --train-fraction "$TRAIN_FRACTION" --format native --feature-dtype float16 --out "$WORK/native"
  fi
elif [[ ! -f $WORK/ogb/raw/num-node-list.csv.gz ]]; then
  echo "== generate csbm ${NODES} nodes / ${EDGES} edges / ${FEATURES} features in the OGB layout (not limited)" >&2
  /usr/bin/time -v "$RIPPLE" generate --kind csbm --nodes "$NODES" --edges "$EDGES" --features "$FEATURES" \
    --classes "$CLASSES" --train-fraction "$TRAIN_FRACTION" --format ogb --out "$WORK/ogb"
fi
[[ $GENERATE == native ]] || du -sh --apparent-size "$WORK/ogb" >&2
if [[ $GENERATE != native && ( $CONVERT != 0 || ! -f $WORK/native/header.json ) ]]; then
  echo "== convert to native float16, --memory-budget $BUDGET, inside $MEMORY_LIMIT" >&2
  rm -rf "$WORK/native"
  limited "$RIPPLE" convert --in "$WORK/ogb" --out "$WORK/native" --feature-dtype float16 --memory-budget "$BUDGET"
fi
du -sh --apparent-size "$WORK/native" >&2
drop_page_cache() {  # so that each run starts cold (pages cached by an earlier step are charged elsewhere)
  sync
  echo 1 >/proc/sys/vm/drop_caches 2>/dev/null || echo "(could not drop the page cache; the run may start warm)" >&2
}
if [[ $BENCH != 0 ]]; then
  echo "== sample (one pass) and train one epoch of GraphSAGE ($FANOUTS, batch $BATCH, $WORKERS workers) inside $MEMORY_LIMIT" >&2
  drop_page_cache
  limited "$RIPPLE" bench --dataset "$WORK/native" --sampler --fanouts "$FANOUTS" --batch-size "$BATCH" \
    --workers "$WORKERS" --batches "$BATCHES" --model sage --hidden "$HIDDEN" --threads 2 --epochs 1 --warmup 0 \
    --output json
fi
if [[ $TRAIN != 0 ]]; then
  echo "== ripple train: one epoch of 3-layer GraphSAGE ($FANOUTS, batch $BATCH, hidden $TRAIN_HIDDEN), then the" \
    "layer-wise evaluation of all nodes (hidden outputs as $EVAL_DTYPE), inside $MEMORY_LIMIT" >&2
  run_dir="$WORK/train-run-$$"
  drop_page_cache
  limited "$RIPPLE" train --config examples/cora_sage.toml --set dataset.path="$WORK/native" \
    --set dataset.split=random --set dataset.normalize_features=false --set "sampler.fanouts=[$FANOUTS]" \
    --set sampler.batch_size="$BATCH" --set sampler.workers="$WORKERS" --set sampler.eval_dtype="$EVAL_DTYPE" \
    --set model.layers=3 --set model.hidden="$TRAIN_HIDDEN" --set train.epochs=1 --set train.threads=2 \
    --run-dir "$run_dir"
  python3 -c 'import json, sys
s = json.load(open(sys.argv[1] + "/summary.json"))
m = s["metrics"]
print("train summary:", {k: round(m[k]["mean"], 4) for k in ("train_acc", "valid_acc", "test_acc", "epoch_ms", "eval_ms") if k in m})' "$run_dir"
fi
if [[ $PARTITION != 0 ]]; then
  echo "== ripple partition into $PARTS parts by $PART_METHOD, halo $PART_HALO, --memory-budget $MEMORY_LIMIT, inside" \
    "$MEMORY_LIMIT" >&2
  rm -rf "$WORK/parts"
  drop_page_cache
  limited "$RIPPLE" partition --in "$WORK/native" --parts "$PARTS" --method "$PART_METHOD" --halo "$PART_HALO" \
    --memory-budget "$MEMORY_LIMIT" --out "$WORK/parts"
  du -sh --apparent-size "$WORK/parts" >&2
  rm -rf "$WORK/parts"
  echo "== the same by METIS under the same budget (expected: refused, exit 2, before any work)" >&2
  status=0
  "$RIPPLE" partition --in "$WORK/native" --parts "$PARTS" --method metis --halo "$PART_HALO" \
    --memory-budget "$MEMORY_LIMIT" --out "$WORK/parts" || status=$?
  echo "exit $status" >&2
fi
