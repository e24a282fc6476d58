#!/usr/bin/env bash
# Style checks over every project source: the coroutine-temporaries lint (the shapes g++ 12
# miscompiles inside co_await, scripts/lint/co_await_temporaries.py), clang-format (no changes
# allowed) and clang-tidy (STYLE.md §10). Needs a configured build dir with
# compile_commands.json ($1, default build/ci).
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${1:-build/ci}

mapfile -t sources < <(git ls-files '*.cpp' '*.hpp')
echo "lint: no ?:, braced or by-value-capture temporary in a co_await statement (g++ 12) on" \
    "${#sources[@]} files"
python3 scripts/lint/co_await_temporaries.py "${sources[@]}"
echo "lint: clang-format on ${#sources[@]} files"
clang-format --dry-run -Werror "${sources[@]}"

# clang-tidy runs on the translation units of the library and the binaries (headers are
# checked through them); tests and fuzz targets are left to the compilers' warnings.
mapfile -t units < <(git ls-files 'libcyphonic/src/*.cpp' 'node-daemon/*.cpp' \
    'adapter-daemon/*.cpp' 'services/*.cpp')
echo "lint: clang-tidy on ${#units[@]} translation units"
printf '%s\n' "${units[@]}" | xargs -P "$(nproc)" -n 4 clang-tidy -p "$build_dir" --quiet \
    2> >(grep -v -E '^[0-9]+ warnings? generated\.$|^Suppressed|^Use -header-filter' >&2)
echo "lint: ok"
