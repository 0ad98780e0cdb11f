#!/usr/bin/env bash
# The link-prediction and recommendation reproductions of the issue "Link prediction and
# recommendation at the published numbers" (not part of make test). Each run prints its
# figure, the issue's bar and MET or MISSED, with its wall time; run directories and logs go
# under $OUT (default /tmp/ripple-reproduce-link).
#
#   bash bench/reproduce_link_recommend.sh short   (make reproduce-recommend; about 50 min on
#       2 cores): Cora random split GCN + dot (10 seeds), Gowalla UltraGCN, and the one-hour
#       LightGCN schedule (examples/gowalla_lightgcn_fast.toml: 100 epochs, 10 negatives,
#       positives drawn by user).
#   bash bench/reproduce_link_recommend.sh long    (make reproduce-long; about 36 hours):
#       ogbl-ddi GraphSAGE over $SEEDS seeds (default 10, about an hour each on 2 cores),
#       ogbl-ddi NCN over $NCN_SEEDS seeds (default 10, about 1.7 hours each), and LightGCN
#       under the paper's protocol (examples/gowalla_lightgcn.toml, about 9 hours).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-build/ripple}
OUT=${OUT:-/tmp/ripple-reproduce-link}
SEEDS=${SEEDS:-10}
NCN_SEEDS=${NCN_SEEDS:-10}
mkdir -p "$OUT"
run() {  # name, metric>=bar[,metric>=bar...], config, ripple train options...
  local name=$1 bars=$2 config=$3; shift 3
  rm -rf "${OUT:?}/$name"
  local start=$SECONDS
  "$BIN" train --config "$config" --run-dir "$OUT/$name" "$@" > "$OUT/$name.log" 2>&1
  python3 - "$OUT/$name/summary.json" "$name" "$bars" $((SECONDS - start)) <<'PY'
import json, sys
summary, name, bars, wall = json.load(open(sys.argv[1])), sys.argv[2], sys.argv[3], int(sys.argv[4])
for bar in bars.split(","):
    metric, floor = bar.split(">=")
    m = summary["metrics"][metric]
    verdict = "MET" if m["mean"] >= float(floor) else "MISSED"
    print(f"{name:22s} {metric:10s} {m['mean']:.4f} ± {m['std']:.4f} over {len(m['per_seed'])} seed(s)"
          f"  bar {floor}  {verdict:6s}  wall {wall / 60:.1f} min")
PY
}
case "${1:-short}" in
  short)
    run cora_link_gcn "auc>=0.905" examples/cora_link_gcn.toml --seeds 10
    run gowalla_ultragcn "recall@20>=0.1830" examples/gowalla_ultragcn.toml --set train.seed=0
    run gowalla_lightgcn_1h "recall@20>=0.1800,ndcg@20>=0.1520" examples/gowalla_lightgcn_fast.toml --set train.seed=0
    ;;
  long)
    run ddi_sage "hits@20>=0.49" examples/ddi_sage.toml --seeds "$SEEDS"
    run ddi_ncn "hits@20>=0.76" examples/ddi_ncn.toml --seeds "$NCN_SEEDS"
    run gowalla_lightgcn "recall@20>=0.1800,ndcg@20>=0.1520" examples/gowalla_lightgcn.toml --set train.seed=0
    ;;
  *)
    echo "usage: bash bench/reproduce_link_recommend.sh short|long" >&2
    exit 2
    ;;
esac
