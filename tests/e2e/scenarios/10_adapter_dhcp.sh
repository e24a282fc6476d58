#!/usr/bin/env bash
# 10_adapter_dhcp: cyphonic-adapterd logs in and registers, fetches its general nodes from the
# AS and serves them on its LAN (PROTOCOL.md §7.9, §7.10 step 2): each general node's real ISC
# dhclient gets, by its MAC, the virtual IPv4 the AS holds for it, with the gateway (the
# adapter's own virtual IPv4) as router and DNS server; a Router Advertisement gives it the
# IPv6 default route and `dhclient -6` its virtual IPv6 (/128). Each general node then becomes
# "active" (registered with NMS). A renewal (INIT-REBOOT) returns the same address. The
# stranger, whose MAC no one enrolled, gets no lease in either family, and the adapter counts
# its requests as drops.
#
#   cloud 10.77.0.10 ─┐
#                     ├─ inet (br0)
#   adp1  wan0 10.77.0.40, lan0 ── lan (br-lan) ─┬─ gn1 02:00:00:00:01:01
#                                                ├─ gn2 02:00:00:00:01:02
#                                                ├─ gn3 02:00:00:00:01:03
#                                                └─ stranger 02:00:00:00:01:99 (not enrolled)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=../lib/e2e.sh
source "$here/../lib/e2e.sh"
# shellcheck source-path=SCRIPTDIR source=../lib/adapter.sh
source "$here/../lib/adapter.sh"

e2e_init
e2e_require_binary CYPHONIC_ADAPTERD cyphonic-adapterd
e2e_require_binary E2E_DHCLIENT "ISC dhclient (isc-dhcp-client)"
e2e_require_tools python3

topo_internet
cloud_up
adapter_topology 3
adapter_enrol
adapter_start

# The adapter knows its general nodes (fetched from the AS) before any of them speaks.
for gn in gn1 gn2 gn3; do
    mac=$(adapter_gn_field "$gn" .mac)
    [ "$mac" = "$(gn_mac "$gn")" ] ||
        e2e_fail "the adapter's status lists $gn with MAC '${mac:-none}', not $(gn_mac "$gn"): $(adapter_field .general_nodes | jq -c .)"
    [ "$(adapter_gn_field "$gn" .fqdn)" = "$gn.$E2E_DOMAIN" ] ||
        e2e_fail "the adapter's status lists $gn with FQDN '$(adapter_gn_field "$gn" .fqdn)'"
done
listed=$(adapter_field '[.general_nodes[]?.device_id] | sort | join(" ")')
[ "$listed" = "gn1 gn2 gn3" ] || e2e_fail "the adapter lists general nodes '$listed', not 'gn1 gn2 gn3'"

for gn in gn1 gn2 gn3; do
    gn_dhcp4 "$gn"
    gn_dhcp6 "$gn"
done
for gn in gn1 gn2 gn3; do
    adapter_wait_gn "$gn" active 30
    for family in 4 6; do
        e2e_same_ip "$(adapter_gn_field "$gn" ".virtual_ipv$family")" "$(gn_vip "$gn" "$family")" ||
            e2e_fail "the adapter's status gives $gn virtual_ipv$family '$(adapter_gn_field "$gn" ".virtual_ipv$family")', the AS $(gn_vip "$gn" "$family")"
    done
done
e2e_log "gn1..gn3 active: $(adapter_field '[.general_nodes[] | {device_id, state, virtual_ipv4, virtual_ipv6}]' | jq -c .)"

# A renewal after a restart of the client (INIT-REBOOT: DHCPREQUEST for the address it had).
first=$(gn_lease gn1 4 address)
gn_dhcp4 gn1
[ "$(gn_lease gn1 4 address)" = "$first" ] || e2e_fail "gn1's renewal gave $(gn_lease gn1 4 address), first $first"

drops_before=$(adapter_drops)
if gn_dhclient "$E2E_STRANGER" 4 10; then
    e2e_fail "the stranger (MAC $E2E_STRANGER_MAC, not enrolled) got DHCPv4 lease $(gn_lease "$E2E_STRANGER" 4 address)"
fi
rm -f "$E2E_RUN_DIR/dhcp/$E2E_STRANGER.v6.leases"
if gn_dhclient "$E2E_STRANGER" 6 8; then
    e2e_fail "the stranger (MAC $E2E_STRANGER_MAC, not enrolled) got DHCPv6 lease $(gn_lease "$E2E_STRANGER" 6 address)"
fi
addresses=$(in_ns "$E2E_STRANGER" ip -o addr show dev eth0 scope global)
[ -z "$addresses" ] || e2e_fail "the stranger has addresses: $addresses"
drops_after=$(adapter_drops)
[ "$drops_after" -gt "$drops_before" ] ||
    e2e_fail "the stranger's DHCP requests were not counted as drops ($drops_before before, $drops_after after): $(adapter_drop_map)"
[ -z "$(adapter_gn_field "$E2E_STRANGER" .state)" ] || e2e_fail "the adapter lists the stranger"
e2e_log "stranger: no lease in 10 s (v4) and 8 s (v6); drops $drops_before -> $drops_after $(adapter_drop_map)"

adapter_stop
