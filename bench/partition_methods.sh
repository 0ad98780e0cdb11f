#!/usr/bin/env bash
# Partitions one dataset with each method of `ripple partition` (metis, ldg, random) and
# prints edge cut, balance, time and peak memory (GNU time) side by side. Not part of
# make test. Usage: bench/partition_methods.sh DATASET PARTS [HALO]
# The 1M-node / 20M-edge csbm graph of docs/distributed.md:
#   build/ripple generate --kind csbm --nodes 1000000 --edges 20000000 --features 128 --classes 16 \
#     --format native --feature-dtype float16 --out /tmp/csbm1m
#   bench/partition_methods.sh /tmp/csbm1m 4 1
set -euo pipefail
DATASET=${1:?dataset directory}
PARTS=${2:?number of parts}
HALO=${3:-1}
RIPPLE=${RIPPLE:-build/ripple}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
for method in metis ldg random; do
  echo "== $method"
  /usr/bin/time -v "$RIPPLE" partition --in "$DATASET" --parts "$PARTS" --method "$method" --halo "$HALO" \
    --out "$WORK/$method" 2>&1 | grep -E "edge cut|assignment|part-|Maximum resident|Elapsed"
  rm -rf "${WORK:?}/$method"
done
