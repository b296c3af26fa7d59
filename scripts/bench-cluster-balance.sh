#!/usr/bin/env bash
# Load-balancing benchmark (issue 11): 3 nodes, one of them slowed: node n3 is pinned to
# CPU 1 with HOGS busy loops (4: it gets about a fifth of that CPU), everything else (etcd,
# the other nodes, the gateways, the client) to CPU 0. A persistent CPU-bound function
# (bench/spin) is called at a fixed Poisson rate with requests of very
# different lengths (90% short, 10% 20x longer). One gateway per policy on the same nodes:
# least-of-two (the default), round-robin and random, in alternating rounds.
# Usage: scripts/bench-cluster-balance.sh [REQUESTS] [ROUNDS] [RATE]   (KUMO_BUILD=release for a release build)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
N=${1:-1500}
ROUNDS=${2:-3}
RATE=${3:-90}
MIX=${MIX:-500:0.9,10000:0.1}
. "$ROOT/scripts/cluster-lib.sh"
bench_setup balance
[ "$(nproc)" -ge 2 ] || { echo "bench-cluster-balance: needs 2 CPUs (one for the slowed node)" >&2; exit 1; }
taskset -cp 0 $$ >/dev/null  # this script and what it starts from here on: CPU 0
start_etcd
for i in 1 2 3; do
  pin=(); [ "$i" = 3 ] && pin=(taskset -c 1)
  "${pin[@]}" "$KUMO" node --etcd "$ETCD" --name "n$i" --port 0 --pool 2 --data-dir "$WORK/n$i" >"$WORK/n$i.log" 2>&1 &
done
wait_alive n1 n2 n3
for _ in $(seq "${HOGS:-4}"); do taskset -c 1 sh -c 'while :; do :; done' & done
declare -A URLS
for policy in least-of-two round-robin random; do
  start_gateway "$WORK/gw-$policy" --etcd "$ETCD" --name "gw-$policy" --balance "$policy"
  URLS[$policy]=$URL
  KUMO_GATEWAY=$URL KUMO_TOKEN=$(cat "$WORK/gw-least-of-two/admin-token") \
    "$KUMO" deploy bench/spin --name "spin-$policy" --keep-alive 600 --max-instances 4 >/dev/null 2>&1
  # Warm-up: a burst of long requests, more than one node's instances take, so that every node has some.
  python3 scripts/cluster-load.py "$URL/function/spin-$policy" --rate 2000 --requests 48 --mix 10000:1 --label "warm-up, lb=$policy:"
done
declare -A P50 P99 P999
for round in $(seq "$ROUNDS"); do
  for policy in least-of-two round-robin random; do
    line=$(python3 scripts/cluster-load.py "${URLS[$policy]}/function/spin-$policy" --rate "$RATE" --requests "$N" \
      --mix "$MIX" --seed "$round" --label "round $round, lb=$policy:")
    echo "$line"
    P50[$policy]="${P50[$policy]:-} $(echo "$line" | sed -n 's/.*p50_ms=\([0-9.]*\).*/\1/p')"
    P99[$policy]="${P99[$policy]:-} $(echo "$line" | sed -n 's/.* p99_ms=\([0-9.]*\).*/\1/p')"
    P999[$policy]="${P999[$policy]:-} $(echo "$line" | sed -n 's/.*p999_ms=\([0-9.]*\).*/\1/p')"
  done
done
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
for policy in least-of-two round-robin random; do
  echo "lb=$policy p50_ms=$(echo "${P50[$policy]}" | median) p99_ms=$(echo "${P99[$policy]}" | median) p999_ms=$(echo "${P999[$policy]}" | median)"
done
