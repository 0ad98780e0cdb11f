#!/usr/bin/env bash
# The benchmark suite behind `make bench` (about 15 minutes on a 2-core machine): kernel and
# layer micro-benchmarks at 100k nodes / 2M edges, the headline kernels at 1M / 20M with
# 1 and 2 threads and after reordering, then end-to-end epochs with `ripple bench` on Cora,
# CiteSeer and a generated 1M / 20M graph. Results go to $RIPPLE_BENCH_OUT (default
# bench/results/latest): one JSON file per step and report.md, rendered by bench/report.py.
# Run it on a quiet machine (check `uptime`); medians of 5 repetitions are reported.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
OUT=${RIPPLE_BENCH_OUT:-bench/results/latest}
BIN=$BUILD_DIR/bench/ripple_kernels_bench
REPS=${RIPPLE_BENCH_REPS:-5}
# Graph sizes (smaller ones make a quick smoke run of the whole script).
SMALL_N=${RIPPLE_BENCH_SMALL_NODES:-100000} SMALL_E=${RIPPLE_BENCH_SMALL_EDGES:-2000000}
BIG_N=${RIPPLE_BENCH_BIG_NODES:-1000000} BIG_E=${RIPPLE_BENCH_BIG_EDGES:-20000000}
mkdir -p "$OUT"
rm -f "$OUT"/*.json "$OUT"/*.jsonl "$OUT"/report.md

micro() {  # name, env..., -- filter
  local name=$1; shift
  echo "== $name" >&2
  env "$@" "$BIN" --benchmark_filter="$FILTER" --benchmark_repetitions="$REPS" \
    --benchmark_report_aggregates_only=true --benchmark_min_time="${MIN_TIME:-0.05}" \
    --benchmark_out="$OUT/$name.json" --benchmark_out_format=json > /dev/null
}

# 100k / 2M: every kernel, forward and backward, every width; dropout; whole layers.
FILTER='BM_CopyBandwidth|BM_GSpmm|BM_Unfused|BM_GSddmm|BM_EdgeSoftmax|BM_Dropout|BM_Linear' micro small_kernels RIPPLE_BENCH_NODES=$SMALL_N RIPPLE_BENCH_EDGES=$SMALL_E
REPS=3 FILTER='BM_GCNConv|BM_SAGEConv|BM_GATConv' micro small_layers RIPPLE_BENCH_NODES=$SMALL_N RIPPLE_BENCH_EDGES=$SMALL_E

# 1M / 20M, F = 128: the headline sum kernel (random order, int32, reordered) with 2 and 1
# threads; GCN layers against the unfused path at F = 64 (at F = 128 the unfused layer's
# [E, 128] messages and their gradient, 2 x 10.7 GB at once, do not fit beside the rest in
# 24 GiB; nor do the unfused GAT's [E, 4, 64] messages). The fused layers at F = 128 and
# GAT at 1M / 20M run end to end below.
BIG=(RIPPLE_BENCH_NODES=$BIG_N RIPPLE_BENCH_EDGES=$BIG_E)
FILTER='BM_CopyBandwidth|BM_GSpmmCopyLhsSum/graph:[01]/F:128|BM_GSpmmCopyLhsSumOrder' micro large_sum_2threads "${BIG[@]}" OMP_NUM_THREADS=2
FILTER='BM_CopyBandwidth|BM_GSpmmCopyLhsSum/graph:[01]/F:128|BM_GSpmmMulEdgeWeight/graph:[01]/F:128' micro large_sum_1thread "${BIG[@]}" OMP_NUM_THREADS=1
REPS=5 FILTER='BM_GCNConv/graph:1/F:64|BM_GCNConvUnfused/graph:1/F:64' micro large_layers "${BIG[@]}"

# UltraGCN's negative term at its Gowalla batch: the fused kernel against the ATen form;
# the full-ranking evaluation at Gowalla's size against its score GEMM's bound.
FILTER='BM_UltraGcnNegatives|BM_FullRanking/256' micro recommend

# End to end: full-batch epochs (forward, backward, Adam step).
echo "== end_to_end" >&2
RIPPLE=$BUILD_DIR/ripple
{
  $RIPPLE bench --dataset data/cora,data/citeseer --model gcn,sage --hidden 64 --epochs 20 --warmup 5 --output json
  $RIPPLE bench --dataset data/cora,data/citeseer --model gat --hidden 8 --heads 8 --epochs 20 --warmup 5 --output json
  $RIPPLE bench --kind rmat --nodes $BIG_N --edges $BIG_E --features 128 --layers 3 --hidden 256 \
    --model gcn,sage --epochs 2 --warmup 1 --output json
  $RIPPLE bench --kind rmat --nodes $BIG_N --edges $BIG_E --features 128 --layers 3 --hidden 64 --heads 4 \
    --model gat --epochs 2 --warmup 1 --output json
} > "$OUT/end_to_end.jsonl"

python3 bench/report.py "$OUT" > "$OUT/report.md"
echo "wrote $OUT/report.md" >&2
