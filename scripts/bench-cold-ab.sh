#!/usr/bin/env bash
# Cold starts through the gateway, this checkout against another one (e.g. the commit before a
# change on the cold path), alternating in one run on the same machine (these machines are noisy).
# Each side: a release `kumo serve`, hello deployed with keep-alive 0, requests 400 ms apart.
# Usage: scripts/bench-cold-ab.sh OTHER_CHECKOUT [ROUNDS] [REQUESTS]
source "$(dirname "$0")/ab-setup.sh"
ROUNDS=${2:-2}
N=${3:-150}
for round in $(seq "$ROUNDS"); do
  for side in A B; do
    root=$OTHER; [ "$side" = B ] && root=$THIS
    data="$WORK/$side-$round"
    mkdir -p "$data"
    "$root/.build/release/kumo" serve --port 0 --data-dir "$data" --pool 2 >"$data/serve.log" 2>&1 &
    serve=$!
    for _ in $(seq 100); do [ -s "$data/gateway.url" ] && break; sleep 0.1; done
    url=$(cat "$data/gateway.url")
    (cd "$root" && KUMO_GATEWAY=$url KUMO_TOKEN=$(cat "$data/admin-token") \
      .build/release/kumo deploy examples/hello --name hello-cold --keep-alive 0 >/dev/null 2>&1)
    "$WORK/gateway-load" "$url/function/hello-cold" --requests 10 --gap-ms 400 >/dev/null
    "$WORK/gateway-load" "$url/function/hello-cold" --requests "$N" --gap-ms 400 --label "$side round $round: cold hello"
    kill "$serve"; wait "$serve" 2>/dev/null || true
  done
done
