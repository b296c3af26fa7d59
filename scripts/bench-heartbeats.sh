#!/usr/bin/env bash
# False node failures under I/O load (issue 11): 3 node agents (TTL 5 s) on a 1-member etcd
# while stress-ng loads the machine's I/O (`--io 4 --hdd 2`, Debian's stress-ng) for SECONDS.
# Every half second it reads the nodes from etcd: a node listed lost, or registered again (its
# lease ended while it ran), is a false failure. At the end, each node's heartbeat lateness as
# it publishes it (p50/p99/p99.9/max of how late each keep-alive left against its schedule).
# Usage: scripts/bench-heartbeats.sh [SECONDS]   (600 by default; debug build unless KUMO_BUILD=release)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SECONDS_TO_RUN=${1:-600}
. "$ROOT/scripts/cluster-lib.sh"
bench_setup heartbeats
command -v stress-ng >/dev/null || { echo "bench-heartbeats: stress-ng is missing: apt-get install stress-ng" >&2; exit 1; }
start_etcd
for i in 1 2 3; do
  "$KUMO" node --etcd "$ETCD" --name "n$i" --port 0 --pool 1 --ttl 5 --data-dir "$WORK/n$i" >"$WORK/n$i.log" 2>&1 &
done
wait_alive n1 n2 n3
cat >"$WORK/nodes.py" <<'EOT'
import json, sys
nodes = json.load(sys.stdin)
if sys.argv[1] == "registered":
    print(" ".join(f"{n['name']}={(n.get('record') or {}).get('registered', 'lost')}" for n in nodes))
else:
    worst = 0
    for n in nodes:
        d = (n.get("record") or {}).get("heartbeatDelays") or {}
        worst = max(worst, d.get("p999", 0))
        print(f"{n['name']}: {n['state']}, {d.get('count', 0)} heartbeats, late by p50 {d.get('p50')} ms, "
              f"p99 {d.get('p99')} ms, p99.9 {d.get('p999')} ms, max {d.get('max')} ms")
    print(f"heartbeat_p999_ms_worst_node={worst}")
EOT
registered() { "$KUMO" nodes --etcd "$ETCD" --json | python3 "$WORK/nodes.py" registered; }
first=$(registered)
(cd "$WORK" && stress-ng --io 4 --hdd 2 --timeout "${SECONDS_TO_RUN}s" >"$WORK/stress.log" 2>&1) &
stress=$!
false_failures=0; checks=0
end=$(( $(date +%s) + SECONDS_TO_RUN ))
while [ "$(date +%s)" -lt "$end" ]; do
  now=$(registered)
  checks=$((checks + 1))
  if [ "$now" != "$first" ]; then
    false_failures=$((false_failures + 1))
    echo "$(date -u +%T) changed: $now" >&2
    first=$now
  fi
  sleep 0.5
done
wait "$stress" || true
"$KUMO" nodes --etcd "$ETCD" --json | python3 "$WORK/nodes.py" delays
echo "false_failures=$false_failures checks=$checks seconds=$SECONDS_TO_RUN"
