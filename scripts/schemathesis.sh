#!/usr/bin/env bash
# schemathesis (from PyPI, in .build/schemathesis-venv) against a fresh `kumo serve` and the
# OpenAPI document it serves: generated and mutated requests on every route, every check
# (no 5xx, answers as documented, 405 for methods a path does not take). Bounded by
# MAX_EXAMPLES per operation (default 50). Exits non-zero on any failure.
# Usage: scripts/schemathesis.sh [MAX_EXAMPLES]
set -euo pipefail
cd "$(dirname "$0")/.."
MAX=${1:-50}
VENV=.build/schemathesis-venv
[ -x $VENV/bin/schemathesis ] || { python3 -m venv $VENV && $VENV/bin/pip install -q schemathesis; }
swift build >/dev/null
DATA=$(mktemp -d /tmp/kumo-schemathesis.XXXXXX)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
.build/debug/kumo serve --port "$PORT" --data-dir "$DATA" >"$DATA/serve.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null; rm -rf "$DATA"' EXIT
for _ in $(seq 100); do [ -s "$DATA/admin-token" ] && curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done
[ -s "$DATA/admin-token" ] || { echo "schemathesis.sh: kumo serve did not start; see $DATA/serve.log" >&2; exit 1; }
export KUMO_TOKEN=$(cat "$DATA/admin-token")
KUMO_GATEWAY=http://127.0.0.1:$PORT .build/debug/kumo deploy examples/hello >/dev/null   # something real to describe and invoke
echo "machine: $(nproc) cores, $(uname -r), $(date -u +%FT%TZ); schemathesis $($VENV/bin/schemathesis --version | awk '{print $NF}'), max-examples $MAX"
$VENV/bin/schemathesis --config-file scripts/schemathesis.toml run "http://127.0.0.1:$PORT/openapi.yaml" \
  --max-examples "$MAX" --generation-deterministic --no-color
