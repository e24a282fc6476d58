#!/usr/bin/env bash
# 01_public: two nodes on the shared public network, alice logging in with her password, bob
# with his client certificate (Auth Type 2). alice resolves bob's FQDN at her own resolver
# (A → bob's virtual IPv4, AAAA → his virtual IPv6); ping and ping -6 over the overlay; a 5 s
# iperf3 TCP transfer completes; bob reaches alice the other way round. carol answers Tunnel
# Requests without an End Key of her own (PROTOCOL.md D14: alice's key then protects both
# directions, as another implementation may do): alice still reaches her. Every daemon exits 0
# on SIGTERM and removes its TUN.
#
#   cloud 10.77.0.10 fd77::10 ─┐
#   alice 10.77.0.21 fd77::21 ─┼─ inet (br0)
#   bob   10.77.0.22 fd77::22 ─┤
#   carol 10.77.0.23 fd77::23 ─┘
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=../lib/e2e.sh
source "$here/../lib/e2e.sh"

e2e_init
e2e_require_binary CYPHONICD cyphonicd
e2e_require_tools dig ping iperf3

topo_internet
cloud_up
topo_public alice 0 21 dual
topo_public bob 0 22 dual
topo_public carol 0 23 dual
cloud_enrol alice
cloud_enrol bob --cert-login
cloud_enrol carol
node_start alice
node_start bob "$E2E_CLOUD_V4" cert
node_config carol
printf 'crypto:\n  responder_end_key: false\n' >>"$(node_dir)/carol.yaml"
node_start carol

bob4=$(node_vip bob 4)
bob6=$(node_vip bob 6)
if [ -z "$bob4" ] || [ -z "$bob6" ]; then
    e2e_fail "bob's status lacks a virtual address: $(node_status bob)"
fi
got4=$(node_resolve alice bob A)
e2e_same_ip "$got4" "$bob4" || e2e_fail "alice resolved bob A to '$got4', bob's status says $bob4"
got6=$(node_resolve alice bob AAAA)
e2e_same_ip "$got6" "$bob6" || e2e_fail "alice resolved bob AAAA to '$got6', bob's status says $bob6"
e2e_log "alice resolves bob.$E2E_DOMAIN: A $got4, AAAA $got6"

node_ping alice "$bob4"
node_ping alice "$bob6"
node_wait_path alice bob direct 10

iperf_server bob
iperf_run alice "$bob4" 5

# The counters saw the traffic (a ping and 5 s of TCP are far more than 100 packets).
tx=$(node_peer_field alice bob tx_packets)
rx=$(node_peer_field bob alice rx_packets)
if [ "${tx:-0}" -le 100 ] || [ "${rx:-0}" -le 100 ]; then
    e2e_fail "peer counters too low: alice tx_packets=${tx:-none}, bob rx_packets=${rx:-none}"
fi

alice4=$(node_vip alice 4)
got=$(node_resolve bob alice A)
e2e_same_ip "$got" "$alice4" || e2e_fail "bob resolved alice A to '$got', not $alice4"
node_ping bob "$alice4"

# A responder without an End Key of its own (D14).
carol4=$(node_vip carol 4)
got=$(node_resolve alice carol A)
e2e_same_ip "$got" "$carol4" || e2e_fail "alice resolved carol A to '$got', not $carol4"
node_ping alice "$carol4"
node_ping alice "$(node_vip carol 6)"
grep -q 'carries no End Key' "$E2E_RUN_DIR/logs/cyphonicd-alice.log" ||
    e2e_fail "alice's log does not say that carol's Tunnel Response carried no End Key"
refused=$(node_field alice '.drops.unexpected_tunnel_response // 0')
[ "$refused" = 0 ] || e2e_fail "alice refused $refused Tunnel Responses"
e2e_log "alice -> carol: up with one End Key for both directions"

node_stop alice
node_stop bob
node_stop carol
