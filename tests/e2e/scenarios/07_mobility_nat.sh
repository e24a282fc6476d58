#!/usr/bin/env bash
# 07_mobility_nat: the harder move. During a 20 s iperf3 transfer from alice to bob, alice
# leaves the public network (dual-stack, direct path over IPv6) for the LAN behind a
# port-restricted NAT router (IPv4 only). She registers again (NAT flag now set) and
# re-establishes the tunnel over IPv4 (PROTOCOL.md §7.8); the transfer completes, and bob
# sends to alice's new public endpoint, the router's WAN address.
#
#   cloud 10.77.0.10 fd77::10 ─┐
#   alice 10.77.0.21 fd77::21  ─┼─ inet ── ra wan 10.77.0.2 (pr) ── lan 192.168.1.0/24
#     after 5 s: 192.168.1.21 behind ra                 ▲ alice moves here
#   bob   10.77.0.22 fd77::22 ─┘
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=../lib/e2e.sh
source "$here/../lib/e2e.sh"

e2e_init
e2e_require_binary CYPHONICD cyphonicd
e2e_require_tools dig ping iperf3

topo_internet
cloud_up
topo_router ra pr 2 1
topo_public alice 0 21 dual
topo_public bob 0 22 dual
cloud_enrol alice
cloud_enrol bob
node_start alice
node_start bob

bob4=$(node_vip bob 4)
got=$(node_resolve alice bob A)
e2e_same_ip "$got" "$bob4" || e2e_fail "alice resolved bob to '$got', not $bob4"
node_ping alice "$bob4"
node_wait_path bob alice direct 10
e2e_log "bob sends to alice at $(node_peer_field bob alice endpoint)"

iperf_server bob
iperf_client_start alice "$bob4" 20
iperf=$E2E_LAST_PID
sleep 5
topo_move alice ra 21
iperf_client_check alice "$iperf"
stall=$(iperf_longest_stall alice)
e2e_log "longest stall of the transfer: ${stall} s"
[ "$stall" -le 10 ] || e2e_fail "the transfer moved nothing for $stall s around the move"

[ "$(node_field alice .nat)" = true ] || e2e_fail "alice is behind NAT now, her status says nat=$(node_field alice .nat)"
node_wait_path alice bob direct 10
node_wait_path bob alice direct 10
after=$(node_peer_field bob alice endpoint)
[[ $after == 10.77.0.2:* ]] ||
    e2e_fail "bob sends to alice at '$after', not at her router's WAN address 10.77.0.2"
e2e_log "bob now sends to alice at $after"
node_ping alice "$bob4"
node_ping bob "$(node_vip alice 4)"
