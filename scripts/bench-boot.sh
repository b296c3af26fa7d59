#!/usr/bin/env bash
# Boots examples/hello N times (default 200) in one tender process: with the
# tender's pools (VMs made and warmed ahead, scrubbed memory reused), back to
# back and 3 ms apart (back to back starves the pools' background work on 2
# cores), then fully cold (a VM created and fresh memory mapped per boot, all
# on the clock). Prints
# p50/p99/max of the whole run, of setup and of guest time, VM exits per run
# and the tender's resident memory.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-200}
swift build -c release >/dev/null
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), kernel $(uname -r), $(ls /sys/module | grep -o 'kvm_pvm\|kvm_intel\|kvm_amd' | head -1)"
.build/release/kumo build examples/hello >/dev/null 2>&1
.build/release/kumo bench examples/hello --runs "$runs"
.build/release/kumo bench examples/hello --runs "$runs" --gap 3000
.build/release/kumo bench examples/hello --runs "$runs" --cold
