#!/usr/bin/env bash
# Runs every libFuzzer target of a fuzz build for a bounded time, starting from its seed corpus
# (copied to a temporary directory so the tree's corpus does not grow). A crash leaves the
# input in crashes/<target>/ and fails the run.
# Usage: scripts/fuzz.sh BUILD_DIR SECONDS_PER_TARGET
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${1:?build dir}
seconds=${2:-30}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

mapfile -t targets < <(find "$build_dir/tests/fuzz" -maxdepth 1 -type f -executable \
    -name 'fuzz_*' ! -name '*_replay' | sort)
if [ ${#targets[@]} -eq 0 ]; then
    echo "fuzz: no targets in $build_dir/tests/fuzz" >&2
    exit 1
fi
failed=0
for target in "${targets[@]}"; do
    name=$(basename "$target")
    name=${name#fuzz_}
    mkdir -p "$work/$name" "crashes/$name"
    if [ -d "tests/fuzz/corpus/$name" ]; then
        cp -r "tests/fuzz/corpus/$name/." "$work/$name/"
    fi
    if "$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
        -artifact_prefix="crashes/$name/" -print_final_stats=1 "$work/$name" \
        >"$work/$name.log" 2>&1; then
        runs=$(grep -E '^stat::number_of_executed_units' "$work/$name.log" | awk '{print $2}')
        echo "fuzz: $name ok, ${runs:-?} runs in ${seconds}s"
        rmdir --ignore-fail-on-non-empty "crashes/$name"
    else
        echo "fuzz: $name FAILED; input kept in crashes/$name/" >&2
        tail -40 "$work/$name.log" >&2
        failed=1
    fi
done
rmdir --ignore-fail-on-non-empty crashes
exit $failed
