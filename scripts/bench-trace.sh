#!/usr/bin/env bash
# Replays one generated trace against each keep-alive policy on a fresh embedded `kumo serve`,
# and ends with one line per policy:
#   policy=NAME cold_fraction=… p50_ms=… p99_ms=… p999_ms=… idle_gb_s=… reconfigs=… refused=…
# Usage: scripts/bench-trace.sh [SEED] [FUNCTIONS] [MINUTES] [SPEEDUP] [BUSIEST]   (default 7 120 30 3 100000)
#        BUSIEST: the busiest function's invocations per day (the trace's load)
#        OUT=dir (default trace-results) keeps the trace, the latencies and ccdf.png (with matplotlib).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SEED=${1:-7} FUNCTIONS=${2:-120} MINUTES=${3:-30} SPEEDUP=${4:-3} BUSIEST=${5:-100000}
OUT=${OUT:-$ROOT/trace-results}
mkdir -p "$OUT"
(cd "$ROOT" && swift build -c release --product kumo >/dev/null)
KUMO=$ROOT/.build/release/kumo
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), kernel $(uname -r), $(date -u +%FT%TZ)"
python3 "$ROOT/scripts/trace.py" generate --seed "$SEED" --functions "$FUNCTIONS" --minutes "$MINUTES" --busiest "$BUSIEST" --out "$OUT/trace.csv"
POLICIES="fixed-10m none"
lines=()
for policy in $POLICIES; do
  data=$(mktemp -d /tmp/kumo-trace-XXXXXX)
  "$KUMO" serve --port 0 --data-dir "$data" --pool 2 --fpgas 2 >"$data/serve.log" 2>&1 &
  serve=$!
  for _ in $(seq 100); do [ -s "$data/gateway.url" ] && break; sleep 0.1; done
  line=$(KUMO_GATEWAY=$(cat "$data/gateway.url") KUMO_TOKEN=$(cat "$data/admin-token") \
    python3 "$ROOT/scripts/trace.py" replay "$OUT/trace.csv" --policy "$policy" --speedup "$SPEEDUP" --kumo "$KUMO" --out "$OUT")
  kill "$serve"; wait "$serve" 2>/dev/null || true
  rm -rf "$data"
  lines+=("$line")
done
python3 "$ROOT/scripts/trace.py" plot --out "$OUT" $POLICIES || true
printf '%s\n' "${lines[@]}"
