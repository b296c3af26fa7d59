#!/usr/bin/env bash
# A whole Kumo cluster on this machine, every part a real process on loopback ports:
# a 3-member etcd (Debian's etcd-server, its own data dirs), NODES node agents with 2
# emulated FPGAs each, and 2 gateways. Prints the variables that point kumo at it.
# Usage: scripts/cluster-up.sh [NODES]        (scripts/cluster-down.sh stops it)
#        KUMO_CLUSTER_DIR=/path scripts/cluster-up.sh 3   (where its state and logs go)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
NODES=${1:-3}
DIR=${KUMO_CLUSTER_DIR:-/tmp/kumo-cluster}
[ -e "$DIR/pids" ] && { echo "cluster-up: a cluster runs from $DIR; scripts/cluster-down.sh first" >&2; exit 1; }
command -v etcd >/dev/null || { echo "cluster-up: etcd is missing: run scripts/setup.sh (Debian's etcd-server)" >&2; exit 1; }
(cd "$ROOT" && swift build >/dev/null 2>&1) || { echo "cluster-up: swift build failed" >&2; exit 1; }
KUMO="$ROOT/.build/debug/kumo"
mkdir -p "$DIR"
: >"$DIR/pids"
free_ports() { python3 -c 'import socket,sys
s=[socket.socket() for _ in range(int(sys.argv[1]))]
[x.bind(("127.0.0.1",0)) for x in s]; print(" ".join(str(x.getsockname()[1]) for x in s))' "$1"; }
read -r -a P <<<"$(free_ports 6)"
CLUSTER="e0=http://127.0.0.1:${P[1]},e1=http://127.0.0.1:${P[3]},e2=http://127.0.0.1:${P[5]}"
ENDPOINTS="http://127.0.0.1:${P[0]},http://127.0.0.1:${P[2]},http://127.0.0.1:${P[4]}"
for i in 0 1 2; do
  etcd --name "e$i" --data-dir "$DIR/etcd-$i" --listen-client-urls "http://127.0.0.1:${P[$((2*i))]}" \
    --advertise-client-urls "http://127.0.0.1:${P[$((2*i))]}" --listen-peer-urls "http://127.0.0.1:${P[$((2*i+1))]}" \
    --initial-advertise-peer-urls "http://127.0.0.1:${P[$((2*i+1))]}" --initial-cluster "$CLUSTER" \
    --initial-cluster-token "kumo-$$" --max-request-bytes 10485760 >"$DIR/etcd-$i.log" 2>&1 &
  echo $! >>"$DIR/pids"
done
for _ in $(seq 100); do curl -fs "http://127.0.0.1:${P[0]}/health" | grep -q '"true"' && break; sleep 0.1; done
for n in $(seq "$NODES"); do
  "$KUMO" node --etcd "$ENDPOINTS" --name "n$n" --port 0 --fpgas 2 --data-dir "$DIR/n$n" >"$DIR/n$n.log" 2>&1 &
  echo $! >>"$DIR/pids"
done
for g in 1 2; do
  "$KUMO" serve --etcd "$ENDPOINTS" --name "g$g" --port 0 --data-dir "$DIR/g$g" >"$DIR/g$g.log" 2>&1 &
  echo $! >>"$DIR/pids"
  for _ in $(seq 100); do [ -s "$DIR/g$g/gateway.url" ] && break; sleep 0.1; done
done
for _ in $(seq 100); do [ "$("$KUMO" nodes --etcd "$ENDPOINTS" --json | grep -c '"alive"')" -ge "$NODES" ] && break; sleep 0.1; done
"$KUMO" nodes --etcd "$ENDPOINTS"
cat <<EOT
gateways: $(cat "$DIR/g1/gateway.url") $(cat "$DIR/g2/gateway.url")   (logs and state in $DIR)
export KUMO_ETCD=$ENDPOINTS KUMO_GATEWAY=$(cat "$DIR/g1/gateway.url") KUMO_TOKEN=$(cat "$DIR/g1/admin-token")
EOT
