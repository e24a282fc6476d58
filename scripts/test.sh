#!/usr/bin/env bash
# Sets up a fresh Debian bookworm machine (as root) and runs every CYPHONIC test:
#   1. lint: clang-format and clang-tidy
#   2. the unit and fuzz-corpus tests under AddressSanitizer + UndefinedBehaviorSanitizer (g++)
#   3. every libFuzzer target for FUZZ_SECONDS (default 30) each, built with clang
#   4. the whole suite (unit, fuzz corpus, integration, e2e) in the CI build, warnings as errors
# Environment: FUZZ_SECONDS=N, SKIP_FUZZ=1 and SKIP_ASAN=1 shorten a local run; JOBS=N.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=${JOBS:-$(nproc)}
fuzz_seconds=${FUZZ_SECONDS:-30}

step() { printf '\n==== %s\n' "$*"; }

step "dependencies"
scripts/install-deps.sh

# Compilations are cached across runs on this machine, keyed by their inputs (ccache hashes
# the preprocessed source and the command line; paths under the checkout are made relative, so
# another clone of the same commit hits). CYPHONIC_CCACHE=0 turns it off.
if [ "${CYPHONIC_CCACHE:-1}" != 0 ] && command -v ccache >/dev/null; then
    export CCACHE_DIR=${CCACHE_DIR:-/var/cache/cyphonic/ccache}
    export CCACHE_BASEDIR=$PWD CCACHE_NOHASHDIR=1 CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-8G}
    export CMAKE_CXX_COMPILER_LAUNCHER=ccache CMAKE_C_COMPILER_LAUNCHER=ccache
    mkdir -p "$CCACHE_DIR"
    ccache --zero-stats >/dev/null
fi

step "configure and build (ci preset: g++, warnings are errors)"
cmake --preset ci >/dev/null
cmake --build --preset ci -j "$jobs"

step "lint"
scripts/lint.sh build/ci

if [ "${SKIP_ASAN:-0}" != 1 ]; then
    step "unit and fuzz-corpus tests under ASan + UBSan"
    cmake --preset asan >/dev/null
    cmake --build --preset asan -j "$jobs"
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
        ctest --preset asan -j "$jobs"
fi

if [ "${SKIP_FUZZ:-0}" != 1 ]; then
    step "libFuzzer targets, ${fuzz_seconds}s each"
    cmake --preset fuzz >/dev/null
    cmake --build --preset fuzz -j "$jobs" --target fuzzers
    scripts/fuzz.sh build/fuzz "$fuzz_seconds"
fi

step "all tests (ci build)"
ctest --preset ci -j "$jobs"
if [ -n "${CCACHE_DIR:-}" ]; then
    ccache --show-stats
fi
