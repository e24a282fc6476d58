# shellcheck shell=bash
# Output of bench-overlay.sh: a header, the table, and one machine-readable line per leg.
# The results file has one line of key=value pairs per leg (written by run_leg); the ratios
# are computed here so that a leg left out with --only just shows "-".

print_header() {
    local started=$1 runs=$2 seconds=$3 pings=$4
    echo
    echo "# overlay benchmark $started, $(uname -n), kernel $(uname -r), $(nproc) cores"
    echo "# iperf3 TCP single stream A->B, median of $runs x ${seconds}s; RTT of $pings pings" \
        "at 50 ms; CPU = utime+stime of both tunnel daemons during the iperf3 runs, % of one core"
    echo "# load average now: $(cut -d ' ' -f 1-3 /proc/loadavg) (other work on the machine" \
        "skews the figures)"
}

# awk program shared by the table and the machine lines: loads the results into arrays keyed
# by leg name (order[] keeps the run order) and defines ratio().
# shellcheck disable=SC2016  # an awk program: its $ are awk's
REPORT_AWK_LOAD='
function ratio(a, b) {
    if (a == "" || b == "" || a == "-" || b == "-" || b + 0 == 0) { return "-" }
    return sprintf("%.2f", a / b)
}
{
    name = ""
    for (i = 1; i <= NF; i++) {
        split($i, kv, "=")
        if (kv[1] == "name") { name = kv[2]; order[++n] = name }
        else { val[name, kv[1]] = kv[2] }
    }
}
function get(leg, key) { return ((leg, key) in val) ? val[leg, key] : "-" }
'

print_table() {
    echo
    awk "$REPORT_AWK_LOAD"'
    END {
        fmt = "%-14s %9s %8s %9s %11s %11s %8s %8s %5s\n"
        printf fmt, "name", "Mbit/s", "vs veth", "vs wg-go", "RTT avg ms", "RTT med ms", \
               "RTT/veth", "CPU %", "MTU"
        for (k = 1; k <= n; k++) {
            leg = order[k]
            if (get(leg, "status") != "ok") {
                printf fmt, leg, get(leg, "status"), "-", "-", "-", "-", "-", "-", "-"
                continue
            }
            m = get(leg, "mbps")
            r = get(leg, "rtt_avg_ms")
            printf fmt, leg, m, ratio(m, get("veth", "mbps")), \
                   ratio(m, get("wireguard-go", "mbps")), r, get(leg, "rtt_median_ms"), \
                   ratio(r, get("veth", "rtt_avg_ms")), get(leg, "cpu_pct"), get(leg, "mtu")
        }
    }' "$1"
}

# One line per leg: "result name=... status=..." and, for a measured leg, every figure and
# ratio as key=value (a ratio whose reference leg was not run is "-").
print_machine_lines() {
    echo
    awk "$REPORT_AWK_LOAD"'
    END {
        for (k = 1; k <= n; k++) {
            leg = order[k]
            line = "result name=" leg " status=" get(leg, "status")
            if (get(leg, "status") == "ok") {
                m = get(leg, "mbps")
                r = get(leg, "rtt_avg_ms")
                line = line " mbps=" m " mbps_runs=" get(leg, "mbps_runs") \
                       " mbps_vs_veth=" ratio(m, get("veth", "mbps")) \
                       " mbps_vs_wireguard_go=" ratio(m, get("wireguard-go", "mbps")) \
                       " rtt_avg_ms=" r " rtt_median_ms=" get(leg, "rtt_median_ms") \
                       " rtt_vs_veth=" ratio(r, get("veth", "rtt_avg_ms")) \
                       " cpu_pct=" get(leg, "cpu_pct") " mtu=" get(leg, "mtu") \
                       " load1=" get(leg, "load1")
            }
            print line
        }
    }' "$1"
}
