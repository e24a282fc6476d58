# shellcheck shell=bash
# The underlay of the e2e scenarios, built from network namespaces, veth pairs, bridges and
# nftables (sourced after common.sh). Every namespace is cye<tag>-<name>; `ns NAME` gives the
# full name, `in_ns NAME CMD...` runs a command inside.
#
#                          cye<tag>-inet  ("internet", also the router between its subnets)
#                          br0: 10.77.0.1/24  fd77::1/64
#                               10.77.N.1/24  fd77:0:0:N::1/64  (subnet N, added on demand)
#        ┌──────────────────────┬─────┴──────────────────────┐
#   public host              NAT router                    NAT router ...
#   eth0 10.77.N.H           wan0 10.77.0.R                (IPv4 only, nft masquerade,
#        fd77:0:0:N::H       lan0 bridge 192.168.L.1/24     unsolicited WAN input dropped)
#                                 │
#                            node eth0 192.168.L.H
#
# Interface names: a host's uplink is eth0 and its other end n-<name> (on br0 or on a router's
# lan0); a router's outside end is wan0 with r-<name> on br0. Names are at most 12 characters
# so n-/r-<name> fits IFNAMSIZ. Each veth end is created directly in its namespace, so nothing
# ever appears in the host's namespace. Static IPv6 addresses use nodad and DAD is off in every
# namespace, so addresses (and the daemon's TUN addresses) work at once.

E2E_INET=inet
declare -A E2E_UPLINK=()     # host name -> the name of the namespace holding n-<host>
declare -A E2E_ROUTER_LAN=() # router name -> L of its 192.168.L.0/24
declare -A E2E_INET_SUBNETS=()

ns() {
    printf '%s%s\n' "$E2E_PREFIX" "$1"
}

in_ns() {
    local name=$1
    shift
    ip netns exec "$E2E_PREFIX$name" "$@"
}

topo_check_name() {
    if ! [[ $1 =~ ^[a-z][a-z0-9]{0,11}$ ]]; then
        e2e_fail "topology: bad name '$1' (1-12 of a-z, 0-9, starting with a letter)"
    fi
}

# topo_add_ns NAME: an empty namespace with lo up and IPv6 DAD off.
topo_add_ns() {
    local name=$1 netns
    topo_check_name "$name"
    netns=$(ns "$name")
    ip netns add "$netns" || e2e_fail "topology: ip netns add $netns failed"
    e2e_track_namespace "$netns"
    in_ns "$name" ip link set lo up
    in_ns "$name" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
}

# The internet namespace with its bridge. Call once, after e2e_init.
topo_internet() {
    topo_add_ns "$E2E_INET"
    in_ns "$E2E_INET" ip link add br0 type bridge
    in_ns "$E2E_INET" ip link set br0 up
    in_ns "$E2E_INET" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
    topo_inet_subnet 0
}

# topo_inet_subnet N: 10.77.N.0/24 and fd77:0:0:N::/64 on the internet bridge (N = 0-255),
# with the internet namespace as their router at .1 / ::1.
topo_inet_subnet() {
    local n=$1
    [ -n "${E2E_INET_SUBNETS[$n]:-}" ] && return 0
    in_ns "$E2E_INET" ip addr add "10.77.$n.1/24" dev br0
    in_ns "$E2E_INET" ip addr add "$(topo_v6 "$n" 1)/64" dev br0 nodad
    E2E_INET_SUBNETS[$n]=1
}

# topo_v6 N H: the IPv6 address of host H in public subnet N (fd77::H for N = 0).
topo_v6() {
    if [ "$1" -eq 0 ]; then
        printf 'fd77::%s\n' "$2"
    else
        printf 'fd77:0:0:%s::%s\n' "$1" "$2"
    fi
}

# topo_link NAME PEER_NS PEER_IF BRIDGE: eth0 in NAME, PEER_IF in PEER_NS enslaved to BRIDGE.
topo_link() {
    local name=$1 peer_ns=$2 peer_if=$3 bridge=$4
    ip link add eth0 netns "$(ns "$name")" type veth peer name "$peer_if" netns "$(ns "$peer_ns")" ||
        e2e_fail "topology: veth $name/eth0 <-> $peer_ns/$peer_if failed"
    in_ns "$peer_ns" ip link set "$peer_if" master "$bridge" up
    in_ns "$name" ip link set eth0 up
    E2E_UPLINK[$name]=$peer_ns
}

# topo_number_public NAME N H FAMILIES: eth0 of NAME gets host H of public subnet N and default
# routes through the internet namespace. FAMILIES: dual (default), v4 or v6; the other family
# is disabled on eth0, so the host really has only one.
topo_number_public() {
    local name=$1 n=$2 h=$3 families=${4:-dual}
    topo_inet_subnet "$n"
    case "$families" in
    dual | v4 | v6) ;;
    *) e2e_fail "topology: families must be dual, v4 or v6, not '$families'" ;;
    esac
    if [ "$families" = v4 ]; then
        in_ns "$name" sysctl -qw net.ipv6.conf.eth0.disable_ipv6=1
    else
        in_ns "$name" sysctl -qw net.ipv6.conf.eth0.disable_ipv6=0
        in_ns "$name" ip -6 addr add "$(topo_v6 "$n" "$h")/64" dev eth0 nodad
        in_ns "$name" ip -6 route replace default via "$(topo_v6 "$n" 1)" dev eth0
    fi
    if [ "$families" != v6 ]; then
        in_ns "$name" ip -4 addr add "10.77.$n.$h/24" dev eth0
        in_ns "$name" ip -4 route replace default via "10.77.$n.1" dev eth0
    fi
}

# topo_public NAME N H [dual|v4|v6]: a host on the internet, in subnet N as host H
# (10.77.N.H, fd77:0:0:N::H).
topo_public() {
    local name=$1 n=$2 h=$3 families=${4:-dual}
    topo_add_ns "$name"
    topo_link "$name" "$E2E_INET" "n-$name" br0
    topo_number_public "$name" "$n" "$h" "$families"
}

# topo_router NAME TYPE R L: a NAT router with wan0 = 10.77.0.R on the internet and lan0 =
# 192.168.L.1/24. TYPE: pr (masquerade: port-restricted cone) or sym (masquerade fully-random:
# symmetric). IPv4 only: the router has no IPv6 address and forwards no IPv6.
topo_router() {
    local name=$1 type=$2 r=$3 lan=$4 flags
    case "$type" in
    pr) flags="" ;;
    sym) flags=" fully-random" ;;
    *) e2e_fail "topology: NAT type must be pr or sym, not '$type'" ;;
    esac
    topo_add_ns "$name"
    ip link add wan0 netns "$(ns "$name")" type veth peer name "r-$name" netns "$(ns "$E2E_INET")" ||
        e2e_fail "topology: veth for router $name failed"
    in_ns "$E2E_INET" ip link set "r-$name" master br0 up
    in_ns "$name" sysctl -qw net.ipv6.conf.wan0.disable_ipv6=1
    in_ns "$name" ip link set wan0 up
    in_ns "$name" ip addr add "10.77.0.$r/24" dev wan0
    in_ns "$name" ip route add default via 10.77.0.1 dev wan0
    in_ns "$name" ip link add lan0 type bridge
    in_ns "$name" sysctl -qw net.ipv6.conf.lan0.disable_ipv6=1
    in_ns "$name" ip link set lan0 up
    in_ns "$name" ip addr add "192.168.$lan.1/24" dev lan0
    in_ns "$name" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=0
    # The input drop makes it behave like a home router. Without it, a peer's first punch
    # creates an inbound conntrack entry on the router's own address, the local node's punch
    # then collides with it and masquerade picks a new port: every NAT turns symmetric
    # (shared/lab NOTES §6).
    in_ns "$name" nft -f - <<EOF || e2e_fail "topology: nftables ruleset for $name rejected"
flush ruleset
table ip cyphonic_e2e {
    chain postrouting {
        type nat hook postrouting priority srcnat; policy accept;
        oifname "wan0" masquerade$flags
    }
    chain input {
        type filter hook input priority filter; policy accept;
        iifname "wan0" ct state new drop
    }
}
EOF
    E2E_ROUTER_LAN[$name]=$lan
}

# topo_behind NAME ROUTER H: a host on the router's LAN as 192.168.L.H (IPv4 only).
topo_behind() {
    local name=$1 router=$2 h=$3
    local lan=${E2E_ROUTER_LAN[$router]:-}
    [ -n "$lan" ] || e2e_fail "topology: $router is not a router"
    topo_add_ns "$name"
    topo_link "$name" "$router" "n-$name" lan0
    topo_number_behind "$name" "$router" "$h"
}

topo_number_behind() {
    local name=$1 router=$2 h=$3
    local lan=${E2E_ROUTER_LAN[$router]}
    in_ns "$name" sysctl -qw net.ipv6.conf.eth0.disable_ipv6=1
    in_ns "$name" ip -4 addr add "192.168.$lan.$h/24" dev eth0
    in_ns "$name" ip -4 route replace default via "192.168.$lan.1" dev eth0
}

# topo_move NAME inet N H [dual|v4|v6] | topo_move NAME ROUTER H
# Moves a host to another network, as a device switching from one access network to another:
# its uplink is re-plugged (to the internet bridge or to ROUTER's LAN; eth0 loses carrier for a
# moment when that changes namespace), its old addresses go, the new ones and a new default
# route come. The namespace and everything running in it stay.
topo_move() {
    local name=$1 target=$2
    local from=${E2E_UPLINK[$name]:-}
    [ -n "$from" ] || e2e_fail "topology: $name is not a host"
    local bridge=br0
    [ "$target" = "$E2E_INET" ] || bridge=lan0
    if [ "$target" = "$E2E_INET" ] || [ -n "${E2E_ROUTER_LAN[$target]:-}" ]; then
        :
    else
        e2e_fail "topology: cannot move $name to '$target' (neither $E2E_INET nor a router)"
    fi
    in_ns "$name" ip -4 addr flush dev eth0 scope global
    in_ns "$name" ip -6 addr flush dev eth0 scope global
    if [ "$from" != "$target" ]; then
        in_ns "$from" ip link set "n-$name" netns "$(ns "$target")"
        in_ns "$target" ip link set "n-$name" master "$bridge" up
        E2E_UPLINK[$name]=$target
    fi
    if [ "$target" = "$E2E_INET" ]; then
        topo_number_public "$name" "$3" "$4" "${5:-dual}"
    else
        topo_number_behind "$name" "$target" "$3"
    fi
    e2e_log "moved $name to $target: $(topo_addresses "$name")"
}

# topo_block A B: the internet stops carrying IPv4 UDP between addresses A and B (both ways),
# as a path that is not there yet; TCP, ICMP and everything else still pass. The hosts are on
# one bridge, so the rule sits in the bridge family (bridged frames never reach the ip hooks).
topo_block() {
    in_ns "$E2E_INET" nft -f - <<EOF || e2e_fail "topology: blocking UDP $1 <-> $2 failed"
table bridge cyphonic_e2e_block {
    chain forward {
        type filter hook forward priority filter; policy accept;
        ip saddr $1 ip daddr $2 meta l4proto udp counter drop
        ip saddr $2 ip daddr $1 meta l4proto udp counter drop
    }
}
EOF
    e2e_log "internet: UDP between $1 and $2 blocked"
}

# topo_unblock: lifts every topo_block; prints how many datagrams the block dropped.
topo_unblock() {
    local dropped
    dropped=$(in_ns "$E2E_INET" nft list table bridge cyphonic_e2e_block 2>/dev/null |
        awk '/counter packets/ { for (i = 1; i < NF; i++) if ($i == "packets") n += $(i + 1) }
             END { print n + 0 }')
    in_ns "$E2E_INET" nft delete table bridge cyphonic_e2e_block 2>/dev/null || true
    e2e_log "internet: UDP block lifted ($dropped datagrams dropped while it stood)"
    printf '%s\n' "$dropped"
}

# topo_outage ROUTER [ADDRESS]: the router's uplink stops carrying anything (a WAN outage as
# the ISP would cause it): what comes in on wan0 is dropped before conntrack sees it, what
# would leave on wan0 is dropped after (so the router's NAT mappings age as they would). With
# ADDRESS, only UDP to and from that internet address is dropped (a partial outage: the cloud
# stays reachable).
topo_outage() {
    local name=$1 address=${2:-} match=""
    [ -n "$address" ] && match="meta l4proto udp"
    in_ns "$name" nft -f - <<EOF || e2e_fail "topology: outage ruleset for $name rejected"
table ip cyphonic_e2e_outage {
    chain prerouting {
        type filter hook prerouting priority raw; policy accept;
        iifname "wan0" ${address:+ip saddr $address} $match counter drop
    }
    chain forward {
        type filter hook forward priority filter; policy accept;
        oifname "wan0" ${address:+ip daddr $address} $match counter drop
    }
    chain output {
        type filter hook output priority filter; policy accept;
        oifname "wan0" ${address:+ip daddr $address} $match counter drop
    }
}
EOF
    e2e_log "router $name: WAN outage begins${address:+ (UDP to and from $address only)}"
}

# topo_outage_end ROUTER [restart]: lifts topo_outage; prints how many packets it dropped.
# With `restart` the router also forgets every connection and NAT mapping first, as a home
# router that was power-cycled does.
topo_outage_end() {
    local name=$1 restart=${2:-} dropped
    dropped=$(in_ns "$name" nft list table ip cyphonic_e2e_outage 2>/dev/null |
        awk '/counter packets/ { for (i = 1; i < NF; i++) if ($i == "packets") n += $(i + 1) }
             END { print n + 0 }')
    if [ "$restart" = restart ]; then
        in_ns "$name" conntrack -F >/dev/null 2>&1 ||
            e2e_fail "topology: conntrack -F failed in $name"
    fi
    in_ns "$name" nft delete table ip cyphonic_e2e_outage ||
        e2e_fail "topology: cannot end the outage at $name"
    e2e_log "router $name: WAN outage over ($dropped packets dropped${restart:+, NAT mappings forgotten})"
    printf '%s\n' "$dropped"
}

# The global addresses of a host's eth0, space-separated.
topo_addresses() {
    in_ns "$1" ip -o addr show dev eth0 scope global | awk '{print $4}' | tr '\n' ' '
}
