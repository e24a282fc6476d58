#!/usr/bin/env bash
# Overlay benchmark: TCP throughput, RTT and daemon CPU of CYPHONIC next to the plain link,
# wireguard-go, nebula and openvpn, all between the same two network namespaces. Figures, not a
# pass/fail test (STYLE.md §8). Root only. See README.md next to this file.
#
#   NS_A  10.201.0.1 veth-b ========== veth pair ========== veth-a 10.201.0.2  NS_B
#     (iperf3 client, ping)                                      (iperf3 server)
#
# The cyphonic leg uses the e2e scenarios' topology and cloud instead (tests/e2e/lib): the
# nodes and the cloud namespace on the e2e "internet" bridge for the control traffic, plus the
# same veth pair between the two nodes, routed so that their tunnel takes it (legs/cyphonic.sh).
#
# Every leg builds its topology afresh, starts its tunnel daemon in NS_A and NS_B, waits for
# a ping over the tunnel, then measures: ping RTT (--pings at 50 ms), and --runs iperf3 TCP runs
# of --seconds each (single stream, A -> B) while sampling utime+stime of both daemons from
# /proc/PID/stat, and checks that the bytes crossed the A-B veth pair. The namespaces, and every
# process it started (by PID), go at the end of the leg; a failing leg is reported and the
# next one runs.
set -euo pipefail
shopt -s inherit_errexit

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../../.." && pwd)
# shellcheck source=lib/common.sh
. "$here/lib/common.sh"
# shellcheck source=lib/measure.sh
. "$here/lib/measure.sh"
# shellcheck source=lib/report.sh
. "$here/lib/report.sh"
# One file per leg, each defining leg_<name>_packages and leg_<name>_up (see legs/veth.sh).
# shellcheck source=legs/veth.sh
. "$here/legs/veth.sh"
# shellcheck source=legs/wireguard-go.sh
. "$here/legs/wireguard-go.sh"
# shellcheck source=legs/nebula.sh
. "$here/legs/nebula.sh"
# shellcheck source=legs/openvpn.sh
. "$here/legs/openvpn.sh"
# shellcheck source=legs/cyphonic.sh
. "$here/legs/cyphonic.sh"

all_legs=(veth wireguard-go nebula openvpn cyphonic)
runs=3
seconds=10
pings=50
BENCH_KEEP=0
: "${CYPHONIC_BUILD_DIR:=$root/build/release}"

usage() {
    cat <<USAGE
usage: $0 [--only LEG,LEG...] [--runs N] [--seconds S] [--pings N] [--build-dir DIR] [--keep]

  --only LEGS      comma-separated subset of: ${all_legs[*]} (default: all)
  --runs N         iperf3 runs per leg; the median is reported (default $runs)
  --seconds S      length of one iperf3 run in seconds (default $seconds)
  --pings N        pings for the RTT figures, 50 ms apart (default $pings)
  --build-dir DIR  build tree holding node-daemon/cyphonicd and services/*/cyphonic-*
                   (default \$CYPHONIC_BUILD_DIR or $root/build/release)
  --keep           keep the work directory (configs, keys, daemon logs) and print its path
USAGE
}

while [ $# -gt 0 ]; do
    case "$1" in
    --only | --runs | --seconds | --pings | --build-dir)
        [ $# -ge 2 ] || die "$1 needs a value"
        ;;&
    --only) only=$2 && shift 2 ;;
    --runs) runs=$2 && shift 2 ;;
    --seconds) seconds=$2 && shift 2 ;;
    --pings) pings=$2 && shift 2 ;;
    --build-dir) CYPHONIC_BUILD_DIR=$2 && shift 2 ;;
    --keep) BENCH_KEEP=1 && shift ;;
    -h | --help) usage && exit 0 ;;
    *) usage >&2 && die "unknown argument: $1" ;;
    esac
done
export CYPHONIC_BUILD_DIR

legs=("${all_legs[@]}")
if [ -n "${only:-}" ]; then
    IFS=, read -r -a legs <<<"$only"
    for leg in "${legs[@]}"; do
        printf '%s\n' "${all_legs[@]}" | grep -qx -- "$leg" ||
            die "unknown leg '$leg' in --only (legs: ${all_legs[*]})"
    done
fi
for value in "$runs" "$seconds" "$pings"; do
    [[ "$value" =~ ^[1-9][0-9]*$ ]] || die "--runs, --seconds and --pings take a positive integer"
done
[ "$(id -u)" -eq 0 ] || die "needs root (network namespaces, TUN devices)"

packages=(iperf3 iproute2 jq)
for leg in "${legs[@]}"; do
    read -r -a extra <<<"$("leg_${leg//-/_}_packages")"
    packages+=("${extra[@]}")
done
ensure_packages "${packages[@]}"

BENCH_WORK=$(mktemp -d /tmp/cyphonic-bench-overlay.XXXXXX)
: >"$BENCH_WORK/pids"
: >"$BENCH_WORK/results"

# Backstop: each leg cleans up after itself in its own subshell.
cleanup() {
    local status=$?
    trap - EXIT INT TERM
    set +e
    stop_started_processes
    topology_down
    if [ "$BENCH_KEEP" = 1 ]; then
        note "kept $BENCH_WORK"
    else
        rm -rf "$BENCH_WORK"
    fi
    exit "$status"
}

# Ctrl-C or SIGTERM while a leg runs. The leg runs in the background and is awaited with the
# `wait` builtin, which a trapped signal interrupts at once (a foreground subshell would make
# bash hold the trap until the subshell ends). Stopping the recorded processes first (daemons,
# iperf3) lets the leg's own waits return, so its TERM trap runs promptly and its EXIT trap
# deletes the namespaces.
leg_pid=""
interrupted() {
    trap - INT TERM
    note "interrupted; cleaning up"
    stop_started_processes
    if [ -n "$leg_pid" ]; then
        kill -TERM "$leg_pid" 2>/dev/null
        wait "$leg_pid"
    fi
    exit "$1"
}
trap cleanup EXIT
trap 'interrupted 130' INT
trap 'interrupted 143' TERM

# Runs in a subshell with errexit on: any failure (die) ends the leg, whose EXIT trap then
# stops its processes and deletes its namespaces.
run_leg() {
    local name=$1
    LEG_WORK=$BENCH_WORK/$name
    mkdir -p "$LEG_WORK"
    chmod 755 "$LEG_WORK"
    trap leg_cleanup EXIT
    "leg_${name//-/_}_up"
    wait_for_ping "$NS_A" "$LEG_PEER" 30 || die "no ping answer over the $name tunnel"
    start_iperf_server "$NS_B" "$LEG_WORK/iperf3-server.log"

    local rtt rtt_avg rtt_median
    rtt=$(measure_rtt "$NS_A" "$LEG_PEER" "$pings")
    read -r rtt_avg rtt_median <<<"$rtt"

    local mbps=() ticks=0 wall=0 i t0 t1 c0 c1 u0 u1 rate
    for ((i = 1; i <= runs; i++)); do
        u0=$(underlay_tx_bytes)
        c0=$(cpu_ticks "${LEG_PIDS[@]}")
        t0=$(now_s)
        rate=$(measure_iperf "$NS_A" "$LEG_PEER" "$seconds")
        t1=$(now_s)
        c1=$(cpu_ticks "${LEG_PIDS[@]}")
        u1=$(underlay_tx_bytes)
        check_underlay "$name" $((u1 - u0))
        note "$name run $i/$runs: $rate Mbit/s"
        mbps+=("$rate")
        ticks=$((ticks + c1 - c0))
        wall=$(awk -v w="$wall" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", w + b - a }')
    done

    local cpu=-
    if [ ${#LEG_PIDS[@]} -gt 0 ]; then
        cpu=$(awk -v t="$ticks" -v hz="$CLK_TCK" -v w="$wall" \
            'BEGIN { printf "%.1f", t / hz / w * 100 }')
    fi
    local runs_csv
    runs_csv=$(IFS=, && echo "${mbps[*]}")
    {
        printf 'name=%s status=ok mbps=%s mbps_runs=%s' "$name" "$(median "${mbps[@]}")" "$runs_csv"
        printf ' rtt_avg_ms=%s rtt_median_ms=%s cpu_pct=%s' "$rtt_avg" "$rtt_median" "$cpu"
        printf ' mtu=%s load1=%s\n' "$(link_mtu "$NS_A" "$LEG_DEV_A")" \
            "$(cut -d ' ' -f 1 /proc/loadavg)"
    } >>"$BENCH_WORK/results"
}

leg_cleanup() {
    local status=$?
    set +e
    if [ "$status" -ne 0 ]; then
        local f
        for f in "$LEG_WORK"/*.log; do
            [ -s "$f" ] || continue
            printf -- '---- %s (last 10 lines)\n' "$f" >&2
            tail -n 10 "$f" >&2
        done
    fi
    stop_started_processes
    topology_down
}

note "legs: ${legs[*]}; $runs x ${seconds}s iperf3, $pings pings; work dir $BENCH_WORK"
started=$(date -u +%Y-%m-%dT%H:%M:%SZ)
for leg in "${legs[@]}"; do
    note "== $leg"
    (
        set -e
        trap 'exit 143' TERM
        run_leg "$leg"
    ) &
    leg_pid=$!
    status=0
    wait "$leg_pid" || status=$?
    leg_pid=""
    if [ "$status" -ne 0 ]; then
        note "$leg failed (exit $status); see the messages above"
        echo "name=$leg status=failed" >>"$BENCH_WORK/results"
    fi
done

print_header "$started" "$runs" "$seconds" "$pings"
print_table "$BENCH_WORK/results"
print_machine_lines "$BENCH_WORK/results"
