#!/usr/bin/env bash
# Warm requests through the gateway, this checkout against another one, with both servers up at
# once and the load alternating between them many times (these machines drift within minutes).
# Each side: a release `kumo serve` with hello-persistent and a warm run-mode hello.
# Usage: scripts/bench-warm-ab.sh OTHER_CHECKOUT [ROUNDS] [REQUESTS]
source "$(dirname "$0")/ab-setup.sh"
ROUNDS=${2:-6}
N=${3:-5000}
for side in A B; do
  root=$OTHER; [ "$side" = B ] && root=$THIS
  mkdir -p "$WORK/$side"
  "$root/.build/release/kumo" serve --port 0 --data-dir "$WORK/$side" --pool 2 --fpgas 1 >"$WORK/$side/serve.log" 2>&1 &
  for _ in $(seq 100); do [ -s "$WORK/$side/gateway.url" ] && break; sleep 0.1; done
  export KUMO_GATEWAY=$(cat "$WORK/$side/gateway.url") KUMO_TOKEN=$(cat "$WORK/$side/admin-token")
  (cd "$root" && .build/release/kumo deploy examples/hello-persistent --keep-alive 600 --max-instances 1 >/dev/null 2>&1 &&
    .build/release/kumo deploy examples/hello --name hello-warm --keep-alive 600 --max-instances 1 >/dev/null 2>&1 && .build/release/kumo deploy examples/vadd --keep-alive 0 >/dev/null 2>&1)
  "$WORK/gateway-load" "$KUMO_GATEWAY/function/hello-persistent" --requests 200 >/dev/null
  "$WORK/gateway-load" "$KUMO_GATEWAY/function/hello-warm" --requests 50 >/dev/null
done
for function in hello-persistent hello-warm; do
  for round in $(seq "$ROUNDS"); do
    for side in A B; do
      "$WORK/gateway-load" "$(cat "$WORK/$side/gateway.url")/function/$function" --requests "$N" --label "$side round $round: $function"
    done
  done
done
