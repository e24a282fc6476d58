#!/usr/bin/env bash
# Checks a systemd unit of deploy/systemd offline with systemd-analyze (no systemd as PID 1
# needed). `verify` only warns about unknown keys and bad values (exit 0), so any output
# fails. ExecStart is pointed at the built binary, since verify insists the file exists.
#   verify-unit.sh UNIT BINARY [MAX_EXPOSURE] [CAPABILITIES]
set -euo pipefail
unit=$1
binary=$2
max_exposure=${3:-5.0}
capabilities=${4:-CAP_NET_ADMIN CAP_NET_BIND_SERVICE}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
name=$(basename "$unit")
sed "s|^ExecStart=/usr/sbin/[^ ]*|ExecStart=$binary|" "$unit" >"$work/$name"
out=$(systemd-analyze verify --man=no "$work/$name" 2>&1) || {
    echo "FAIL: systemd-analyze verify exited non-zero:"
    echo "$out"
    exit 1
}
if [ -n "$out" ]; then
    echo "FAIL: systemd-analyze verify complained:"
    echo "$out"
    exit 1
fi
echo "verify: ok"
# The exposure score of `security --offline` (0 = locked down, 10 = root with everything).
score=$(systemd-analyze security --offline=true "$work/$name" 2>/dev/null |
    sed -n 's/.*Overall exposure level for .*: \([0-9.]*\).*/\1/p')
if [ -z "$score" ]; then
    echo "FAIL: no exposure score from systemd-analyze security --offline"
    exit 1
fi
echo "exposure: $score (at most $max_exposure allowed)"
awk -v s="$score" -v m="$max_exposure" 'BEGIN { exit !(s <= m) }' || {
    echo "FAIL: exposure $score above $max_exposure"
    exit 1
}
# Least privilege: exactly the capabilities the daemon needs.
grep -qx "CapabilityBoundingSet=$capabilities" "$unit" || {
    echo "FAIL: CapabilityBoundingSet is not $capabilities"
    exit 1
}
