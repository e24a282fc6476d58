#!/usr/bin/env bash
# 05_mobility: during a 20 s iperf3 transfer from alice to bob, alice moves to another subnet
# (new underlay addresses, new default route; her uplink is re-plugged). She registers again
# and re-establishes the tunnel (PROTOCOL.md §7.8); the transfer completes without error,
# both statuses list the peer again, and bob sends to alice's new address.
#
#   cloud 10.77.0.10 fd77::10      ─┐
#   alice 10.77.0.21 fd77::21       ─┼─ inet (br0; also routes 10.77.1.0/24, fd77:0:0:1::/64)
#     after 5 s: 10.77.1.21 fd77:0:0:1::21
#   bob   10.77.0.22 fd77::22       ─┘
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
cloud_enrol alice
cloud_enrol bob
node_start alice
node_start bob

bob4=$(node_vip bob 4)
got=$(node_resolve alice bob A)
e2e_same_ip "$got" "$bob4" || e2e_fail "alice resolved bob to '$got', not $bob4"
node_ping alice "$bob4"
node_wait_path bob alice direct 10
before=$(node_peer_field bob alice endpoint)
e2e_log "bob sends to alice at $before"

iperf_server bob
iperf_client_start alice "$bob4" 20
iperf=$E2E_LAST_PID
sleep 5
topo_move alice inet 1 21 dual
iperf_client_check alice "$iperf"
# The move costs a registration and a route selection: well under a second here. TCP backs
# off while nothing gets through, so allow a few seconds; a 10 s gap means the tunnel hung.
stall=$(iperf_longest_stall alice)
e2e_log "longest stall of the transfer: ${stall} s"
[ "$stall" -le 10 ] || e2e_fail "the transfer moved nothing for $stall s around the move"

node_wait_path alice bob direct 10
node_wait_path bob alice direct 10
after=$(node_peer_field bob alice endpoint)
[[ $after == *10.77.1.21* || $after == *fd77:0:0:1::21* ]] ||
    e2e_fail "bob still sends to alice at '$after' (before the move: $before)"
e2e_log "bob now sends to alice at $after"
node_ping alice "$bob4"
node_ping bob "$(node_vip alice 4)"
