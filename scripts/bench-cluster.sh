#!/usr/bin/env bash
# Cluster benchmarks on this machine (issue 11), each comparison within one run:
#  hop:       warm persistent hello through a cluster gateway (kumo serve --etcd, one node
#             agent) against the embedded `kumo serve`, alternating;
#  failover:  a second node joins, the node serving a client in a loop is killed (kill -9),
#             then the other is frozen (SIGSTOP): how long until requests succeed elsewhere,
#             how many failed, and when etcd listed the node lost;
#  placement: bitstream affinity against random placement (scripts/bench-cluster-placement.sh);
#  balance:   least-of-two against round robin and random, one node slowed
#             (scripts/bench-cluster-balance.sh).
# Each ends with name=value lines for scripts to read.
# Usage: scripts/bench-cluster.sh [REQUESTS] [ROUNDS]   (debug build unless KUMO_BUILD=release)
#        PARTS="hop failover" scripts/bench-cluster.sh   (a subset)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
N=${1:-3000}
ROUNDS=${2:-2}
PARTS=${PARTS:-hop failover placement balance}
. "$ROOT/scripts/cluster-lib.sh"
bench_setup cluster
cc -O2 scripts/gateway-load.c -o "$WORK/gateway-load"
start_etcd
"$KUMO" node --etcd "$ETCD" --name n1 --port 0 --pool 2 --data-dir "$WORK/n1" >"$WORK/n1.log" 2>&1 &
wait_alive n1
part() { [[ " $PARTS " == *" $1 "* ]]; }
if part hop; then
p50() { sed -n 's/.*p50=\([0-9]*\)us.*/\1/p'; }
rps() { sed -n 's/.*rps=\([0-9]*\).*/\1/p'; }
declare -A P50 RPS
for round in $(seq "$ROUNDS"); do
  for side in embedded cluster; do
    dir="$WORK/$side-$round"
    if [ $side = cluster ]; then start_gateway "$dir" --etcd "$ETCD" --name "g$round"; else start_gateway "$dir" --pool 2; fi
    url=$URL
    # The cluster's admin token is in the first cluster gateway's data dir.
    if [ $side = cluster ]; then token=$(cat "$WORK/cluster-1/admin-token"); else token=$(cat "$dir/admin-token"); fi
    KUMO_GATEWAY=$url KUMO_TOKEN=$token "$KUMO" deploy examples/hello-persistent --name "hp-$side-$round" --keep-alive 600 --max-instances 1 >/dev/null 2>&1
    "$WORK/gateway-load" "$url/function/hp-$side-$round" --requests 200 --label "warm-up" >"$WORK/warm-up.txt" || cat "$WORK/warm-up.txt"
    line=$("$WORK/gateway-load" "$url/function/hp-$side-$round" --requests "$N" --label "round $round, $side: warm persistent hello")
    echo "$line"
    P50[$side]="${P50[$side]:-} $(echo "$line" | p50)"
    RPS[$side]="${RPS[$side]:-} $(echo "$line" | rps)"
    kill "$GATEWAY_PID"; wait "$GATEWAY_PID" 2>/dev/null || true
  done
done
median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
e=$(echo "${P50[embedded]}" | median); c=$(echo "${P50[cluster]}" | median)
echo "hop_embedded_p50_us=$e hop_cluster_p50_us=$c hop_added_p50_us=$((c - e)) embedded_rps=$(echo "${RPS[embedded]}" | median) cluster_rps=$(echo "${RPS[cluster]}" | median)"
fi

# Failover. Node n1 serves; n2 joins; a client loops on one gateway.
if part failover; then
NODE_TTL=${NODE_TTL:-5}
"$KUMO" node --etcd "$ETCD" --name n2 --port 0 --pool 2 --ttl "$NODE_TTL" --data-dir "$WORK/n2" >"$WORK/n2.log" 2>&1 &
N2=$!
wait_alive n2
start_gateway "$WORK/failover" --etcd "$ETCD" --name gf
url=$URL
token=$(cat "$WORK/cluster-1/admin-token" 2>/dev/null || cat "$WORK/failover/admin-token")
KUMO_GATEWAY=$url KUMO_TOKEN=$token "$KUMO" deploy examples/hello --name fo --keep-alive 600 >/dev/null 2>&1
ms() { date +%s%3N; }
probe() {  # prints: node http_code
  curl -s -o /dev/null -D - -X POST "$url/function/fo" -w '%{http_code}\n' | awk 'tolower($1)=="x-kumo-node:"{n=$2} /^[0-9][0-9][0-9]$/{c=$1} END{gsub("\r","",n); print n, c}'
}
failover() {  # SIGNAL: kills or freezes the node serving now; prints ms until success elsewhere and failures
  local signal=$1 serving pid node code failed=0 t0 t1
  read -r serving _ <<<"$(probe)"
  pid=$(pgrep -f "kumo node --etcd $ETCD --name $serving " | head -1)
  t0=$(ms)
  kill "-$signal" "$pid"
  while true; do
    read -r node code <<<"$(probe)"
    [ "$code" = 200 ] && [ "$node" != "$serving" ] && break
    [ "$code" = 200 ] || failed=$((failed + 1))
    [ $(( $(ms) - t0 )) -gt 30000 ] && { echo "no failover within 30 s" >&2; break; }
  done
  t1=$(ms)
  while "$KUMO" nodes --etcd "$ETCD" --json | tr -d ' \n' | grep -q "\"name\":\"$serving\",\"record\"" ; do sleep 0.05; done
  echo "$serving $((t1 - t0)) $failed $(( $(ms) - t0 ))"
}
for _ in 1 2 3; do probe >/dev/null; done
read -r killed kill_ms kill_failed kill_lost_ms <<<"$(failover KILL)"
echo "kill -9 of $killed: requests succeeded on the other node after $kill_ms ms ($kill_failed failed meanwhile); etcd listed it lost after $kill_lost_ms ms (ttl ${NODE_TTL}s)"
# The killed node comes back under its name; then the serving one is frozen.
"$KUMO" node --etcd "$ETCD" --name "$killed" --port 0 --pool 2 --ttl "$NODE_TTL" --data-dir "$WORK/$killed-again" >"$WORK/$killed-again.log" 2>&1 &
wait_alive "$killed"
read -r frozen stop_ms stop_failed stop_lost_ms <<<"$(failover STOP)"
echo "SIGSTOP of $frozen: requests succeeded on the other node after $stop_ms ms ($stop_failed failed meanwhile); etcd listed it lost after $stop_lost_ms ms"
kill -CONT "$(pgrep -f "kumo node --etcd $ETCD --name $frozen " | head -1)" 2>/dev/null || true
echo "failover_kill_ms=$kill_ms failover_kill_failed=$kill_failed lost_after_kill_ms=$kill_lost_ms failover_stop_ms=$stop_ms failover_stop_failed=$stop_failed lost_after_stop_ms=$stop_lost_ms"
fi
if part placement; then "$ROOT/scripts/bench-cluster-placement.sh"; fi
if part balance; then "$ROOT/scripts/bench-cluster-balance.sh"; fi
