#!/usr/bin/env bash
# Replays one generated trace against each keep-alive policy on a fresh Kumo (the embedded
# default, or NODES=3: etcd, three node agents and a gateway), and ends with one line per policy:
#   policy=NAME cold_fraction=… p50_ms=… p99_ms=… p999_ms=… idle_gb_s=… reconfigs=… refused=…
# Usage: scripts/bench-trace.sh [SEED] [FUNCTIONS] [MINUTES] [SPEEDUP] [BUSIEST]   (default 7 120 30 6 20000)
#        BUSIEST: the busiest function's invocations per day (the trace's load)
#        OUT=dir (default trace-results) keeps the trace, the latencies and ccdf.png (with matplotlib).
#        POLICIES="fixed-10m none hybrid kumo" (the default) picks the policies; NODES=3 runs on a cluster.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SEED=${1:-7} FUNCTIONS=${2:-120} MINUTES=${3:-30} SPEEDUP=${4:-6} BUSIEST=${5:-20000}
OUT=${OUT:-$ROOT/trace-results}
POLICIES=${POLICIES:-fixed-10m none hybrid kumo}
NODES=${NODES:-0}
mkdir -p "$OUT"
KUMO_BUILD=release
# shellcheck source=scripts/cluster-lib.sh
. "$ROOT/scripts/cluster-lib.sh"
bench_setup trace
python3 "$ROOT/scripts/trace.py" generate --seed "$SEED" --functions "$FUNCTIONS" --minutes "$MINUTES" --busiest "$BUSIEST" --out "$OUT/trace.csv"
# The learned policies see the trace's minutes: their histogram's bin and fallback are scaled like the trace.
scaled() { python3 -c "import sys; print(f'{float(sys.argv[1]) / float(sys.argv[2]):.3f}s')" "$1" "$SPEEDUP"; }
node_flags() {  # POLICY: what a node runs it with
  case $1 in
    hybrid|kumo) echo "--learned-keep-alive $1 --keep-alive-bin $(scaled 60) --fpgas 2 --pool 2" ;;
    *) echo "--fpgas 2 --pool 2" ;;
  esac
}
lines=()
for policy in $POLICIES; do
  run="$WORK/$policy"
  mkdir -p "$run"
  # shellcheck disable=SC2046 # node_flags is a list of words
  if [ "$NODES" -gt 0 ]; then
    rm -rf "$WORK/etcd"
    start_etcd
    names=()
    for n in $(seq "$NODES"); do
      "$KUMO" node --etcd "$ETCD" --name "n$n" --port 0 --data-dir "$run/n$n" $(node_flags "$policy") >"$run/n$n.log" 2>&1 &
      names+=("n$n")
    done
    wait_alive "${names[@]}"
    start_gateway "$run/g1" --etcd "$ETCD" --name g1 --keep-alive-fallback "$(scaled 600)"
  else
    start_gateway "$run/serve" $(node_flags "$policy") --keep-alive-fallback "$(scaled 600)"
  fi
  dir=$(dirname "$(ls "$run"/*/gateway.url | head -1)")
  line=$(KUMO_GATEWAY=$URL KUMO_TOKEN=$(cat "$dir/admin-token") \
    python3 "$ROOT/scripts/trace.py" replay "$OUT/trace.csv" --policy "$policy" --speedup "$SPEEDUP" --kumo "$KUMO" --out "$OUT")
  kill $(jobs -p) 2>/dev/null || true
  wait 2>/dev/null || true
  lines+=("$line")
done
python3 "$ROOT/scripts/trace.py" plot --out "$OUT" $POLICIES || true
printf '%s\n' "${lines[@]}"
