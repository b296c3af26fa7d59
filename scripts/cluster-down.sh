#!/usr/bin/env bash
# Stops what scripts/cluster-up.sh started (gateways and nodes first, etcd last) and removes its directory.
set -euo pipefail
DIR=${KUMO_CLUSTER_DIR:-/tmp/kumo-cluster}
[ -e "$DIR/pids" ] || { echo "cluster-down: no cluster runs from $DIR" >&2; exit 0; }
tac "$DIR/pids" | while read -r pid; do kill "$pid" 2>/dev/null || true; done
for _ in $(seq 100); do
  alive=0
  while read -r pid; do kill -0 "$pid" 2>/dev/null && alive=1; done <"$DIR/pids"
  [ $alive = 0 ] && break
  sleep 0.1
done
rm -rf "$DIR"
echo "cluster stopped"
