#!/usr/bin/env bash
# Adapter benchmark: what cyphonic-adapterd costs general nodes on its LAN. For 1..--max-gn
# general nodes at once and each --workers setting, all in one run: TCP throughput of every
# general node (iperf3, one stream each, all at the same time) to a cyphonicd node, their sum,
# ping RTT, and the adapter's CPU; next to a direct path between the same namespaces without
# the overlay. Figures, not a pass/fail test (STYLE.md §8). Root only.
#
#   cloud 10.77.0.10 ─┐
#   alice 10.77.0.21 ─┼─ inet (br0)     cyphonicd; iperf3 servers on 5201..520N
#   adp1  wan0 10.77.0.40
#         lan0 ── lan (br-lan) ── gn1..gnN  (02:00:00:00:01:0N)
#
#   direct   no daemon on the LAN side: adp1 is a plain IPv4 router (lan0 192.168.100.1/24,
#            forwarding on); gnI is 192.168.100.1I and reaches alice's real 10.77.0.21 through
#            it; alice routes 192.168.100.0/24 back via 10.77.0.40. Same namespaces, links and
#            hops, no tunnel. Removed before the adapter starts.
#   adapter  cyphonic-adapterd with data.workers W (restarted per W with the same state: the
#            general nodes keep the addresses DHCP gave them at the first start); each general
#            node resolves alice.<domain> at the gateway and sends to her virtual IPv4 over a
#            direct overlay path (both ends on the internet, AES-256-GCM).
#
# Per row: the N general nodes first ping alice together (--pings at 50 ms; the RTT column is
# the mean of their averages), then run iperf3 together for --seconds (the receiver's rate of
# each; aggregate = sum; min and max per node). The adapter's CPU is utime+stime of its process
# (all threads) over the iperf3 runs, in % of one core.
#
# It uses the e2e harness (tests/e2e/lib): topology, cloud (AS, NMS, TRS, PostgreSQL),
# cyphonicd, the adapter's helpers and its clean-up (every process by PID, the namespaces, the
# run directory; --keep keeps the directory with every log).
set -euo pipefail
shopt -s inherit_errexit

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../../.." && pwd)
harness=$root/tests/e2e/lib

max_gn=5
workers_list=1,2,4
seconds=10
pings=20
keep=0
: "${CYPHONIC_BUILD_DIR:=$root/build/release}"

note() { printf 'bench-adapter: %s\n' "$*" >&2; }
die() {
    printf 'bench-adapter: error: %s\n' "$*" >&2
    exit 1
}

usage() {
    cat <<USAGE
usage: $0 [--max-gn N] [--workers W,W...] [--seconds S] [--pings N] [--build-dir DIR] [--keep]

  --max-gn N       rows for 1..N general nodes at once, N at most 9 (default $max_gn)
  --workers LIST   data.workers settings of the adapter, comma-separated (default $workers_list)
  --seconds S      length of each iperf3 run (default $seconds)
  --pings N        pings per general node and row, 50 ms apart (default $pings)
  --build-dir DIR  build tree with node-daemon/cyphonicd, adapter-daemon/cyphonic-adapterd and
                   services/*/cyphonic-* (default \$CYPHONIC_BUILD_DIR or $root/build/release)
  --keep           keep the run directory (configurations, logs, iperf3 JSON) and print its path
USAGE
}

while [ $# -gt 0 ]; do
    case "$1" in
    --max-gn | --workers | --seconds | --pings | --build-dir)
        [ $# -ge 2 ] || die "$1 needs a value"
        ;;&
    --max-gn) max_gn=$2 && shift 2 ;;
    --workers) workers_list=$2 && shift 2 ;;
    --seconds) seconds=$2 && shift 2 ;;
    --pings) pings=$2 && shift 2 ;;
    --build-dir) CYPHONIC_BUILD_DIR=$2 && shift 2 ;;
    --keep) keep=1 && shift ;;
    -h | --help) usage && exit 0 ;;
    *) usage >&2 && die "unknown argument: $1" ;;
    esac
done
for value in "$max_gn" "$seconds" "$pings"; do
    [[ $value =~ ^[1-9][0-9]*$ ]] || die "--max-gn, --seconds and --pings take a positive integer"
done
[ "$max_gn" -le 9 ] || die "--max-gn is at most 9 (the MACs are 02:00:00:00:01:0N)"
IFS=, read -r -a workers <<<"$workers_list"
for w in "${workers[@]}"; do
    [[ $w =~ ^[1-9][0-9]*$ ]] || die "--workers takes positive integers, not '$w'"
done
[ "$(id -u)" -eq 0 ] || die "needs root (network namespaces, TUN devices, raw sockets)"
export CYPHONIC_BUILD_DIR

# shellcheck source-path=SCRIPTDIR source=../../e2e/lib/e2e.sh
. "$harness/e2e.sh"
# shellcheck source-path=SCRIPTDIR source=../../e2e/lib/adapter.sh
. "$harness/adapter.sh"

missing=()
for var in CYPHONICD CYPHONIC_AS CYPHONIC_NMS CYPHONIC_TRS CYPHONIC_ADAPTERD; do
    [ -x "${!var}" ] || missing+=("${!var}")
done
[ ${#missing[@]} -eq 0 ] || die "not built: ${missing[*]} (cmake --preset release && cmake" \
    "--build build/release --target cyphonicd cyphonic-adapterd cyphonic-as cyphonic-nms" \
    "cyphonic-trs; or pass --build-dir DIR)"
for tool in iperf3 jq dig ping python3 "$E2E_DHCLIENT"; do
    command -v "$tool" >/dev/null || die "missing $tool (scripts/install-deps.sh installs it)"
done

# Settings the e2e harness reads; info level because per-packet lines would be measured too.
# shellcheck disable=SC2034
{
    E2E_KEEP=$keep
    E2E_LOG_LINES=20
    E2E_NODE_LOG_LEVEL=info
    E2E_ADAPTER_LOG_LEVEL=info
}
CLK_TCK=$(getconf CLK_TCK)
started=$(date -u +%Y-%m-%dT%H:%M:%SZ)
e2e_init
results=$E2E_RUN_DIR/results
: >"$results"

# utime + stime of PID (all threads) in clock ticks.
cpu_ticks() {
    local stat
    stat=$(cat "/proc/$1/stat") || die "pid $1 is gone; its daemon died during the run"
    stat=${stat##*) }
    # shellcheck disable=SC2086 # split the fields on purpose
    set -- $stat
    echo $((${12} + ${13}))
}

# measure_row PATH WORKERS N TARGET: the N general nodes ping TARGET together, then run iperf3
# to TARGET together (gnI to port 520I); appends one result line.
measure_row() {
    local path=$1 w=$2 n=$3 target=$4 i pids=() rtts=() rates=() json pid status=ok
    local log=$E2E_RUN_DIR/logs
    for ((i = 1; i <= n; i++)); do
        e2e_spawn "$log/ping-$path-$w-$n-gn$i.log" "$(ns "gn$i")" \
            ping -n -q -c "$pings" -i 0.05 -W 2 "$target"
        pids+=("$E2E_LAST_PID")
    done
    for pid in "${pids[@]}"; do
        wait "$pid" || status=failed
    done
    for ((i = 1; i <= n; i++)); do
        rtts+=("$(sed -n 's|^rtt [^=]*= [0-9.]*/\([0-9.]*\)/.*|\1|p' "$log/ping-$path-$w-$n-gn$i.log")")
    done

    local c0=0 c1=0 t0 t1
    [ "$path" = adapter ] && c0=$(cpu_ticks "$E2E_ADAPTER_PID")
    t0=$(date +%s.%N)
    pids=()
    for ((i = 1; i <= n; i++)); do
        json=$log/iperf3-$path-$w-$n-gn$i.json
        e2e_spawn "$json" "$(ns "gn$i")" timeout $((seconds + 30)) \
            iperf3 -c "$target" -p $((5200 + i)) -t "$seconds" --connect-timeout 5000 -J
        pids+=("$E2E_LAST_PID")
    done
    for pid in "${pids[@]}"; do
        wait "$pid" || status=failed
    done
    t1=$(date +%s.%N)
    [ "$path" = adapter ] && c1=$(cpu_ticks "$E2E_ADAPTER_PID")
    for ((i = 1; i <= n; i++)); do
        json=$log/iperf3-$path-$w-$n-gn$i.json
        rates+=("$(jq -r '.end.sum_received.bits_per_second // 0 | . / 1e6 | . * 10 | floor / 10' \
            "$json" 2>/dev/null || echo 0)")
    done

    local cpu=-
    [ "$path" = adapter ] && cpu=$(awk -v t=$((c1 - c0)) -v hz="$CLK_TCK" -v a="$t0" -v b="$t1" \
        'BEGIN { printf "%.1f", t / hz / (b - a) * 100 }')
    local rates_csv rtts_csv
    rates_csv=$(IFS=, && echo "${rates[*]}")
    rtts_csv=$(IFS=, && echo "${rtts[*]}")
    printf 'path=%s workers=%s gns=%s status=%s mbps_per_gn=%s rtt_per_gn_ms=%s cpu_pct=%s\n' \
        "$path" "$w" "$n" "$status" "$rates_csv" "$rtts_csv" "$cpu" >>"$results"
    note "$path workers=$w gns=$n: Mbit/s $rates_csv, RTT ms $rtts_csv, CPU $cpu ($status)"
}

note "rows: 1..$max_gn general nodes; direct, then adapter with workers ${workers[*]};" \
    "iperf3 ${seconds}s, $pings pings; run directory $E2E_RUN_DIR"
topo_internet
cloud_up
topo_public alice 0 21 v4
adapter_topology "$max_gn"
cloud_enrol alice
adapter_enrol
node_config alice
printf 'crypto:\n  accept_ciphers: ["aes-256-gcm"]\n' >>"$(node_dir)/alice.yaml"
node_start alice
for ((i = 1; i <= max_gn; i++)); do
    e2e_spawn "$E2E_RUN_DIR/logs/iperf3-server-$((5200 + i)).log" "$(ns alice)" \
        iperf3 -s -p $((5200 + i))
done
e2e_wait_until 10 "iperf3 servers on alice" \
    in_ns alice sh -c "ss -ltn | grep -q ':$((5200 + max_gn)) '"

# The direct path.
in_ns "$E2E_ADAPTER" ip -4 addr add 192.168.100.1/24 dev lan0
in_ns "$E2E_ADAPTER" sysctl -qw net.ipv4.ip_forward=1
in_ns alice ip -4 route add 192.168.100.0/24 via "$E2E_ADAPTER_V4" dev eth0
for ((i = 1; i <= max_gn; i++)); do
    in_ns "gn$i" ip -4 addr add "192.168.100.$((10 + i))/24" dev eth0
    in_ns "gn$i" ip -4 route add 10.77.0.21/32 via 192.168.100.1 dev eth0
done
for ((n = 1; n <= max_gn; n++)); do
    measure_row direct - "$n" 10.77.0.21
done
for ((i = 1; i <= max_gn; i++)); do
    in_ns "gn$i" ip -4 route del 10.77.0.21/32
    in_ns "gn$i" ip -4 addr del "192.168.100.$((10 + i))/24" dev eth0
done
in_ns alice ip -4 route del 192.168.100.0/24
in_ns "$E2E_ADAPTER" sysctl -qw net.ipv4.ip_forward=0
in_ns "$E2E_ADAPTER" ip -4 addr del 192.168.100.1/24 dev lan0

# Through the adapter, per workers setting.
alice4=$(node_vip alice 4)
first=1
for w in "${workers[@]}"; do
    E2E_ADAPTER_WORKERS=$w
    adapter_config
    adapter_start
    for ((i = 1; i <= max_gn; i++)); do
        [ "$first" = 1 ] && gn_dhcp4 "gn$i"
        adapter_wait_gn "gn$i" active 30
        got=$(gn_resolve "gn$i" alice A)
        e2e_same_ip "$got" "$alice4" || e2e_fail "gn$i resolved alice to '$got', not $alice4"
    done
    first=0
    for ((n = 1; n <= max_gn; n++)); do
        measure_row adapter "$w" "$n" "$alice4"
    done
    adapter_stop
done

# The report: one row per measurement, ratios against the direct row with as many nodes.
echo
echo "# adapter benchmark $started, $(uname -n), kernel $(uname -r), $(nproc) cores"
echo "# iperf3 TCP, one stream per general node, all at once, ${seconds}s; RTT: $pings pings" \
    "per node at 50 ms, mean of the nodes' averages; CPU: the adapter's utime+stime during" \
    "iperf3, % of one core"
echo "# load average now: $(cut -d ' ' -f 1-3 /proc/loadavg) (other work on the machine skews" \
    "the figures)"
echo
awk '
function field(line, key,   i, kv) {
    for (i = 1; i <= split(line, f, " "); i++) {
        split(f[i], kv, "=")
        if (kv[1] == key) { return substr(f[i], length(key) + 2) }
    }
    return ""
}
function stats(csv,   i, n, v) {
    n = split(csv, v, ","); sum = 0; lo = ""; hi = ""
    for (i = 1; i <= n; i++) {
        sum += v[i]
        if (lo == "" || v[i] + 0 < lo + 0) { lo = v[i] }
        if (hi == "" || v[i] + 0 > hi + 0) { hi = v[i] }
    }
    mean = n ? sum / n : 0
}
function ratio(a, b) { return (b + 0 == 0) ? "-" : sprintf("%.2f", a / b) }
{ lines[NR] = $0 }
END {
    fmt = "%-8s %7s %4s %10s %9s %9s %9s %8s %8s %9s %8s\n"
    printf fmt, "path", "workers", "gns", "sum Mbit/s", "min/gn", "max/gn", "vs direct", \
           "RTT ms", "RTT/dir", "CPU %", "status"
    for (k = 1; k <= NR; k++) {
        l = lines[k]
        p = field(l, "path"); w = field(l, "workers"); n = field(l, "gns")
        stats(field(l, "mbps_per_gn")); agg[p, w, n] = sum; a = sum; mn = lo; mx = hi
        stats(field(l, "rtt_per_gn_ms")); rtt[p, w, n] = mean; r = mean
        printf fmt, p, w, n, sprintf("%.1f", a), mn, mx, ratio(a, agg["direct", "-", n]), \
               sprintf("%.3f", r), ratio(r, rtt["direct", "-", n]), field(l, "cpu_pct"), \
               field(l, "status")
        machine[k] = "result " l " mbps=" sprintf("%.1f", a) \
                     " mbps_vs_direct=" ratio(a, agg["direct", "-", n]) \
                     " rtt_avg_ms=" sprintf("%.3f", r) " rtt_vs_direct=" ratio(r, rtt["direct", "-", n])
    }
    print ""
    for (k = 1; k <= NR; k++) { print machine[k] }
}' "$results"
