#!/usr/bin/env bash
# Boots examples/hello 200 times (cold: a new VM each time) and prints p50/p99/max
# of the whole run and of guest time, VM exits per run and the tender's memory.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-200}
swift build -c release >/dev/null
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), kernel $(uname -r), $(ls /sys/module | grep -o 'kvm_pvm\|kvm_intel\|kvm_amd' | head -1)"
.build/release/kumo bench examples/hello --runs "$runs"
