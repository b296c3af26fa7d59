#!/usr/bin/env bash
# Warm throughput of persistent hello through `kumo serve`'s gateway (issue 15, part 4):
# wrk with 1, 4 and 8 connections against 2 warm instances, beside each the CPU each kind
# of thread spent per request (scripts/cpu-per-request.py); then an open-loop load at RATE
# requests/s over 8 connections (scripts/gateway-load.c --rate) for its latency percentiles.
# Usage: scripts/bench-throughput.sh [SECONDS] [RATE]   (needs wrk: apt-get install wrk)
#        KUMO_BIN=/path/to/kumo scripts/bench-throughput.sh ...   (that binary; nothing built)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SECONDS_EACH=${1:-8}
RATE=${2:-5000}
cd "$ROOT"
command -v wrk >/dev/null || { echo "bench-throughput: wrk is not installed (apt-get install wrk)" >&2; exit 1; }
if [ -n "${KUMO_BIN:-}" ]; then
  KUMO=$KUMO_BIN
else
  swift build -c release >/dev/null
  KUMO="$ROOT/.build/release/kumo"
fi
DATA=$(mktemp -d /tmp/kumo-throughput-XXXXXX)
"$KUMO" serve --port 0 --data-dir "$DATA" --pool 2 >"$DATA/serve.log" 2>&1 &
SERVE=$!
trap 'kill $SERVE 2>/dev/null; wait $SERVE 2>/dev/null; rm -rf "$DATA"' EXIT
for _ in $(seq 100); do [ -s "$DATA/gateway.url" ] && break; sleep 0.1; done
export KUMO_GATEWAY=$(cat "$DATA/gateway.url") KUMO_TOKEN=$(cat "$DATA/admin-token")
"$KUMO" deploy examples/hello-persistent --keep-alive 600 --min-instances 2 --max-instances 2 >/dev/null
printf 'wrk.method = "POST"\nwrk.body = "ping"\n' >"$DATA/post.lua"
cc -O2 scripts/gateway-load.c -o "$DATA/gateway-load"
URL="$KUMO_GATEWAY/function/hello-persistent"
wrk -t1 -c2 -d2s -s "$DATA/post.lua" "$URL" >/dev/null   # both instances booted and warm

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), kernel $(uname -r), $(date -u +%FT%TZ), kumo $KUMO"
echo "persistent hello, 2 instances, wrk on the same cores, ${SECONDS_EACH}s each:"
for connections in 1 4 8; do
  python3 scripts/cpu-per-request.py "$URL" "$connections" "${SECONDS_EACH}s" "$DATA/post.lua"
done
echo "open loop, $RATE requests/s over 8 connections, ${SECONDS_EACH}s (latency from each request's due time):"
"$DATA/gateway-load" "$URL" --rate "$RATE" --connections 8 --requests $((RATE * SECONDS_EACH)) --body ping --label "  open loop"
