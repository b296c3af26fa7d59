#!/usr/bin/env bash
# The main job on the embedded default: start `kumo serve` in the background
# (state in a fresh data directory), deploy examples/hello, invoke it through
# the HTTP gateway and through the CLI, show the function, then stop the server.
# KUMO=path/to/kumo overrides the debug build; KEEP=1 leaves the server running.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
KUMO=${KUMO:-$ROOT/.build/debug/kumo}
DATA=${DATA:-$(mktemp -d /tmp/kumo-demo-XXXXXX)}
cd "$ROOT"
"$KUMO" serve --port "${PORT:-0}" --data-dir "$DATA" >"$DATA/serve.log" 2>&1 &
SERVE=$!
[ -n "${KEEP:-}" ] || trap 'kill $SERVE 2>/dev/null; wait $SERVE 2>/dev/null || true' EXIT
for _ in $(seq 200); do [ -s "$DATA/gateway.url" ] && break; kill -0 $SERVE 2>/dev/null || { cat "$DATA/serve.log"; exit 1; }; sleep 0.1; done
export KUMO_GATEWAY=$(cat "$DATA/gateway.url") KUMO_TOKEN=$(cat "$DATA/admin-token")
echo "== kumo serve is up at $KUMO_GATEWAY (data in $DATA, admin token in $DATA/admin-token)"
echo "== kumo deploy examples/hello"
"$KUMO" deploy examples/hello
echo "== curl -X POST $KUMO_GATEWAY/function/hello?name=demo"
curl -sS -X POST "$KUMO_GATEWAY/function/hello?name=demo" --data-binary 'hello from curl' -D "$DATA/headers"
grep -i '^x-kumo' "$DATA/headers"
echo "== echo hi | kumo invoke hello"
echo hi | "$KUMO" invoke hello | head -3
echo "== kumo list"
"$KUMO" list
[ -z "${KEEP:-}" ] || echo "== still serving (pid $SERVE): export KUMO_GATEWAY=$KUMO_GATEWAY KUMO_TOKEN=\$(cat $DATA/admin-token)"
