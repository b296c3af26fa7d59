# Sourced by the A/B benchmarks (bench-cold-ab.sh, bench-warm-ab.sh): THIS and OTHER (the two
# checkouts, each built in release), WORK (removed at exit, with the servers started), the load
# generator in WORK, and a line saying what runs where.
set -euo pipefail
THIS=$(cd "$(dirname "$0")/.." && pwd)
OTHER=$(cd "${1:?usage: $(basename "$0") OTHER_CHECKOUT [ROUNDS] [REQUESTS]}" && pwd)
for side in "$OTHER" "$THIS"; do (cd "$side" && swift build -c release >/dev/null); done
WORK=$(mktemp -d /tmp/kumo-ab-XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT
cc -O2 "$THIS/scripts/gateway-load.c" -o "$WORK/gateway-load"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), kernel $(uname -r), $(date -u +%FT%TZ)"
echo "A: $OTHER ($(git -C "$OTHER" rev-parse --short HEAD))   B: $THIS ($(git -C "$THIS" rev-parse --short HEAD))"
