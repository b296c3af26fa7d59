#!/usr/bin/env bash
# Placement benchmark (issue 11): FPGA functions with more distinct bitstreams than the
# cluster has cards, each invocation a cold start (run mode), under bitstream-affinity
# placement and under random placement, one after the other on fresh nodes.
# 12 functions, 2 per bitstream (6 bitstreams), 3 nodes with 2 emulated FPGAs each,
# --fpga-reconfigure 2s, requests drawn from a Zipf law (s=1.1, fixed seed), one at a time.
# Reports per policy the share of FPGA cold starts that reconfigured a card and the time lost.
# Usage: scripts/bench-cluster-placement.sh [REQUESTS]   (debug build unless KUMO_BUILD=release)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
N=${1:-100}
RECONFIGURE=${RECONFIGURE:-2s}
. "$ROOT/scripts/cluster-lib.sh"
bench_setup placement
start_etcd

# Six bitstreams: vadd plus a kernel of its own each, so that each has its own payload and uuid.
mkdir -p "$WORK/fns"
for b in 0 1 2 3 4 5; do
  { cat fpga-bitstreams/vadd.cl; echo "__kernel void mark_$b(__global int *x) { x[0] = $b; }"; } >"$WORK/fns/b$b.cl"
  "$KUMO" xclbin build "$WORK/fns/b$b.cl" -o "$WORK/fns/b$b.xclbin" >/dev/null
done
for f in $(seq 0 11); do
  d="$WORK/fns/f$f"; b=$((f / 2))
  mkdir -p "$d"; cp examples/vadd/vadd.c "$d/"; cp "$WORK/fns/b$b.xclbin" "$d/"
  cat >"$d/function.yaml" <<EOT
name: f$f
sources: [vadd.c]
accelerator: fpga
bitstream: b$b.xclbin
memory: 256M
timeout: 30s
args: [/bitstreams/b$b.xclbin, "4096"]
EOT
done
# The request sequence: function ranks shuffled once, popularity ~ 1/rank^1.1.
python3 - "$N" >"$WORK/sequence" <<'EOT'
import random, sys
rng = random.Random(11)
fns = list(range(12)); rng.shuffle(fns)
weights = [1 / (rank + 1) ** 1.1 for rank in range(12)]
print("\n".join(f"f{f}" for f in rng.choices(fns, weights, k=int(sys.argv[1]))))
EOT

reconfigurations() {  # NODE...: the sum over these nodes' cards
  "$KUMO" nodes --etcd "$ETCD" --json | python3 -c 'import json,sys
print(sum(c.get("reconfigurations", 0) for n in json.load(sys.stdin) if n["name"] in sys.argv[1:] and n.get("record")
          for c in n["record"].get("cards", [])))' "$@"
}

declare -A SHARE LOST WALL RECONF
POLICIES=${POLICIES:-affinity random}
for policy in $POLICIES; do
  nodes=()
  for i in 1 2 3; do
    name="${policy:0:1}$i"; nodes+=("$name")
    "$KUMO" node --etcd "$ETCD" --name "$name" --port 0 --pool 1 --fpgas 2 --fpga-reconfigure "$RECONFIGURE" \
      --data-dir "$WORK/$name" >"$WORK/$name.log" 2>&1 &
  done
  wait_alive "${nodes[@]}"
  start_gateway "$WORK/gw-$policy" --etcd "$ETCD" --name "gw-$policy" --placement "$policy" ${KEEP:+--verbose}
  gw=$GATEWAY_PID
  token=$(cat "$WORK"/gw-*/admin-token | head -1)
  for f in $(seq 0 11); do
    # Keep-alive 0: each instance ends after its request and gives its card back, so every request is a cold start.
    KUMO_GATEWAY=$URL KUMO_TOKEN=$token "$KUMO" deploy "$WORK/fns/f$f" --keep-alive 0 >/dev/null 2>&1
  done
  before=$(reconfigurations "${nodes[@]}")
  cold=0; failed=0; t0=$(date +%s%N)
  while read -r fn; do
    read -r code c node <<<"$(curl -s -o /dev/null -D - -X POST "$URL/function/$fn" -w '%{http_code}\n' |
      awk 'tolower($1)=="x-kumo-cold-start:"{c=$2} tolower($1)=="x-kumo-node:"{n=$2} /^[0-9][0-9][0-9]$/{code=$1}
           END{gsub("\r","",c); gsub("\r","",n); print code, c, n}')"
    echo "$fn $code $c $node" >>"$WORK/requests-$policy"
    [ "$code" = 200 ] || failed=$((failed + 1))
    [ "$c" = true ] && cold=$((cold + 1))
  done <"$WORK/sequence"
  wall_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  sleep 2  # a node publishes its cards at most once a second
  after=$(reconfigurations "${nodes[@]}")
  r=$((after - before))
  share=$(python3 -c "print(round($r / max($cold, 1), 3))")
  lost=$(python3 -c "import re; s='$RECONFIGURE'; v=float(re.sub('[a-z]+','',s)); u={'ms':1e-3,'s':1,'m':60}[re.sub('[0-9.]+','',s)]; print(round($r * v * u, 1))")
  echo "placement=$policy: $N requests ($cold cold starts, $failed failed), $r reconfigurations (share $share), ${lost} s lost to reconfiguration, wall $wall_ms ms"
  SHARE[$policy]=$share; LOST[$policy]=$lost; WALL[$policy]=$wall_ms; RECONF[$policy]=$r
  kill "$gw"; wait "$gw" 2>/dev/null || true
  for name in "${nodes[@]}"; do pkill -f -- "--name $name --port 0" || true; done
  wait_gone "${nodes[@]}"
done
for policy in $POLICIES; do
  echo "placement=$policy reconfig_share=${SHARE[$policy]} reconfigurations=${RECONF[$policy]} reconfig_lost_s=${LOST[$policy]} wall_ms=${WALL[$policy]}"
done
