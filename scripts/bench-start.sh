#!/usr/bin/env bash
# How long a whole `kumo` process takes to start and end (issue 15, part 5): `kumo --help` and
# `kumo run` of hello's built image, N runs each, p50 and p90. With OTHER (another kumo binary),
# the two alternate run by run, so that the machine's drift falls on both alike.
# Usage: scripts/bench-start.sh [RUNS] [OTHER_KUMO]      (hyperfine -N does the same where installed)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
RUNS=${1:-50}
OTHER=${2:-}
cd "$ROOT"
swift build -c release >/dev/null
KUMO="$ROOT/.build/release/kumo"
"$KUMO" build examples/hello >/dev/null
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), kernel $(uname -r), $(date -u +%FT%TZ)"
python3 - "$RUNS" "$KUMO" $OTHER <<'PY'
import statistics, subprocess, sys, time
runs, binaries = int(sys.argv[1]), sys.argv[2:]
commands = {"--help": ["--help"], "run hello.kumo": ["run", "examples/hello/.kumo/hello.kumo"]}
for label, args in commands.items():
    times = {b: [] for b in binaries}
    for _ in range(runs):
        for b in binaries:
            start = time.perf_counter()
            subprocess.run([b] + args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
            times[b].append((time.perf_counter() - start) * 1000)
    for b in binaries:
        t = sorted(times[b])
        print(f"{label:15} {b}: p50 {statistics.median(t):.2f} ms  p90 {t[int(len(t) * 0.9)]:.2f} ms  (n={len(t)})")
PY
