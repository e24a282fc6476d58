# shellcheck shell=bash
# cyphonic-adapterd in the e2e harness (sourced by the adapter scenarios after e2e.sh): the
# adapter's namespace with its two NICs, the internal LAN with the general nodes, their DHCP
# clients, the adapter's configuration, start, stop and `status --json`, and overlay checks
# made from a general node (resolve at the gateway, then wait for the adapter's tunnel).
#
#   cloud 10.77.0.10 fd77::10 ──┐
#                               ├── inet (br0)
#   adp1  wan0 10.77.0.40 fd77::40
#         lan0   no address from the harness: the daemon puts its gateway addresses (its own
#          │     virtual IPv4/IPv6) on it; forwarding stays off in adp1
#   lan   br-lan (a switch: no address, no IPv6, no multicast snooping)
#          ├── a-adp1     ── adp1 lan0
#          ├── n-gn1      ── gn1 eth0      02:00:00:00:01:01
#          ├── n-gn2      ── gn2 eth0      02:00:00:00:01:02     general nodes, enrolled with
#          ├── ...                                               `--kind general --adapter adp1`
#          └── n-stranger ── stranger eth0 02:00:00:00:01:99     never enrolled
#
# The general nodes have no address until DHCP gives them one; their eth0 takes Router
# Advertisements (accept_ra 2, no SLAAC) and DAD is off. Per general node NAME, under
# $E2E_RUN_DIR/dhcp/: NAME.events (one line per dhclient-script call, key=value), NAME.v4.leases
# / NAME.v6.leases, NAME.conf; logs/dhclient-NAME-4.log (-6.log). The adapter's files are in
# $E2E_RUN_DIR/adapter/: adp1.yaml, adp1.sock, state/ (the general-node cache the adapter keeps
# across restarts); its log is logs/adapterd.log.
#
# Binary: $CYPHONIC_ADAPTERD (ctest sets it), else $CYPHONIC_BUILD_DIR/adapter-daemon/
# cyphonic-adapterd.

E2E_ADAPTER=adp1
E2E_LAN=lan
E2E_ADAPTER_V4=10.77.0.40
E2E_ADAPTER_V6=fd77::40
E2E_ADAPTER_DATA_PORT=4800
E2E_STRANGER=stranger
E2E_STRANGER_MAC=02:00:00:00:01:99
E2E_DHCLIENT=${E2E_DHCLIENT:-/sbin/dhclient}
E2E_ADAPTER_PID=""
E2E_ADAPTER_SET=() # key=value overrides for the next adapter_start (`run --set key=value`)
E2E_ADAPTER_STARTS=0
E2E_GN_COUNT=0

: "${CYPHONIC_ADAPTERD:=${CYPHONIC_BUILD_DIR:-$E2E_REPO_ROOT/build/ci}/adapter-daemon/cyphonic-adapterd}"
export CYPHONIC_ADAPTERD

# gn_mac NAME: the fixed MAC of general node gnN (02:00:00:00:01:0N) or of the stranger.
gn_mac() {
    case "$1" in
    "$E2E_STRANGER") printf '%s\n' "$E2E_STRANGER_MAC" ;;
    gn[1-9]) printf '02:00:00:00:01:%02x\n' "${1#gn}" ;;
    *) e2e_fail "gn_mac: '$1' is neither gn1..gn9 nor $E2E_STRANGER" ;;
    esac
}

adapter_dir() {
    printf '%s/adapter\n' "$E2E_RUN_DIR"
}

# adapter_lan_host NAME: a namespace on the adapter's LAN whose eth0 has NAME's fixed MAC.
adapter_lan_host() {
    local name=$1 mac
    mac=$(gn_mac "$name")
    topo_add_ns "$name"
    ip link add eth0 netns "$(ns "$name")" address "$mac" type veth \
        peer name "n-$name" netns "$(ns "$E2E_LAN")" ||
        e2e_fail "topology: veth $name/eth0 <-> $E2E_LAN/n-$name failed"
    in_ns "$E2E_LAN" ip link set "n-$name" master br-lan up
    # Router Advertisements give the default route (accept_ra 2 also takes them should
    # forwarding ever be on); the address comes from DHCPv6, not SLAAC.
    in_ns "$name" sysctl -qw net.ipv6.conf.eth0.disable_ipv6=0 net.ipv6.conf.eth0.accept_ra=2 \
        net.ipv6.conf.eth0.accept_ra_defrtr=1 net.ipv6.conf.eth0.autoconf=0 \
        net.ipv6.conf.eth0.accept_dad=0
    # A device's NIC puts frames of at most its MTU on the wire; a veth would hand 64 KiB TCP
    # segments (TSO/GSO) straight to the adapter. Checksum offload stays on: the adapter
    # completes such checksums itself (frames from VMs and containers look the same).
    in_ns "$name" ethtool -K eth0 tso off gso off >/dev/null 2>&1 ||
        e2e_fail "topology: ethtool -K eth0 tso off gso off failed in $name"
    in_ns "$name" ip link set eth0 up
    # shellcheck disable=SC2034,SC2004 # topology.sh's map (topo_addresses reads it)
    E2E_UPLINK[$name]=$E2E_LAN
}

# adapter_topology [COUNT]: after topo_internet, the adapter's namespace (wan0 on the internet
# as 10.77.0.40 / fd77::40, lan0 on the LAN switch), the LAN, general nodes gn1..gnCOUNT
# (default 3) and the stranger.
adapter_topology() {
    local count=${1:-3} i
    topo_add_ns "$E2E_ADAPTER"
    ip link add wan0 netns "$(ns "$E2E_ADAPTER")" type veth \
        peer name "n-$E2E_ADAPTER" netns "$(ns "$E2E_INET")" ||
        e2e_fail "topology: veth for the adapter's wan0 failed"
    in_ns "$E2E_INET" ip link set "n-$E2E_ADAPTER" master br0 up
    in_ns "$E2E_ADAPTER" ip link set wan0 up
    in_ns "$E2E_ADAPTER" ip -4 addr add "$E2E_ADAPTER_V4/24" dev wan0
    in_ns "$E2E_ADAPTER" ip -6 addr add "$E2E_ADAPTER_V6/64" dev wan0 nodad
    in_ns "$E2E_ADAPTER" ip -4 route replace default via 10.77.0.1 dev wan0
    in_ns "$E2E_ADAPTER" ip -6 route replace default via fd77::1 dev wan0
    # The daemon, not the kernel, moves packets between the two NICs.
    in_ns "$E2E_ADAPTER" sysctl -qw net.ipv4.ip_forward=0 net.ipv6.conf.all.forwarding=0

    topo_add_ns "$E2E_LAN"
    in_ns "$E2E_LAN" ip link add br-lan type bridge mcast_snooping 0
    in_ns "$E2E_LAN" sysctl -qw net.ipv6.conf.br-lan.disable_ipv6=1
    # A switch passes whatever frames it gets. Where br_netfilter is loaded the bridge would
    # check IP and ARP headers itself and drop the malformed ones before the adapter sees them.
    local knob
    for knob in iptables ip6tables arptables; do
        if in_ns "$E2E_LAN" test -e "/proc/sys/net/bridge/bridge-nf-call-$knob"; then
            in_ns "$E2E_LAN" sysctl -qw "net.bridge.bridge-nf-call-$knob=0"
        fi
    done
    in_ns "$E2E_LAN" ip link set br-lan up
    ip link add lan0 netns "$(ns "$E2E_ADAPTER")" type veth \
        peer name "a-$E2E_ADAPTER" netns "$(ns "$E2E_LAN")" ||
        e2e_fail "topology: veth for the adapter's lan0 failed"
    in_ns "$E2E_LAN" ip link set "a-$E2E_ADAPTER" master br-lan up
    in_ns "$E2E_ADAPTER" ip link set lan0 up

    for ((i = 1; i <= count; i++)); do
        adapter_lan_host "gn$i"
    done
    adapter_lan_host "$E2E_STRANGER"
    E2E_GN_COUNT=$count
    mkdir -p "$E2E_RUN_DIR/dhcp" "$(adapter_dir)"
    e2e_log "adapter topology: $E2E_ADAPTER wan0 $E2E_ADAPTER_V4 $E2E_ADAPTER_V6, LAN with gn1..gn$count and $E2E_STRANGER"
}

# adapter_lan_mtu MTU NAME...: sets MTU on the LAN switch, the adapter's lan0 (both veth ends)
# and on each named host's eth0 (both ends), so frames above 1514 bytes can reach the adapter.
adapter_lan_mtu() {
    local mtu=$1 name
    shift
    in_ns "$E2E_ADAPTER" ip link set lan0 mtu "$mtu"
    in_ns "$E2E_LAN" ip link set "a-$E2E_ADAPTER" mtu "$mtu"
    for name in "$@"; do
        in_ns "$name" ip link set eth0 mtu "$mtu"
        in_ns "$E2E_LAN" ip link set "n-$name" mtu "$mtu"
    done
}

# adapter_enrol: the adapter (--kind adapter, a random password in devices/adp1.pass) and the
# general nodes gn1..gnCOUNT of adapter_topology (--kind general --adapter adp1 --mac MAC; they
# log in by MAC, so no password).
adapter_enrol() {
    local pass=$E2E_CLOUD_DIR/devices/$E2E_ADAPTER.pass out i
    od -An -N16 -tx1 /dev/urandom | tr -d ' \n' >"$pass"
    echo >>"$pass"
    chmod 600 "$pass"
    out=$("$CYPHONIC_AS" -c "$E2E_CLOUD_DIR/as.yaml" device add "$E2E_ADAPTER" --kind adapter \
        --password-file "$pass" 2>&1) || e2e_fail "enrolling the adapter $E2E_ADAPTER: $out"
    e2e_log "enrolled adapter $E2E_ADAPTER.$E2E_DOMAIN"
    for ((i = 1; i <= E2E_GN_COUNT; i++)); do
        out=$("$CYPHONIC_AS" -c "$E2E_CLOUD_DIR/as.yaml" device add "gn$i" --kind general \
            --adapter "$E2E_ADAPTER" --mac "$(gn_mac "gn$i")" 2>&1) ||
            e2e_fail "enrolling general node gn$i: $out"
        e2e_log "enrolled general node gn$i.$E2E_DOMAIN ($(gn_mac "gn$i"))" \
            "$(gn_vip "gn$i" 4) $(gn_vip "gn$i" 6)"
    done
}

# gn_vip NAME 4|6: a device's virtual address as the AS gave it out (also the adapter itself:
# its virtual addresses are the gateway's).
gn_vip() {
    local value
    value=$(cloud_device_field "$1" "virtual_ipv$2")
    [ "$value" = null ] && value=""
    printf '%s\n' "$value"
}

# adapter_gateway 4|6: the gateway address on the LAN = the adapter's own virtual address.
adapter_gateway() {
    local gw
    gw=$(gn_vip "$E2E_ADAPTER" "$1")
    [ -n "$gw" ] || e2e_fail "the AS has no virtual IPv$1 for the adapter $E2E_ADAPTER"
    printf '%s\n' "$gw"
}

# adapter_config: writes adp1.yaml (data.workers $E2E_ADAPTER_WORKERS, default 4; staging on;
# log level $E2E_ADAPTER_LOG_LEVEL, default debug).
adapter_config() {
    local workers=${E2E_ADAPTER_WORKERS:-4} dir
    dir=$(adapter_dir)
    mkdir -p "$dir/state"
    cat >"$dir/$E2E_ADAPTER.yaml" <<EOF
as:
  host: "$E2E_CLOUD_V4"
  port: 8443
  ca_file: $E2E_CLOUD_DIR/certs/ca.crt
auth:
  device_id: $E2E_ADAPTER
  password_file: $E2E_CLOUD_DIR/devices/$E2E_ADAPTER.pass
overlay:
  domain: $E2E_DOMAIN
lan:
  interface: lan0
  lease_s: 120
  ra_interval_s: 10
wan:
  interface: wan0
data:
  port: $E2E_ADAPTER_DATA_PORT
  workers: $workers
  staging: true
resolver:
  port: 53
  upstream: ["10.77.0.1"]
state:
  dir: $dir/state
status:
  socket: $dir/$E2E_ADAPTER.sock
peers:
  idle_s: 300
log:
  level: ${E2E_ADAPTER_LOG_LEVEL:-debug}
EOF
}

# adapter_start: writes the configuration (unless adapter_config did) and starts
# `cyphonic-adapterd run -c adp1.yaml` in the adapter's namespace, with `--set KEY=VALUE` for
# each entry of E2E_ADAPTER_SET; waits until its status says "registered". A restart reuses
# the configuration and the state directory and appends to the same log, each start marked
# with a line.
adapter_start() {
    e2e_require_binary CYPHONIC_ADAPTERD cyphonic-adapterd
    local dir log set=() kv
    dir=$(adapter_dir)
    log=$E2E_RUN_DIR/logs/adapterd.log
    [ -f "$dir/$E2E_ADAPTER.yaml" ] || adapter_config
    for kv in "${E2E_ADAPTER_SET[@]}"; do
        set+=(--set "$kv")
    done
    E2E_ADAPTER_STARTS=$((E2E_ADAPTER_STARTS + 1))
    printf '==== e2e: start %s of cyphonic-adapterd %s\n' "$E2E_ADAPTER_STARTS" "${set[*]}" >>"$log"
    e2e_spawn "$log" "$(ns "$E2E_ADAPTER")" "$CYPHONIC_ADAPTERD" run -c "$dir/$E2E_ADAPTER.yaml" \
        "${set[@]}"
    E2E_ADAPTER_PID=$E2E_LAST_PID
    e2e_track_daemon "$E2E_LAST_PID" cyphonic-adapterd
    e2e_log "cyphonic-adapterd started (pid $E2E_ADAPTER_PID${set[*]:+, ${set[*]}})"
    adapter_wait_registered 30
}

adapter_wait_registered() {
    local timeout_s=${1:-30} deadline state=""
    deadline=$((SECONDS + timeout_s))
    while :; do
        state=$(adapter_field '.state')
        [ "$state" = registered ] && break
        e2e_alive "$E2E_ADAPTER_PID" || e2e_fail "cyphonic-adapterd exited (see adapterd.log below)"
        if [ "$SECONDS" -ge "$deadline" ]; then
            e2e_fail "cyphonic-adapterd not registered after ${timeout_s}s (state '${state:-no answer}')"
        fi
        sleep 0.2
    done
    e2e_log "cyphonic-adapterd registered: $(adapter_status | jq -c '{node_id, fqdn}')"
}

# adapter_stop: SIGTERM; fails unless cyphonic-adapterd exits 0 within 10 s.
adapter_stop() {
    local status=0
    [ -n "$E2E_ADAPTER_PID" ] || e2e_fail "adapter_stop: cyphonic-adapterd is not running"
    e2e_untrack_daemon "$E2E_ADAPTER_PID"
    e2e_stop_pid "$E2E_ADAPTER_PID" 10 || status=$?
    E2E_ADAPTER_PID=""
    [ "$status" -eq 0 ] || e2e_fail "cyphonic-adapterd exited with status $status after SIGTERM"
    e2e_log "cyphonic-adapterd stopped cleanly"
}

# adapter_kill: SIGKILL, as a crash or a power cut would end it.
adapter_kill() {
    [ -n "$E2E_ADAPTER_PID" ] || e2e_fail "adapter_kill: cyphonic-adapterd is not running"
    e2e_untrack_daemon "$E2E_ADAPTER_PID"
    kill -KILL "$E2E_ADAPTER_PID" 2>/dev/null || true
    wait "$E2E_ADAPTER_PID" 2>/dev/null || true
    e2e_log "cyphonic-adapterd killed with SIGKILL (pid $E2E_ADAPTER_PID)"
    E2E_ADAPTER_PID=""
}

# adapter_status: `cyphonic-adapterd status --json` (run in the adapter's namespace).
adapter_status() {
    in_ns "$E2E_ADAPTER" "$CYPHONIC_ADAPTERD" status --json --socket "$(adapter_dir)/$E2E_ADAPTER.sock"
}

# adapter_field JQ_FILTER: one value of the adapter's status ("" when absent or no answer).
adapter_field() {
    adapter_status 2>/dev/null | jq -r "($1) | select(. != null)" 2>/dev/null || true
}

# adapter_gn_field NAME JQ_PATH: a field of general node NAME's entry (e.g. .state).
adapter_gn_field() {
    adapter_field "[.general_nodes[]? | select(.device_id == \"$1\")][0] | $2"
}

# adapter_peer_field NAME PEER FIELD: FIELD of the peer PEER.<domain> of general node NAME; of
# the entry whose state is "up" when there are several.
adapter_peer_field() {
    local fqdn=$2.$E2E_DOMAIN
    adapter_field "[.general_nodes[]? | select(.device_id == \"$1\") | .peers[]?
        | select(.fqdn == \"$fqdn\" or .fqdn == \"$fqdn.\")]
        | (map(select(.state == \"up\")) + .) | .[0].$3"
}

# adapter_wait_gn NAME STATE [SECONDS]: waits until general node NAME's state is STATE.
adapter_wait_gn() {
    local name=$1 want=$2 timeout_s=${3:-30} deadline state
    deadline=$((SECONDS + timeout_s))
    while :; do
        state=$(adapter_gn_field "$name" .state)
        [ "$state" = "$want" ] && break
        if [ -n "$E2E_ADAPTER_PID" ] && ! e2e_alive "$E2E_ADAPTER_PID"; then
            e2e_fail "cyphonic-adapterd exited (see adapterd.log below)"
        fi
        if [ "$SECONDS" -ge "$deadline" ]; then
            e2e_fail "general node $name is '${state:-not listed}', not '$want', after ${timeout_s}s: $(adapter_field '.general_nodes' | jq -c . 2>/dev/null)"
        fi
        sleep 0.2
    done
}

# adapter_drops: the sum of every drop counter in the adapter's status (global, and per general
# node and per peer where the status has them, as a number or a map of reasons).
adapter_drops() {
    adapter_status | jq 'def total: if type == "object" then ([.[] | total] | add // 0)
            elif type == "number" then . else 0 end;
        (.drops | total) + ([.general_nodes[]? | .drops | total] | add // 0)
        + ([.general_nodes[]?.peers[]? | .drops | total] | add // 0)'
}

# adapter_drop_map: the global drop counters as compact JSON.
adapter_drop_map() {
    adapter_field '.drops' | jq -c . 2>/dev/null || echo '{}'
}

# adapter_lan_mac: the MAC of the adapter's lan0.
adapter_lan_mac() {
    in_ns "$E2E_ADAPTER" cat /sys/class/net/lan0/address
}

# ---- DHCP on the general nodes ------------------------------------------------------------

# gn_dhclient NAME 4|6 SECONDS: one real ISC dhclient run on NAME's eth0 (foreground, -1: one
# attempt) with the harness's own script (lib/dhclient-script.sh: it only sets the address,
# prefix, MTU and default route; never /etc/resolv.conf), configuration, lease and PID files
# under $E2E_RUN_DIR/dhcp. Returns 0 once the script has applied a lease (dhclient is then
# stopped, the address stays), 1 if none came within SECONDS. An earlier lease in the lease
# file makes dhclient start with INIT-REBOOT (DHCPREQUEST for that address).
gn_dhclient() {
    local name=$1 family=$2 timeout_s=$3
    local dir=$E2E_RUN_DIR/dhcp
    local events=$dir/$name.events conf=$dir/$name.conf pid
    local log=$E2E_RUN_DIR/logs/dhclient-$name-$family.log
    touch "$events"
    cat >"$conf" <<EOF
# dhclient.conf of $name (e2e); the host's /etc/dhcp/dhclient.conf is not read.
timeout $timeout_s;
retry 1;
initial-interval 1;
backoff-cutoff 2;
reboot 5;
request subnet-mask, broadcast-address, routers, domain-name-servers, interface-mtu,
        dhcp-lease-time, dhcp6.name-servers;
EOF
    local before
    before=$(wc -l <"$events")
    printf '==== e2e: dhclient -%s\n' "$family" >>"$log"
    e2e_spawn "$log" "$(ns "$name")" "$E2E_DHCLIENT" "-$family" -1 -d -v -cf "$conf" \
        -sf "$E2E_LIB_DIR/dhclient-script.sh" -lf "$dir/$name.v$family.leases" \
        -pf "$dir/$name.v$family.pid" -e "E2E_DHCP_EVENTS=$events" eth0
    pid=$E2E_LAST_PID
    local bound='^reason=(BOUND|RENEW|REBIND|REBOOT) '
    [ "$family" = 6 ] && bound='^reason=(BOUND6|RENEW6|REBIND6|REBOOT6) '
    local deadline=$((SECONDS + timeout_s)) got=1
    while [ "$SECONDS" -lt "$deadline" ]; do
        if tail -n "+$((before + 1))" "$events" | grep -Eq "$bound"; then
            got=0
            break
        fi
        e2e_alive "$pid" || break
        sleep 0.2
    done
    if [ "$got" -ne 0 ] && tail -n "+$((before + 1))" "$events" | grep -Eq "$bound"; then
        got=0
    fi
    e2e_stop_pid "$pid" 5 >/dev/null 2>&1 || true
    return "$got"
}

# gn_lease NAME 4|6 KEY: KEY of the last lease the script applied for that family (address,
# prefixlen, router, dns, lease, mtu, server).
gn_lease() {
    local pattern='^reason=(BOUND|RENEW|REBIND|REBOOT) '
    [ "$2" = 6 ] && pattern='^reason=(BOUND6|RENEW6|REBIND6|REBOOT6) '
    grep -E "$pattern" "$E2E_RUN_DIR/dhcp/$1.events" 2>/dev/null | tail -n 1 |
        tr ' ' '\n' | sed -n "s/^$3=//p"
}

# gn_dhcp4 NAME [SECONDS]: DHCPv4 must give NAME the virtual IPv4 the AS holds for it, with the
# gateway as router and DNS server; fails the scenario otherwise.
gn_dhcp4() {
    local name=$1 timeout_s=${2:-20} want got gw
    want=$(gn_vip "$name" 4)
    gw=$(adapter_gateway 4)
    gn_dhclient "$name" 4 "$timeout_s" ||
        e2e_fail "$name: no DHCPv4 lease within ${timeout_s}s (see dhclient-$name-4.log below)"
    got=$(gn_lease "$name" 4 address)
    e2e_same_ip "$got" "$want" || e2e_fail "$name: DHCPv4 gave $got, the AS says $want"
    [ "$(gn_lease "$name" 4 router)" = "$gw" ] ||
        e2e_fail "$name: DHCPv4 router is '$(gn_lease "$name" 4 router)', not the gateway $gw"
    [[ ",$(gn_lease "$name" 4 dns)," == *",$gw,"* ]] ||
        e2e_fail "$name: DHCPv4 DNS servers '$(gn_lease "$name" 4 dns)' lack the gateway $gw"
    in_ns "$name" ip -4 -o addr show dev eth0 | grep -q " $got/" ||
        e2e_fail "$name: eth0 lacks $got after the lease"
    e2e_log "$name: DHCPv4 $got/$(gn_lease "$name" 4 prefixlen) router $gw lease $(gn_lease "$name" 4 lease)s mtu $(gn_lease "$name" 4 mtu)"
}

# gn_wait_ra NAME [SECONDS]: waits until a Router Advertisement has given NAME's eth0 a default
# route (sending a Router Solicitation every 2 s meanwhile); prints the router.
gn_wait_ra() {
    local name=$1 timeout_s=${2:-15} deadline route next=0
    deadline=$((SECONDS + timeout_s))
    while :; do
        route=$(in_ns "$name" ip -6 route show default dev eth0 proto ra 2>/dev/null | head -n 1)
        if [ -n "$route" ]; then
            awk '{ for (i = 1; i < NF; i++) if ($i == "via") print $(i + 1) }' <<<"$route"
            return 0
        fi
        if [ "$SECONDS" -ge "$deadline" ]; then
            e2e_fail "$name: no default route from a Router Advertisement after ${timeout_s}s ($(in_ns "$name" ip -6 route show dev eth0 | tr '\n' ';'))"
        fi
        if [ "$SECONDS" -ge "$next" ]; then
            in_ns "$name" python3 "$E2E_LIB_DIR/lan_tool.py" rs eth0 >/dev/null 2>&1 || true
            next=$((SECONDS + 2))
        fi
        sleep 0.2
    done
}

# gn_dhcp6 NAME [SECONDS]: a Router Advertisement gives the default route, then a fresh
# DHCPv6 exchange (Solicit/Advertise/Request/Reply) must give NAME the virtual IPv6 the AS
# holds for it.
gn_dhcp6() {
    local name=$1 timeout_s=${2:-20} want got router
    want=$(gn_vip "$name" 6)
    router=$(gn_wait_ra "$name" 15)
    rm -f "$E2E_RUN_DIR/dhcp/$name.v6.leases"
    gn_dhclient "$name" 6 "$timeout_s" ||
        e2e_fail "$name: no DHCPv6 lease within ${timeout_s}s (see dhclient-$name-6.log below)"
    got=$(gn_lease "$name" 6 address)
    e2e_same_ip "$got" "$want" || e2e_fail "$name: DHCPv6 gave $got, the AS says $want"
    in_ns "$name" ip -6 -o addr show dev eth0 scope global | grep -q " $got/" ||
        e2e_fail "$name: eth0 lacks $got after the lease"
    e2e_log "$name: DHCPv6 $got/$(gn_lease "$name" 6 prefixlen), default route via $router (RA)"
}

# ---- the overlay seen from a general node ------------------------------------------------

# gn_resolve NAME PEER A|AAAA [SECONDS]: NAME asks the gateway for PEER.<domain> until an
# answer comes, then waits until the adapter shows NAME's tunnel to PEER "up" (packets sent
# before may be lost, as for cyphonicd, node_resolve); prints the address.
gn_resolve() {
    local name=$1 peer=$2 type=$3 timeout_s=${4:-30} gw answer="" deadline
    gw=$(adapter_gateway 4)
    deadline=$((SECONDS + timeout_s))
    while :; do
        answer=$(in_ns "$name" dig "@$gw" "$peer.$E2E_DOMAIN" "$type" +short +time=3 +tries=1 \
            2>/dev/null | grep -v '^;' | head -n 1 || true)
        [ -n "$answer" ] && break
        if [ "$SECONDS" -ge "$deadline" ]; then
            e2e_fail "$name: dig @$gw $peer.$E2E_DOMAIN $type gave no answer in ${timeout_s}s"
        fi
        sleep 0.5
    done
    while [ "$(adapter_peer_field "$name" "$peer" state)" != up ]; do
        if [ "$SECONDS" -ge "$deadline" ]; then
            e2e_fail "$name: $peer resolved to $answer but the adapter shows no tunnel up in ${timeout_s}s: $(adapter_field "[.general_nodes[]? | select(.device_id == \"$name\")]" | jq -c . 2>/dev/null)"
        fi
        sleep 0.1
    done
    printf '%s\n' "$answer"
}

# gn_iperf_server NAME PORT: an iperf3 server for one test on PORT in NAME.
gn_iperf_server() {
    local name=$1 port=$2 pid
    e2e_spawn "$E2E_RUN_DIR/logs/iperf3-server-$name-$port.log" "$(ns "$name")" \
        iperf3 -s -1 -p "$port"
    pid=$E2E_LAST_PID
    e2e_wait_until 10 "iperf3 server on port $port in $name" \
        in_ns "$name" sh -c "ss -ltn | grep -q ':$port '"
    E2E_LAST_PID=$pid
}

# gn_iperf_start NAME ADDRESS PORT SECONDS: like iperf_client_start, to PORT (check the
# result with iperf_client_check NAME PID).
gn_iperf_start() {
    local name=$1 address=$2 port=$3 seconds=$4
    local json=$E2E_RUN_DIR/logs/iperf3-$name.json
    : >"$json"
    e2e_spawn "$E2E_RUN_DIR/logs/iperf3-$name.log" "$(ns "$name")" iperf3 -c "$address" \
        -p "$port" -t "$seconds" --connect-timeout 5000 -J --logfile "$json"
    # shellcheck disable=SC2034,SC2004 # node.sh's map (iperf_client_check reads it)
    E2E_IPERF_SECONDS[$E2E_LAST_PID]=$seconds
}
