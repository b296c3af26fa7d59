#!/usr/bin/env bash
# Native (Linux + PoCL through ocl-icd) against Kumo (unikernel + emulated FPGA),
# the same unchanged C programs, alternating in one run.
#   scripts/bench-opencl.sh [ROUNDS]      (default 5)
# Prints the wall time of each program (median of ROUNDS) and the ratio, then
# the transport figures of bench/clbench for both.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-5}
KUMO=${KUMO:-.build/release/kumo}
[ -x "$KUMO" ] || swift build -c release >/dev/null
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT

for name in vadd matmul; do
  cc -O2 -o "$OUT/$name" "examples/$name/$name.c" -lOpenCL -lm
  "$KUMO" build "examples/$name" >/dev/null 2>&1
done
cc -O2 -o "$OUT/clbench" bench/clbench/clbench.c -lOpenCL
"$KUMO" build bench/clbench >/dev/null 2>&1
for b in vadd matmul clbench; do [ -f "fpga-bitstreams/$b.xclbin" ] || "$KUMO" xclbin build "fpga-bitstreams/$b.cl" >/dev/null; done

now() { date +%s%N; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

run_pair() {   # label, native command, kumo command
  local label=$1 native=$2 kumo=$3 n k
  : > "$OUT/n" ; : > "$OUT/k"
  eval "$native" >/dev/null; eval "$kumo" >/dev/null 2>&1   # warm PoCL's kernel cache
  for _ in $(seq "$ROUNDS"); do
    n=$(now); eval "$native" > "$OUT/nout"; echo $(( ($(now) - n) / 1000 )) >> "$OUT/n"
    k=$(now); eval "$kumo" 2>/dev/null > "$OUT/kout"; echo $(( ($(now) - k) / 1000 )) >> "$OUT/k"
  done
  echo "  in-program, native: $(tail -1 "$OUT/nout")"
  echo "  in-program, kumo:   $(tail -1 "$OUT/kout")"
  local nm km
  nm=$(median < "$OUT/n"); km=$(median < "$OUT/k")
  awk -v l="$label" -v n="$nm" -v k="$km" 'BEGIN { printf "%-28s native %9.1f ms   kumo %9.1f ms   kumo/native %.3f\n", l, n/1000, k/1000, k/n }'
}

echo "machine: $(nproc) cores, $(uname -r), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
run_pair "vadd 16M floats (64 MB x3)" "$OUT/vadd fpga-bitstreams/vadd.xclbin 16777216" \
  "$KUMO run examples/vadd --fpga-reconfigure 0ms -- /bitstreams/vadd.xclbin 16777216"
run_pair "matmul 512x512 x4" "$OUT/matmul fpga-bitstreams/matmul.xclbin 512 4" \
  "$KUMO run examples/matmul --fpga-reconfigure 0ms -- /bitstreams/matmul.xclbin 512 4"
echo "--- native transport"
"$OUT/clbench" fpga-bitstreams/clbench.xclbin
echo "--- kumo transport"
"$KUMO" run bench/clbench --fpga-reconfigure 0ms 2>/dev/null
