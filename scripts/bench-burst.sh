#!/usr/bin/env bash
# A burst on a fresh embedded `kumo serve`: a run-mode function working 1 s per request under a
# steady 5 requests/s, then 200 more within one second, so that 200 are in flight at once
# (scripts/burst.py). Prints the steady p99 before and after, how long it took to recover, and
# how the burst was answered (429s).
# Usage: scripts/bench-burst.sh [BURST] [MAX_INSTANCES] [QUEUE]   (default 200 20 100)
#        WORK_MS=1000 STEADY_RPS=5 set the work per request and the steady load.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BURST=${1:-200} MAX=${2:-20} QUEUE=${3:-100}
KUMO_BUILD=release
# shellcheck source=scripts/cluster-lib.sh
. "$ROOT/scripts/cluster-lib.sh"
bench_setup burst
start_gateway "$WORK/serve" --pool 2
export KUMO_GATEWAY=$URL KUMO_TOKEN
KUMO_TOKEN=$(cat "$WORK/serve/admin-token")
"$KUMO" deploy "$ROOT/bench/trace/run" --name burst --max-instances "$MAX" --queue "$QUEUE" >/dev/null
echo "burst: max_instances $MAX, queue $QUEUE, keep_alive auto"
python3 "$ROOT/scripts/burst.py" burst --burst "$BURST" --work-ms "${WORK_MS:-1000}" --steady-rps "${STEADY_RPS:-5}"
"$KUMO" describe burst | grep -E "^scaling|in flight" || true
