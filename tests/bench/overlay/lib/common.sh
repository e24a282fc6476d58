# shellcheck shell=bash
# Shared helpers of bench-overlay.sh: messages, packages, namespaces and the processes the
# benchmark starts. Sourced, never run. Every process started here is recorded with its start
# time in "$BENCH_WORK/pids", so cleanup kills exactly those (a reused PID is left alone).

# Namespace names carry our PID so that two runs, or the e2e tests, never share one.
NS_A="cyph-bench-a-$$"
NS_B="cyph-bench-b-$$"

# Underlay ("real") addresses: a /32 on each end of the veth pair, with a /32 route to the
# other end.
REAL_A=10.201.0.1
REAL_B=10.201.0.2

note() { printf 'bench-overlay: %s\n' "$*" >&2; }
die() {
    printf 'bench-overlay: error: %s\n' "$*" >&2
    exit 1
}

# Installs the Debian packages that are missing (quiet when all are present).
ensure_packages() {
    local missing=() p
    for p in "$@"; do
        if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
            missing+=("$p")
        fi
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    note "installing ${missing[*]} with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null || die "apt-get update failed"
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null ||
        die "apt-get install ${missing[*]} failed"
}

in_netns() {
    local ns=$1
    shift
    ip netns exec "$ns" "$@"
}

# Field 22 of /proc/PID/stat (start time in clock ticks), read after the ")" that ends the
# command name, since the name itself may hold spaces or parentheses. Fails for a process that
# is gone or has exited and waits to be reaped (state Z).
proc_start_time() {
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    stat=${stat##*) }
    # shellcheck disable=SC2086  # split the fields on purpose
    set -- $stat
    [ "$1" != Z ] || return 1
    echo "${20}"
}

# Starts a command in a namespace in the background, logging to FILE, and sets STARTED_PID.
# `ip netns exec` execs the command after entering the namespace, so the PID is the daemon's.
# (Not a command substitution: the process must stay a child of this shell.)
start_in_ns() {
    local ns=$1 log=$2 start
    shift 2
    ip netns exec "$ns" "$@" </dev/null >"$log" 2>&1 &
    STARTED_PID=$!
    start=$(proc_start_time "$STARTED_PID") || start=unknown
    echo "$STARTED_PID $start" >>"$BENCH_WORK/pids"
}

# True while PID runs and is still the process we started.
is_ours_alive() {
    local pid=$1 want now
    want=$(awk -v p="$pid" '$1 == p { print $2 }' "$BENCH_WORK/pids" | tail -n 1)
    now=$(proc_start_time "$pid") || return 1
    [ -n "$want" ] && [ "$want" = "$now" ]
}

# SIGTERM to each recorded PID still ours, SIGKILL after 5 s, then forget them.
stop_started_processes() {
    [ -f "$BENCH_WORK/pids" ] || return 0
    local pid start alive=() i
    while read -r pid start; do
        if is_ours_alive "$pid"; then
            kill -TERM "$pid" 2>/dev/null && alive+=("$pid")
        fi
    done <"$BENCH_WORK/pids"
    for ((i = 0; i < 50 && ${#alive[@]} > 0; i++)); do
        local still=()
        for pid in "${alive[@]}"; do
            is_ours_alive "$pid" && still+=("$pid")
        done
        alive=("${still[@]}")
        [ ${#alive[@]} -gt 0 ] && sleep 0.1
    done
    for pid in "${alive[@]}"; do
        note "pid $pid ignored SIGTERM; sending SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
    done
    : >"$BENCH_WORK/pids"
}

make_ns() {
    ip netns add "$1" || die "ip netns add $1 failed"
    in_netns "$1" ip link set lo up
}

# Connects two namespaces with a veth pair, created directly inside them so that no name is
# ever taken in the root namespace.
make_veth() {
    local ns1=$1 if1=$2 ns2=$3 if2=$4
    ip link add "$if1" netns "$ns1" type veth peer name "$if2" netns "$ns2" ||
        die "creating veth $if1/$if2 failed"
    in_netns "$ns1" ip link set "$if1" up
    in_netns "$ns2" ip link set "$if2" up
}

# NS reaches PEER_ADDR over DEV with source address SRC (ARP on an unnumbered link works
# because Linux answers for any of its addresses on any interface).
route_to() {
    local ns=$1 peer_addr=$2 dev=$3 src=$4
    in_netns "$ns" ip route add "$peer_addr/32" dev "$dev" src "$src" ||
        die "route to $peer_addr in $ns failed"
}

# The benchmark topology, built afresh by each leg:
#
#     NS_A  REAL_A on veth-b ================== veth-a  NS_B  REAL_B on veth-a
#
# The legs' tunnels run between REAL_A and REAL_B, so their packets cross this veth pair.
topology_up() {
    make_ns "$NS_A"
    make_ns "$NS_B"
    make_veth "$NS_A" veth-b "$NS_B" veth-a
    in_netns "$NS_A" ip addr add "$REAL_A/32" dev veth-b
    in_netns "$NS_B" ip addr add "$REAL_B/32" dev veth-a
    route_to "$NS_A" "$REAL_B" veth-b "$REAL_A"
    route_to "$NS_B" "$REAL_A" veth-a "$REAL_B"
    in_netns "$NS_A" ping -c 1 -W 2 "$REAL_B" >/dev/null || die "no underlay path A -> B"
}

# Deletes the namespaces of this run (their interfaces go with them).
topology_down() {
    local ns
    for ns in "$NS_A" "$NS_B"; do
        if ip netns list | awk '{ print $1 }' | grep -qx "$ns"; then
            ip netns delete "$ns" || note "could not delete namespace $ns"
        fi
    done
}

# Waits up to SECONDS for a ping from NS to ADDR to be answered.
wait_for_ping() {
    local ns=$1 addr=$2 seconds=$3 i
    for ((i = 0; i < seconds * 2; i++)); do
        in_netns "$ns" ping -c 1 -W 1 -n "$addr" >/dev/null 2>&1 && return 0
        sleep 0.5
    done
    return 1
}

# Waits up to SECONDS for interface DEV to exist in NS.
wait_for_link() {
    local ns=$1 dev=$2 seconds=$3 i
    for ((i = 0; i < seconds * 10; i++)); do
        in_netns "$ns" ip link show "$dev" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    return 1
}
