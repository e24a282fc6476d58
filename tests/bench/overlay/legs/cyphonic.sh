# shellcheck shell=bash
# cyphonic leg: cyphonicd on both ends with the real cloud services (AS, NMS, TRS, PostgreSQL),
# set up with the e2e scenarios' helpers (tests/e2e/lib) so that there is one way to run them:
#
#   cloud 10.77.0.10 ─┐
#   alice 10.77.0.21 ─┼─ inet (br0)      control: login, registration, route selection
#   bob   10.77.0.22 ─┘
#   alice veth-b ============ veth-a bob  data: 10.77.0.21 <-> 10.77.0.22 by /32 routes
#
# The nodes are IPv4-only (NMS would prefer IPv6, which only the bridge carries) and not behind
# NAT, so NMS selects a direct path, which the /32 routes put on the veth pair like every other
# leg's tunnel; run_leg checks it. Data cipher AES-256-GCM. alice reaches bob by resolving
# bob.<domain> at her own resolver (the virtual IPv4 it answers is LEG_PEER).
#
# Binaries: $CYPHONIC_BUILD_DIR/node-daemon/cyphonicd and services/{as,nms,trs}/cyphonic-*
# (--build-dir; CYPHONICD, CYPHONIC_AS, CYPHONIC_NMS, CYPHONIC_TRS override one each).

bench_e2e_lib=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../../e2e/lib" && pwd)
# shellcheck source=../../../e2e/lib/common.sh
. "$bench_e2e_lib/common.sh"
# shellcheck source=../../../e2e/lib/topology.sh
. "$bench_e2e_lib/topology.sh"
# shellcheck source=../../../e2e/lib/cloud.sh
. "$bench_e2e_lib/cloud.sh"
# shellcheck source=../../../e2e/lib/node.sh
. "$bench_e2e_lib/node.sh"

leg_cyphonic_packages() { echo postgresql nftables curl dnsutils python3; }

# EXIT trap of the leg: the benchmark's own processes (iperf3), then the e2e clean-up
# (cyphonicd, services, PostgreSQL, namespaces, run directory), which exits with STATUS.
cyphonic_leg_exit() {
    local status=$1
    set +e
    stop_started_processes
    e2e_cleanup "$status"
}

cyphonic_require_binaries() {
    e2e_find_binaries
    local var missing=()
    for var in CYPHONICD CYPHONIC_AS CYPHONIC_NMS CYPHONIC_TRS; do
        [ -x "${!var}" ] || missing+=("${!var}")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    die "not built: ${missing[*]} (build them with: cmake --preset release && cmake --build" \
        "build/release --target cyphonicd cyphonic-as cyphonic-nms cyphonic-trs;" \
        "or pass --build-dir DIR)"
}

leg_cyphonic_up() {
    cyphonic_require_binaries
    E2E_KEEP=$BENCH_KEEP
    E2E_NODE_LOG_LEVEL=info # per-packet lines are trace; info keeps the log out of the figures
    e2e_init
    trap 'cyphonic_leg_exit $?' EXIT

    topo_internet
    cloud_up
    topo_public alice 0 21 v4
    topo_public bob 0 22 v4
    NS_A=$(ns alice)
    NS_B=$(ns bob)
    make_veth "$NS_A" veth-b "$NS_B" veth-a
    route_to "$NS_A" 10.77.0.22 veth-b 10.77.0.21
    route_to "$NS_B" 10.77.0.21 veth-a 10.77.0.22

    cloud_enrol alice
    cloud_enrol bob
    # AES-256-GCM, as the nebula and openvpn legs (NMS's default tunnel.cipher; pinned here so
    # that a changed default cannot silently change what is measured).
    local node
    for node in alice bob; do
        node_config "$node"
        printf 'crypto:\n  accept_ciphers: ["aes-256-gcm"]\n' >>"$(node_dir)/$node.yaml"
    done
    node_start alice
    node_start bob
    LEG_PEER=$(node_resolve alice bob A)
    wait_for_ping "$NS_A" "$LEG_PEER" 30 || die "no ping answer from bob ($LEG_PEER) over cyph0"
    node_wait_path alice bob direct 20
    LEG_DEV_A=cyph0
    LEG_PIDS=("${E2E_NODE_PID[alice]}" "${E2E_NODE_PID[bob]}")
}
