#!/usr/bin/env bash
# Seeded mutation fuzzing of the decoders that take outside input (Tests/KumoCommandsTests/FuzzTests.swift)
# with a large budget: hypercalls, FPGA command batches, node<->instance frames, images, xclbins, function.yaml.
# Usage: scripts/fuzz.sh [ITERATIONS_PER_HARNESS] [HARNESS...]   (default 1000000; harnesses: the test names)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-1000000}
shift || true
HARNESSES=("$@")
[ ${#HARNESSES[@]} -gt 0 ] || HARNESSES=(hypercalls fpgaBatches frames images xclbins functionYAML)
swift build --build-tests >/dev/null 2>&1 || { echo "fuzz.sh: swift build --build-tests failed" >&2; exit 1; }
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), kernel $(uname -r), $(date -u +%FT%TZ)"
for harness in "${HARNESSES[@]}"; do
  KUMO_FUZZ_ITERATIONS=$N swift test --skip-build --filter "FuzzTests/$harness" 2>&1 | grep -E '^fuzz |✘' || {
    echo "fuzz $harness: FAILED (see swift test --filter FuzzTests/$harness)"; exit 1; }
done
