#!/usr/bin/env bash
# 11_adapter_overlay: general nodes reach a cyphonicd node over the overlay through the adapter
# and back (PROTOCOL.md §7.10 steps 5-8). gn1 asks the gateway (the adapter's virtual IPv4) for
# alice's FQDN: A gives alice's virtual IPv4, AAAA her virtual IPv6; ping, ping -6 and a 5 s
# iperf3 TCP transfer gn1 -> alice complete. The other way round, alice resolves gn2's FQDN at
# her own resolver (NMS directs the route to the adapter, which confirms for gn2), pings gn2 on
# both families and runs iperf3 alice -> gn2. alice is behind a port-restricted NAPT router;
# the adapter is on the internet.
#
#   cloud 10.77.0.10 fd77::10 ─┐
#                              ├─ inet (br0) ── ra wan 10.77.0.2 (pr) ── alice 192.168.1.2
#   adp1  wan0 10.77.0.40 fd77::40
#         lan0 ── lan (br-lan) ─┬─ gn1 02:00:00:00:01:01
#                               ├─ gn2 02:00:00:00:01:02
#                               └─ gn3, stranger (idle)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=../lib/e2e.sh
source "$here/../lib/e2e.sh"
# shellcheck source-path=SCRIPTDIR source=../lib/adapter.sh
source "$here/../lib/adapter.sh"

e2e_init
e2e_require_binary CYPHONICD cyphonicd
e2e_require_binary CYPHONIC_ADAPTERD cyphonic-adapterd
e2e_require_binary E2E_DHCLIENT "ISC dhclient (isc-dhcp-client)"
e2e_require_tools dig ping iperf3 python3

topo_internet
cloud_up
topo_router ra pr 2 1
topo_behind alice ra 2
adapter_topology 3
cloud_enrol alice
adapter_enrol
node_start alice
adapter_start
for gn in gn1 gn2; do
    gn_dhcp4 "$gn"
    gn_dhcp6 "$gn"
    adapter_wait_gn "$gn" active 30
done

# gn1 -> alice: the gateway answers for the overlay.
alice4=$(node_vip alice 4)
alice6=$(node_vip alice 6)
got=$(gn_resolve gn1 alice A)
e2e_same_ip "$got" "$alice4" || e2e_fail "gn1 resolved alice A to '$got', alice's status says $alice4"
got=$(gn_resolve gn1 alice AAAA)
e2e_same_ip "$got" "$alice6" || e2e_fail "gn1 resolved alice AAAA to '$got', alice's status says $alice6"
e2e_log "gn1 resolves alice.$E2E_DOMAIN at the gateway $(adapter_gateway 4): A $alice4, AAAA $alice6"
node_ping gn1 "$alice4"
node_ping gn1 "$alice6"
iperf_server alice
iperf_run gn1 "$alice4" 5
tx=$(adapter_peer_field gn1 alice tx_packets)
rx=$(node_peer_field alice gn1 rx_packets)
if [ "${tx:-0}" -le 100 ] || [ "${rx:-0}" -le 100 ]; then
    e2e_fail "peer counters too low: the adapter's gn1 -> alice tx_packets=${tx:-none}, alice's rx_packets from gn1=${rx:-none}"
fi
e2e_log "gn1 -> alice: relayed=$(adapter_peer_field gn1 alice relayed), tx_packets $tx, alice rx_packets $rx"

# alice -> gn2: NMS finds gn2 by its FQDN and directs the route to the adapter.
gn2_4=$(gn_vip gn2 4)
gn2_6=$(gn_vip gn2 6)
got=$(node_resolve alice gn2 A)
e2e_same_ip "$got" "$gn2_4" || e2e_fail "alice resolved gn2 A to '$got', the AS says $gn2_4"
got=$(node_resolve alice gn2 AAAA)
e2e_same_ip "$got" "$gn2_6" || e2e_fail "alice resolved gn2 AAAA to '$got', the AS says $gn2_6"
node_ping alice "$gn2_4"
node_ping alice "$gn2_6"
iperf_server gn2
iperf_run alice "$gn2_4" 5
e2e_log "alice -> gn2: the adapter's entry $(adapter_field '[.general_nodes[] | select(.device_id == "gn2") | .peers[]?] | .[0]' | jq -c .)"

node_stop alice
adapter_stop
