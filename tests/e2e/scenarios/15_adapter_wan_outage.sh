#!/usr/bin/env bash
# 15_adapter_wan_outage: a general node's overlay traffic comes back by itself after an outage
# between the adapter and a peer. The adapter is on the internet; alice is behind a
# port-restricted NAPT router; gn1 pings alice over a direct path. alice's router then drops
# all UDP to and from the adapter for E2E_OUTAGE_S (default 90) seconds while NMS and TRS stay
# reachable from both: the path must fall back to TRS during the block, and within 30 s of the
# block being lifted the pings must flow (direct or relayed); the adapter and alice must still
# be healthy. Then the same with a full
# outage of alice's uplink for 45 s (E2E_FULL_OUTAGE_S).
#
#   cloud 10.77.0.10 fd77::10 ─┐
#                              ├─ inet (br0) ── ra wan 10.77.0.2 (pr) ── alice 192.168.1.2
#   adp1  wan0 10.77.0.40 fd77::40
#         lan0 ── lan (br-lan) ── gn1 02:00:00:00:01:01
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=../lib/e2e.sh
source "$here/../lib/e2e.sh"
# shellcheck source-path=SCRIPTDIR source=../lib/adapter.sh
source "$here/../lib/adapter.sh"

outage_s=${E2E_OUTAGE_S:-90}
full_outage_s=${E2E_FULL_OUTAGE_S:-45}
recovery_limit_s=30

e2e_init
e2e_require_binary CYPHONICD cyphonicd
e2e_require_binary CYPHONIC_ADAPTERD cyphonic-adapterd
e2e_require_binary E2E_DHCLIENT "ISC dhclient (isc-dhcp-client)"
e2e_require_tools ping python3

topo_internet
cloud_up
topo_router ra pr 2 1
topo_behind alice ra 2
adapter_topology 1
cloud_enrol alice
adapter_enrol
node_start alice
adapter_start
gn_dhcp4 gn1
adapter_wait_gn gn1 active 30

alice4=$(node_vip alice 4)
got=$(gn_resolve gn1 alice A)
e2e_same_ip "$got" "$alice4" || e2e_fail "gn1 resolved alice A to '$got', alice's status says $alice4"
node_ping gn1 "$alice4"
pings=$E2E_RUN_DIR/logs/ping-gn1-alice.log
pinger_start gn1 "$alice4" "$pings"
sleep 3
[ "$(pinger_replies_between "$pings" 0 "$(date +%s.%N)")" -gt 5 ] ||
    e2e_fail "the pings did not flow before the outage"
e2e_log "gn1 -> alice before the outage: relayed=$(adapter_peer_field gn1 alice relayed)"

# 1. Partial: UDP between the adapter and alice's router is dropped; the cloud stays reachable.
# The dead direct path is noticed after three unanswered path keepalives (at most 60 s); the
# route selection that follows must end relayed through TRS, so the pings flow again before
# the block is lifted.
topo_outage ra "$E2E_ADAPTER_V4" >/dev/null
sleep "$outage_s"
blocked_until=$(date +%s.%N)
relayed_replies=$(pinger_replies_between "$pings" "$(awk -v b="$blocked_until" 'BEGIN { printf "%.3f", b - 10 }')" "$blocked_until")
[ "$relayed_replies" -gt 0 ] ||
    e2e_fail "no ping reply in the last 10 s of the ${outage_s}s block: the overlay did not fall back to TRS"
e2e_log "gn1 -> alice: $relayed_replies replies in the last 10 s of the block (relayed=$(adapter_peer_field gn1 alice relayed))"
e2e_log "end of the block: the adapter's gn1 -> alice $(adapter_peer_field gn1 alice state)/relayed=$(adapter_peer_field gn1 alice relayed), alice's -> gn1 $(node_peer_field alice gn1 state)"
back=$(date +%s.%N)
topo_outage_end ra >/dev/null
took=$(outage_expect_recovery "$pings" "$back" "$recovery_limit_s" "gn1 -> alice after the partial outage")
e2e_log "gn1 -> alice: pings flow again ${took}s after the block was lifted; relayed=$(adapter_peer_field gn1 alice relayed)"
# The direct path is possible again: the relayed path must go back to it (timers.reoptimise_s,
# 60 s, plus a path keepalive round and the 5 punches).
direct_again() { [ "$(adapter_peer_field gn1 alice relayed)" = false ] && [ "$(node_peer_field alice gn1 path)" = direct ]; }
e2e_wait_until 90 "gn1 <-> alice direct again after the partial outage" direct_again
e2e_log "gn1 <-> alice: direct again $(($(date +%s) - ${back%.*}))s after the block was lifted"

# 2. Full: alice's uplink carries nothing.
sleep 3
topo_outage ra >/dev/null
sleep "$full_outage_s"
back=$(date +%s.%N)
topo_outage_end ra >/dev/null
took=$(outage_expect_recovery "$pings" "$back" "$recovery_limit_s" "gn1 -> alice after the full outage")
e2e_log "gn1 -> alice: pings flow again ${took}s after the uplink came back; relayed=$(adapter_peer_field gn1 alice relayed)"

node_ping gn1 "$alice4"
node_ping alice "$(gn_vip gn1 4)"
# NMS stayed reachable throughout: every route selection the adapter made got its answer (an
# answer under a PathID whose old path is still known must not be taken for a path message).
unanswered=$(awk '/route selection failed .*no answer from NMS/ { n++ } END { print n + 0 }' \
    "$E2E_RUN_DIR/logs/adapterd.log")
[ "$unanswered" -eq 0 ] || e2e_fail "$unanswered of the adapter's route selections got no answer from NMS"
adapter_stop
node_stop alice
