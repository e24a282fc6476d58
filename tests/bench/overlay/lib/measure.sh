# shellcheck shell=bash
# Measurements of bench-overlay.sh: RTT with ping, TCP throughput with iperf3, and the CPU time
# the tunnel daemons spend. Sourced, never run; needs lib/common.sh.

CLK_TCK=$(getconf CLK_TCK)

# Median of the numbers given as arguments (mean of the middle two for an even count), with
# MEDIAN_DIGITS decimals (default 1).
median() {
    printf '%s\n' "$@" | sort -g | awk -v digits="${MEDIAN_DIGITS:-1}" '
        { v[NR] = $1 }
        END {
            if (NR == 0) { print "nan"; exit }
            if (NR % 2) { m = v[(NR + 1) / 2] } else { m = (v[NR / 2] + v[NR / 2 + 1]) / 2 }
            printf "%.*f\n", digits, m
        }'
}

# utime + stime of the given processes in clock ticks, summed. /proc/PID/stat counts every
# thread of the process, so multi-threaded daemons (wireguard-go, nebula) are fully covered.
cpu_ticks() {
    local total=0 pid stat
    for pid in "$@"; do
        stat=$(cat "/proc/$pid/stat") || die "pid $pid is gone; its daemon died during the run"
        stat=${stat##*) }
        # shellcheck disable=SC2086  # split the fields on purpose
        set -- $stat
        # After the name, field 3 (state) is $1, so utime (14) is ${12} and stime (15) ${13}.
        total=$((total + ${12} + ${13}))
    done
    echo "$total"
}

now_s() { date +%s.%N; }

# "avg median" RTT in ms of COUNT pings from NS to ADDR at 50 ms intervals.
measure_rtt() {
    local ns=$1 addr=$2 count=$3 out
    out=$(in_netns "$ns" ping -n -c "$count" -i 0.05 -W 2 "$addr") ||
        die "ping $addr from $ns lost packets: $(echo "$out" | tail -n 2 | head -n 1)"
    local times
    mapfile -t times < <(echo "$out" | sed -n 's/.* time=\([0-9.]*\) ms.*/\1/p')
    [ ${#times[@]} -gt 0 ] || die "no RTT in the output of ping $addr"
    local avg med
    avg=$(printf '%s\n' "${times[@]}" | awk '{ s += $1 } END { printf "%.3f", s / NR }')
    med=$(MEDIAN_DIGITS=3 median "${times[@]}")
    printf '%s %.3f\n' "$avg" "$med"
}

# Starts an iperf3 server in NS (all addresses, port 5201) and waits until it listens.
start_iperf_server() {
    local ns=$1 log=$2 i
    start_in_ns "$ns" "$log" iperf3 -s
    for ((i = 0; i < 50; i++)); do
        in_netns "$ns" ss -Htln 'sport = :5201' | grep -q . && return 0
        sleep 0.1
    done
    die "iperf3 server in $ns did not start: $(cat "$log")"
}

# One iperf3 TCP run of SECONDS from NS to ADDR; prints the receiver's Mbit/s. The client is
# a recorded process like the daemons, so an interrupted run can stop it; a tunnel that dies
# mid-run stalls iperf3's control connection too, hence the timeout.
measure_iperf() {
    local ns=$1 addr=$2 seconds=$3 json=$LEG_WORK/iperf3-client.json bps
    start_in_ns "$ns" "$json" timeout --foreground $((seconds + 30)) \
        iperf3 -c "$addr" -t "$seconds" --connect-timeout 5000 -J
    wait "$STARTED_PID" ||
        die "iperf3 to $addr failed or timed out: $(jq -r '.error // empty' "$json" 2>/dev/null)"
    bps=$(jq -r '.end.sum_received.bits_per_second' "$json") || die "no result in $json"
    awk -v b="$bps" 'BEGIN { printf "%.1f", b / 1e6 }'
}

# Bytes sent so far by end A's side of the A-B veth pair (`ip netns exec` mounts the
# namespace's own /sys).
underlay_tx_bytes() {
    in_netns "$NS_A" cat /sys/class/net/veth-b/statistics/tx_bytes
}

# Dies unless the A-B veth pair carried the last iperf3 run: its tx bytes (DELTA)
# must reach 90 % of what iperf3 sent (tunnel headers only add to it). Catches a tunnel that
# went another way, such as a CYPHONIC path relayed through TRS.
check_underlay() {
    local name=$1 delta=$2 sent
    sent=$(jq -r '.end.sum_sent.bytes' "$LEG_WORK/iperf3-client.json")
    awk -v d="$delta" -v s="$sent" 'BEGIN { exit !(d >= 0.9 * s) }' ||
        die "$name: the A-B veth sent $delta bytes while iperf3 sent $sent; the tunnel took" \
            "another path"
}

# MTU of DEV in NS.
link_mtu() {
    in_netns "$1" ip -o link show dev "$2" | sed -n 's/.* mtu \([0-9]*\) .*/\1/p'
}
