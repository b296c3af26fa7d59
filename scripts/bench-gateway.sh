#!/usr/bin/env bash
# Latency through `kumo serve`'s gateway (issue 4's benchmark):
#   - cold start of hello: no instance warm (keep-alive 0), a pre-started process from the pool
#   - warm hello in mode run (a fresh boot per request in a warm instance process)
#   - warm hello in mode persistent (one boot, one VM exit per request)
#   - vadd on the emulated FPGA with and without its bitstream already loaded
# Usage: scripts/bench-gateway.sh [COLD_REQUESTS] [BUILD]   (BUILD: release (default) or debug)
#        KUMO_BIN=/path/to/kumo scripts/bench-gateway.sh ...   (measure that binary instead; nothing is built)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
N=${1:-200}
MODE=${2:-release}
cd "$ROOT"
if [ -n "${KUMO_BIN:-}" ]; then
  KUMO=$KUMO_BIN
else
  swift build -c "$MODE" >/dev/null
  KUMO="$ROOT/.build/$MODE/kumo"
fi
DATA=$(mktemp -d /tmp/kumo-bench-XXXXXX)
"$KUMO" serve --port 0 --data-dir "$DATA" --pool 2 --fpgas 1 >"$DATA/serve.log" 2>&1 &
SERVE=$!
trap 'kill $SERVE 2>/dev/null; wait $SERVE 2>/dev/null; rm -rf "$DATA"' EXIT
for _ in $(seq 100); do [ -s "$DATA/gateway.url" ] && break; sleep 0.1; done
export KUMO_GATEWAY=$(cat "$DATA/gateway.url") KUMO_TOKEN=$(cat "$DATA/admin-token")
"$KUMO" deploy examples/hello --name hello-cold --keep-alive 0 >/dev/null 2>&1
"$KUMO" deploy examples/hello --name hello-warm --keep-alive 600 --max-instances 1 >/dev/null 2>&1
"$KUMO" deploy examples/hello-persistent --keep-alive 600 --max-instances 1 >/dev/null 2>&1
"$KUMO" deploy examples/vadd --keep-alive 0 >/dev/null 2>&1
"$KUMO" deploy examples/matmul --keep-alive 0 >/dev/null 2>&1

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), kernel $(uname -r), $(date -u +%FT%TZ), kumo $KUMO"
cc -O2 "$ROOT/scripts/gateway-load.c" -o "$DATA/gateway-load"
LOAD="$DATA/gateway-load"
$LOAD "$KUMO_GATEWAY/function/hello-cold" --requests "$N" --gap-ms 400 --label "cold hello (run, nothing warm)"
$LOAD "$KUMO_GATEWAY/function/hello-warm" --requests 20 >/dev/null
$LOAD "$KUMO_GATEWAY/function/hello-warm" --requests 2000 --label "warm hello (run: a boot per request)"
$LOAD "$KUMO_GATEWAY/function/hello-persistent" --requests 20 >/dev/null
$LOAD "$KUMO_GATEWAY/function/hello-persistent" --requests 10000 --label "warm hello (persistent)"
if command -v wrk >/dev/null; then
  printf 'wrk.method = "POST"\nwrk.body = "ping"\n' >"$DATA/post.lua"
  echo "wrk, persistent hello, 1 connection, 10 s:"
  wrk -t1 -c1 -d10s --latency -s "$DATA/post.lua" "$KUMO_GATEWAY/function/hello-persistent" | grep -E "Latency|50%|90%|99%|Requests/sec"
  echo "wrk, warm run-mode hello, 1 connection, 10 s:"
  wrk -t1 -c1 -d10s --latency -s "$DATA/post.lua" "$KUMO_GATEWAY/function/hello-warm" | grep -E "Latency|50%|90%|99%|Requests/sec"
fi

# vadd (1M elements, default 100 ms modelled reconfiguration), one FPGA, every request a cold instance:
# after matmul ran, the card holds matmul's bitstream; after vadd ran, vadd's.
# Each figure: the whole request through the gateway / the program's own OpenCL part / the
# program from its main to its answer (it prints both).
ms() {
  curl -sS -w '\n%{time_total}\n' -X POST "$KUMO_GATEWAY/function/$1" |
    awk '/ ms in all$/ { own = $(NF-5); all = $(NF-3) } END { printf "%.0f/%.1f/%.1f", $1 * 1000, own, all }'
}
not_loaded=(); loaded=()
for _ in 1 2 3 4 5; do
  ms matmul >/dev/null; sleep 0.4
  not_loaded+=("$(ms vadd)"); sleep 0.4
  loaded+=("$(ms vadd)"); sleep 0.4
done
echo "vadd, bitstream not loaded (ms, whole/own OpenCL/own main to answer): ${not_loaded[*]}"
echo "vadd, bitstream loaded (ms, whole/own OpenCL/own main to answer):     ${loaded[*]}"
"$KUMO" accelerators | head -3
