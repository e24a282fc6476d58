#!/usr/bin/env bash
# 14_adapter_bad_input: input nobody well-behaved sends, on both of the adapter's NICs. From gn3
# (an enrolled, active general node, so its frames pass the MAC admission): malformed DHCPv4,
# DHCPv6, ARP, IPv4/IPv6 headers and DNS queries to the gateway, then frames larger than an
# Ethernet frame (1515-9000 bytes; the LAN links get MTU 9000 just for them). From mallory on
# the internet: random garbage and replayed real datagrams to the adapter's data port. The
# adapter drops and counts them — each batch raises the sum of its drop counters by at least
# the number sent — keeps running, and keeps serving: gn1's ping to alice still works and a new
# DHCP exchange (INIT-REBOOT) still gives gn1 its address.
#
#   cloud   10.77.0.10 ─┐
#   alice   10.77.0.21 ─┤
#   mallory 10.77.0.30 ─┼─ inet (br0)    garbage and replays to 10.77.0.40:4800
#   adp1    wan0 10.77.0.40
#           lan0 ── lan (br-lan) ─┬─ gn1  ping alice, DHCP again
#                                 ├─ gn3  malformed frames (python3 AF_PACKET)
#                                 └─ gn2, stranger (idle)
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
e2e_require_tools dig ping tcpdump python3

topo_internet
cloud_up
topo_public alice 0 21 dual
topo_public mallory 0 30 dual
adapter_topology 3
cloud_enrol alice
adapter_enrol
node_start alice
adapter_start
for gn in gn1 gn3; do
    gn_dhcp4 "$gn"
    adapter_wait_gn "$gn" active 30
done
alice4=$(node_vip alice 4)
got=$(gn_resolve gn1 alice A)
e2e_same_ip "$got" "$alice4" || e2e_fail "gn1 resolved alice to '$got', not $alice4"
node_ping gn1 "$alice4"

gw4=$(adapter_gateway 4)
lan_mac=$(adapter_lan_mac)
lan_tool=$E2E_LIB_DIR/lan_tool.py
udp_tool=$E2E_LIB_DIR/udp_tool.py

# batch WHAT COMMAND...: runs COMMAND (which prints how many it sent) and requires the drop
# counters to rise by at least that much; the adapter must survive it.
batch() {
    local what=$1 before sent delta
    shift
    before=$(adapter_drops)
    sent=$("$@")
    sleep 0.5
    e2e_alive "$E2E_ADAPTER_PID" || e2e_fail "cyphonic-adapterd died from $what"
    delta=$(($(adapter_drops) - before))
    [ "$delta" -ge "$sent" ] ||
        e2e_fail "$what: sent $sent, the adapter's drops rose by $delta: $(adapter_drop_map)"
    e2e_log "$what: sent $sent, drops +$delta"
}

map_before=$(adapter_drop_map)
batch "malformed DHCPv4 from gn3" in_ns gn3 python3 "$lan_tool" bad-dhcp4 eth0 40
batch "malformed DHCPv6 from gn3" in_ns gn3 python3 "$lan_tool" bad-dhcp6 eth0 30
batch "malformed ARP from gn3" in_ns gn3 python3 "$lan_tool" bad-arp eth0 35
batch "malformed IPv4/IPv6 headers from gn3" in_ns gn3 python3 "$lan_tool" bad-ip eth0 "$lan_mac" 30
batch "malformed DNS from gn3 to $gw4:53" in_ns gn3 python3 "$lan_tool" bad-dns "$gw4" 35
adapter_lan_mtu 9000 gn3
batch "1515-byte frames from gn3" in_ns gn3 python3 "$lan_tool" oversized eth0 "$lan_mac" 10 1515
batch "9000-byte frames from gn3" in_ns gn3 python3 "$lan_tool" oversized eth0 "$lan_mac" 10 9000
adapter_lan_mtu 1500 gn3

# The WAN side: capture what alice sends to the adapter's data port while gn1 pings her, then
# mallory sends garbage and those datagrams again.
pcap=$E2E_RUN_DIR/alice-to-adapter.pcap
capture_log=$E2E_RUN_DIR/logs/tcpdump.log
e2e_spawn "$capture_log" "$(ns "$E2E_ADAPTER")" tcpdump -i wan0 -n -U -c 4 -w "$pcap" \
    "udp dst port $E2E_ADAPTER_DATA_PORT and (src host 10.77.0.21 or src host fd77::21)"
capture=$E2E_LAST_PID
e2e_wait_until 10 "tcpdump listening" grep -q 'listening on' "$capture_log"
node_ping gn1 "$alice4" 6
e2e_stop_pid "$capture" 5 || true
captured=$(tcpdump -n -r "$pcap" 2>/dev/null | wc -l)
[ "$captured" -ge 1 ] || e2e_fail "tcpdump captured nothing from alice to the adapter's port $E2E_ADAPTER_DATA_PORT"
dest=$(tcpdump -n -r "$pcap" 2>/dev/null | head -n 1 | awk '{print $5}')
dest=${dest%:}
target="$E2E_ADAPTER_V4:$E2E_ADAPTER_DATA_PORT"
[[ $dest == fd77* ]] && target="[$E2E_ADAPTER_V6]:$E2E_ADAPTER_DATA_PORT"
batch "garbage from mallory to $target" in_ns mallory python3 "$udp_tool" garbage "$target" 200
batch "replays from mallory to $target" in_ns mallory python3 "$udp_tool" replay "$pcap" "$target" --times 3
e2e_log "the adapter's drops before: $map_before"
e2e_log "the adapter's drops after:  $(adapter_drop_map)"

# Still serving.
node_ping gn1 "$alice4"
first=$(gn_lease gn1 4 address)
gn_dhcp4 gn1
[ "$(gn_lease gn1 4 address)" = "$first" ] || e2e_fail "gn1's new DHCP exchange gave $(gn_lease gn1 4 address), first $first"
node_ping gn1 "$alice4"

adapter_stop
node_stop alice
