#!/usr/bin/env bash
# Warm throughput of persistent hello through `kumo serve`'s gateway (issue 15, part 4):
# wrk with 1, 4 and 8 connections against 2 warm instances, then a paced load (each of
# 8 connections waits DELAY ms between requests: ~5,000 requests/s here) for its p99.
# Beside each, the CPU each kind of thread spent per request (scripts/cpu-per-request.py).
# Usage: scripts/bench-throughput.sh [SECONDS] [DELAY_MS]   (needs wrk: apt-get install wrk)
#        KUMO_BIN=/path/to/kumo scripts/bench-throughput.sh ...   (that binary; nothing built)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SECONDS_EACH=${1:-8}
DELAY=${2:-1}
cd "$ROOT"
command -v wrk >/dev/null || { echo "bench-throughput: wrk is not installed (apt-get install wrk)" >&2; exit 1; }
if [ -n "${KUMO_BIN:-}" ]; then
  KUMO=$KUMO_BIN
else
  swift build -c release --product kumo >/dev/null
  KUMO="$ROOT/.build/release/kumo"
fi
DATA=$(mktemp -d /tmp/kumo-throughput-XXXXXX)
"$KUMO" serve --port 0 --data-dir "$DATA" --pool 2 >"$DATA/serve.log" 2>&1 &
SERVE=$!
trap 'kill $SERVE 2>/dev/null; wait $SERVE 2>/dev/null; rm -rf "$DATA"' EXIT
for _ in $(seq 100); do [ -s "$DATA/gateway.url" ] && break; sleep 0.1; done
export KUMO_GATEWAY=$(cat "$DATA/gateway.url") KUMO_TOKEN=$(cat "$DATA/admin-token")
"$KUMO" deploy examples/hello-persistent --keep-alive 600 --min-instances 2 --max-instances 2 >/dev/null
cat >"$DATA/post.lua" <<'LUA'
wrk.method = "POST"
wrk.body = "ping"
local pause = tonumber(os.getenv("KUMO_WRK_DELAY_MS") or "0")
if pause > 0 then function delay() return pause end end
LUA
URL="$KUMO_GATEWAY/function/hello-persistent"
wrk -t1 -c2 -d2s -s "$DATA/post.lua" "$URL" >/dev/null   # both instances booted and warm

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), kernel $(uname -r), $(date -u +%FT%TZ), kumo $KUMO"
echo "persistent hello, 2 instances, wrk on the same cores, ${SECONDS_EACH}s each:"
for connections in 1 4 8; do
  python3 scripts/cpu-per-request.py "$URL" "$connections" "${SECONDS_EACH}s" "$DATA/post.lua"
done
echo "paced: 8 connections, each waiting ${DELAY} ms between requests:"
python3 scripts/cpu-per-request.py "$URL" 8 "${SECONDS_EACH}s" "$DATA/post.lua" --delay-ms "$DELAY"
