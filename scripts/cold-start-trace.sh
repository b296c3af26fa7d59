#!/usr/bin/env bash
# Where a cold start's time goes: runs `kumo serve` with KUMO_TRACE=1, sends
# cold requests to an example (hello unless named; keep-alive 0, so each request
# starts an instance) and prints the median and p90 of each step between trace
# marks, from the gateway's first byte to its flush, and the slowest requests'
# slow steps. With vadd, the card keeps its bitstream between requests.
# Usage: scripts/cold-start-trace.sh [REQUESTS] [GAP_MS] [EXAMPLE]   (release build)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
N=${1:-100}
GAP=${2:-400}
EXAMPLE=${3:-hello}
cd "$ROOT"
swift build -c release >/dev/null
KUMO="$ROOT/.build/release/kumo"
DATA=$(mktemp -d /tmp/kumo-trace-XXXXXX)
cc -O2 scripts/gateway-load.c -o "$DATA/gateway-load"
KUMO_TRACE=1 "$KUMO" serve --port 0 --data-dir "$DATA" --pool 2 --fpgas 1 >"$DATA/serve.log" 2>"$DATA/trace.log" &
SERVE=$!
trap 'kill $SERVE 2>/dev/null; wait $SERVE 2>/dev/null; rm -rf "$DATA"' EXIT
for _ in $(seq 100); do [ -s "$DATA/gateway.url" ] && break; sleep 0.1; done
export KUMO_GATEWAY=$(cat "$DATA/gateway.url") KUMO_TOKEN=$(cat "$DATA/admin-token")
"$KUMO" deploy "examples/$EXAMPLE" --name cold --keep-alive 0 >/dev/null 2>&1
sleep 1
: >"$DATA/trace.log"
"$DATA/gateway-load" "$KUMO_GATEWAY/function/cold" --requests "$N" --gap-ms "$GAP" --label "cold $EXAMPLE"
python3 scripts/cold-start-trace.py "$DATA/trace.log"
