#!/usr/bin/env bash
# One fuzz target's run, as ctest calls it (short, seeded) and as `make fuzz-long` does.
#   run_fuzzer.sh FUZZER native|csv|tu RIPPLE WORK_DIR [libFuzzer options...]
# Builds seed inputs from tiny generated datasets (RIPPLE generate, packed by
# pack_corpus.py), then fuzzes from them; a crash leaves its input in WORK_DIR/artifacts
# and fails the run.
set -euo pipefail
fuzzer=$1 kind=$2 ripple=$3 work=$4
shift 4
here=$(cd "$(dirname "$0")" && pwd)
rm -rf "$work/seeds" "$work/gen" "$work/corpus"
mkdir -p "$work/seeds" "$work/corpus" "$work/artifacts" "$work/gen"
tiny=(--kind csbm --nodes 24 --edges 80 --features 3 --classes 3 --seed 7)
# Three small graphs with every optional TU file (the layout of tests/io/tu_dataset_test.cpp).
write_tu() {
  mkdir -p "$1"
  printf '1, 2\n2, 1\n2, 3\n3, 2\n4,5\n5,4\n' > "$1/T_A.txt"
  printf '1\n1\n1\n2\n2\n3\n' > "$1/T_graph_indicator.txt"
  printf -- '-1\n1\n1\n' > "$1/T_graph_labels.txt"
  printf '3\n5\n3\n3\n5\n4\n' > "$1/T_node_labels.txt"
  printf ' 1.5, 2\n0,0\n1,1\n2,2\n3,3\n 4.25 ,  -1\n' > "$1/T_node_attributes.txt"
  printf '0\n0\n1\n1\n2\n2\n' > "$1/T_edge_labels.txt"
}
if [[ $kind == native ]]; then
  "$ripple" generate "${tiny[@]}" --format native --out "$work/gen/f32" >/dev/null
  "$ripple" generate "${tiny[@]}" --format native --feature-dtype float16 --out "$work/gen/f16" >/dev/null
  python3 "$here/pack_corpus.py" "$work/seeds/f32" "$work/gen/f32" --first header.json
  python3 "$here/pack_corpus.py" "$work/seeds/f16" "$work/gen/f16" --first header.json
  write_tu "$work/gen/tu"  # a graph collection, converted
  "$ripple" convert --in "$work/gen/tu" --out "$work/gen/graphs" >/dev/null
  python3 "$here/pack_corpus.py" "$work/seeds/graphs" "$work/gen/graphs" --first header.json
elif [[ $kind == tu ]]; then
  write_tu "$work/gen/tu"
  python3 "$here/pack_corpus.py" "$work/seeds/tu" "$work/gen/tu" --first T_A.txt
  rm "$work/gen/tu/T_node_labels.txt" "$work/gen/tu/T_node_attributes.txt"  # degree features
  python3 "$here/pack_corpus.py" "$work/seeds/tu_degrees" "$work/gen/tu" --first T_A.txt
else
  "$ripple" generate "${tiny[@]}" --format ogb --out "$work/gen/ogb" >/dev/null
  for first in raw/edge.csv raw/node-feat.csv raw/node-label.csv; do
    python3 "$here/pack_corpus.py" "$work/seeds/$(basename "$first")" "$work/gen/ogb" --gunzip --first "$first"
  done
fi
exec "$fuzzer" -artifact_prefix="$work/artifacts/" -max_len=65536 "$@" "$work/corpus" "$work/seeds"
