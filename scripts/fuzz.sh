#!/usr/bin/env bash
# Coverage-guided fuzzing of every decoder of outside input under libFuzzer, with
# AddressSanitizer and LeakSanitizer: a guest's hypercalls and FPGA command batches,
# node<->instance frames, images (ELF, manifest, config note), xclbins, function.yaml.
# The harnesses are Sources/FuzzHarnesses (the test suite runs them too, seeded, with a small budget).
# Usage: scripts/fuzz.sh [RUNS_PER_HARNESS] [HARNESS...]   (default 1000000, all harnesses)
# Prints per harness: executions, crashes, leaks, coverage; a crash's input lands in
# .build-fuzz/artifacts/ (replay: .build/debug/kumo-fuzz HARNESS replay FILE).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-1000000}
shift || true
HARNESSES=("$@")
[ ${#HARNESSES[@]} -gt 0 ] || HARNESSES=(hypercalls fpgaBatches frames images xclbins functionYAML)

mkdir -p .build-fuzz/corpus .build-fuzz/artifacts .build-fuzz/logs
echo "fuzz.sh: building kumo, kumo-fuzz (plain) and kumo-fuzz (libFuzzer + ASan); log in .build-fuzz/logs/build.log" >&2
{ swift build &&
  swift build --product kumo-fuzz --build-path .build-fuzz -Xswiftc -sanitize=fuzzer,address -Xswiftc -DKUMO_LIBFUZZER \
    -Xswiftc -use-ld=lld -Xcc -fsanitize=fuzzer-no-link,address &&
  .build/debug/kumo build examples/hello &&   # the seeds: hello's image, the kernels' xclbins
  .build/debug/kumo xclbin build fpga-bitstreams/vadd.cl && .build/debug/kumo xclbin build fpga-bitstreams/matmul.cl &&
  .build/debug/kumo xclbin build fpga-bitstreams/sobel.cl; } \
  >.build-fuzz/logs/build.log 2>&1 ||
  { tail -20 .build-fuzz/logs/build.log >&2; echo "fuzz.sh: build failed" >&2; exit 1; }

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), kernel $(uname -r), $(date -u +%FT%TZ)"
failed=0
for harness in "${HARNESSES[@]}"; do
  corpus=.build-fuzz/corpus/$harness
  log=.build-fuzz/logs/$harness.log
  .build/debug/kumo-fuzz "$harness" seeds "$corpus" >/dev/null
  start=$(date +%s)
  rc=0
  KUMO_FUZZ_HARNESS=$harness ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 \
    LSAN_OPTIONS=suppressions=$PWD/scripts/lsan-suppressions.txt:print_suppressions=0 \
    .build-fuzz/debug/kumo-fuzz -runs="$N" -timeout=30 -rss_limit_mb=8192 -print_final_stats=1 \
    -artifact_prefix=.build-fuzz/artifacts/"$harness"- "$corpus" >"$log" 2>&1 || rc=$?
  executions=$(grep -o 'number_of_executed_units: [0-9]*' "$log" | awk '{print $2}' || true)
  coverage=$(grep -E '^#[0-9]+.*(DONE|pulse|REDUCE|NEW)' "$log" | tail -1 | grep -o 'cov: [0-9]* ft: [0-9]*' || true)
  crashes=$(grep -c 'ERROR: libFuzzer\|ERROR: AddressSanitizer\|Swift runtime failure\|Fatal error' "$log" || true)
  leaks=$(grep -c 'ERROR: LeakSanitizer' "$log" || true)
  echo "fuzz $harness: ${executions:-?} executions, $crashes crashes, $leaks leaks, ${coverage:-cov: ?}, $(( $(date +%s) - start )) s"
  if [ "$rc" -ne 0 ]; then failed=1; echo "  exit $rc; see $log and .build-fuzz/artifacts/" >&2; fi
done
exit $failed
