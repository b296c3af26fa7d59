#!/usr/bin/env bash
# Native equivalence: each program of Tests/KumoCommandsTests/NativeEquivalenceTests.swift built
# natively (host cc, libOpenCL + PoCL, glibc) and with `kumo build`, both run, their outputs and
# the files they write compared. Prints one line per program and a summary.
# Usage: scripts/native-equivalence.sh
set -euo pipefail
cd "$(dirname "$0")/.."
swift build --build-tests >/dev/null
swift test --skip-build --filter NativeEquivalenceTests 2>&1 | grep -E "native-equivalence:|✘" || true
