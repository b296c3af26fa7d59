# Shared by the cluster benchmarks (sourced, not run): a single-member etcd on free
# loopback ports, node agents and gateways as real processes, and waits with deadlines.
# `bench_setup NAME` builds kumo (debug unless KUMO_BUILD=release) and sets KUMO, MODE
# and WORK (a scratch directory, kept when KEEP is set), and stops everything on exit.

bench_setup() {
  MODE=${KUMO_BUILD:-debug}
  cd "$ROOT"
  swift build -c "$MODE" >/dev/null 2>&1 || { echo "swift build failed" >&2; exit 1; }
  KUMO="$ROOT/.build/$MODE/kumo"
  WORK=$(mktemp -d "/tmp/kumo-bench-$1-XXXXXX")
  trap 'kill $(jobs -p) 2>/dev/null; pkill -P $$ 2>/dev/null; wait 2>/dev/null; [ -n "${KEEP:-}" ] || rm -rf "$WORK"' EXIT
  machine_line
}

free_ports() {  # N: prints N free loopback TCP ports
  python3 -c 'import socket,sys
s=[socket.socket() for _ in range(int(sys.argv[1]))]
[x.bind(("127.0.0.1",0)) for x in s]; print(" ".join(str(x.getsockname()[1]) for x in s))' "$1"
}

start_etcd() {  # sets ETCD to its client URL
  local p
  read -r -a p <<<"$(free_ports 2)"
  ETCD="http://127.0.0.1:${p[0]}"
  etcd --name b0 --data-dir "$WORK/etcd" --listen-client-urls "$ETCD" --advertise-client-urls "$ETCD" \
    --listen-peer-urls "http://127.0.0.1:${p[1]}" --initial-advertise-peer-urls "http://127.0.0.1:${p[1]}" \
    --initial-cluster "b0=http://127.0.0.1:${p[1]}" --max-request-bytes 10485760 >"$WORK/etcd.log" 2>&1 &
  for _ in $(seq 100); do curl -fs "$ETCD/health" | grep -q '"true"' && return 0; sleep 0.1; done
  echo "etcd did not start; see $WORK/etcd.log" >&2; return 1
}

start_gateway() {  # DIR [ARGS...]: starts `kumo serve`; sets GATEWAY_PID and URL
  local dir=$1; shift
  "$KUMO" serve --port 0 --data-dir "$dir" "$@" >"$dir.log" 2>&1 &
  GATEWAY_PID=$!
  for _ in $(seq 200); do [ -s "$dir/gateway.url" ] && break; sleep 0.1; done
  [ -s "$dir/gateway.url" ] || { echo "gateway $dir did not start; see $dir.log" >&2; return 1; }
  URL=$(cat "$dir/gateway.url")
}

wait_alive() {  # NAME...: until etcd lists each node alive (30 s at most)
  local name
  for name in "$@"; do
    for _ in $(seq 300); do
      "$KUMO" nodes --etcd "$ETCD" --json | tr -d ' \n' | grep -q "\"name\":\"$name\",\"record\"" && continue 2
      sleep 0.1
    done
    echo "node $name did not join; see its log in $WORK" >&2; return 1
  done
}

machine_line() {
  echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), kernel $(uname -r), $(date -u +%FT%TZ), kumo ${MODE:-debug} build"
}

wait_gone() {  # NAME...: until etcd no longer lists each node alive (30 s at most)
  local name
  for name in "$@"; do
    for _ in $(seq 300); do
      "$KUMO" nodes --etcd "$ETCD" --json | tr -d ' \n' | grep -q "\"name\":\"$name\",\"record\"" || continue 2
      sleep 0.1
    done
    echo "node $name did not leave" >&2; return 1
  done
}
