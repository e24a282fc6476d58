#!/usr/bin/env bash
# Sets up a fresh Debian bookworm machine (as root) and runs the main CYPHONIC job.
# Until the daemons and services exist this is the protocol self-check: a release build, the
# PROTOCOL.md §11 test vectors and codec tests, then the cipher-suite benchmark printed next to
# this machine's `openssl speed` figures.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=${JOBS:-$(nproc)}

scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release -j "$jobs"
echo "==== protocol self-check (test vectors, codecs, replay window)"
ctest --test-dir build/release -L unit -j "$jobs" --output-on-failure | tail -n 3
echo "==== cipher suites vs openssl speed"
scripts/bench-crypto.sh build/release
