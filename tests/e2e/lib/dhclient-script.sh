#!/bin/sh
# The `dhclient -sf` script of the adapter scenarios' general nodes (tests/e2e/lib/adapter.sh).
# Debian's /sbin/dhclient-script would rewrite /etc/resolv.conf, which every namespace shares
# with the host; this one only touches the interface dhclient runs on, inside its namespace:
#   BOUND/RENEW/REBIND/REBOOT     the IPv4 address with its prefix, the interface MTU when
#                                 offered, a default route via the first router (onlink: the
#                                 router need not be inside the offered prefix)
#   BOUND6/RENEW6/REBIND6/REBOOT6 the IPv6 address with its prefix length (a /128 from
#                                 DHCPv6; the default route comes from the Router Advertisement)
#   PREINIT, PREINIT6             the interface up
# Nothing else is applied (DNS servers are only reported; STOP, RELEASE and EXPIRE leave the
# address alone, so the scenario can stop dhclient once it is bound). Every call appends one
# line of key=value pairs to $E2E_DHCP_EVENTS (given with `dhclient -e`), the scenario's record
# of what the adapter handed out.
# shellcheck disable=SC2154 # reason, interface, new_*, old_*: dhclient's environment
set -u

event() {
    if [ -n "${E2E_DHCP_EVENTS:-}" ]; then
        printf 'reason=%s %s\n' "$reason" "$*" >>"$E2E_DHCP_EVENTS"
    fi
}

# 255.255.240.0 -> 20 (32 when no mask is given).
mask_length() {
    [ -n "$1" ] || {
        echo 32
        return
    }
    len=0
    old_ifs=$IFS
    IFS=.
    # shellcheck disable=SC2086 # split the dotted quad on purpose
    set -- $1
    IFS=$old_ifs
    for octet in "$@"; do
        case "$octet" in
        255) len=$((len + 8)) ;;
        254) len=$((len + 7)) ;;
        252) len=$((len + 6)) ;;
        248) len=$((len + 5)) ;;
        240) len=$((len + 4)) ;;
        224) len=$((len + 3)) ;;
        192) len=$((len + 2)) ;;
        128) len=$((len + 1)) ;;
        esac
    done
    echo "$len"
}

# Words of a space-separated list joined with commas (the event line stays key=value).
commas() {
    printf '%s' "$*" | tr ' ' ','
}

case "${reason:-}" in
PREINIT | PREINIT6)
    ip link set dev "$interface" up
    event "interface=$interface"
    ;;
BOUND | RENEW | REBIND | REBOOT)
    len=$(mask_length "${new_subnet_mask:-}")
    if [ -n "${old_ip_address:-}" ] && [ "${old_ip_address}" != "$new_ip_address" ]; then
        ip -4 addr del "$old_ip_address/$(mask_length "${old_subnet_mask:-}")" dev "$interface" \
            2>/dev/null
    fi
    ip -4 addr replace "$new_ip_address/$len" dev "$interface" || exit 1
    if [ -n "${new_interface_mtu:-}" ]; then
        ip link set dev "$interface" mtu "$new_interface_mtu"
    fi
    router=""
    if [ -n "${new_routers:-}" ]; then
        # shellcheck disable=SC2086 # the first word of the list
        set -- $new_routers
        router=$1
        ip -4 route replace default via "$router" dev "$interface" onlink || exit 1
    fi
    event "address=$new_ip_address prefixlen=$len router=$router" \
        "dns=$(commas "${new_domain_name_servers:-}") server=${new_dhcp_server_identifier:-}" \
        "lease=${new_dhcp_lease_time:-} mtu=${new_interface_mtu:-}"
    ;;
BOUND6 | RENEW6 | REBIND6 | REBOOT6)
    ip -6 addr replace "$new_ip6_address/$new_ip6_prefixlen" dev "$interface" nodad || exit 1
    event "address=$new_ip6_address prefixlen=$new_ip6_prefixlen" \
        "dns=$(commas "${new_dhcp6_name_servers:-}")" \
        "lease=${new_max_life:-} preferred=${new_preferred_life:-}"
    ;;
*)
    event "interface=${interface:-}"
    ;;
esac
exit 0
