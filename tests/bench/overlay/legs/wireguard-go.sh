# shellcheck shell=bash
# wireguard-go leg: the userspace WireGuard implementation (ChaCha20-Poly1305), one
# `wireguard-go -f` per namespace, configured with `wg set` and `ip`.

WG_PORT=51820
WG_ADDR_A=10.210.1.1
WG_ADDR_B=10.210.1.2

leg_wireguard_go_packages() { echo wireguard-go wireguard-tools; }

# wireguard-go's control socket is /var/run/wireguard/<interface>.sock, which all namespaces
# share, so each end's interface gets a name unique to this run.
wg_start() {
    local ns=$1 dev=$2 i
    # WG_PROCESS_FOREGROUND=1 only drops the "use the kernel module" banner from the log.
    start_in_ns "$ns" "$LEG_WORK/wireguard-go-$dev.log" env WG_PROCESS_FOREGROUND=1 \
        wireguard-go -f "$dev"
    LEG_PIDS+=("$STARTED_PID")
    for ((i = 0; i < 50; i++)); do
        [ -S "/var/run/wireguard/$dev.sock" ] && return 0
        is_ours_alive "$STARTED_PID" || break
        sleep 0.1
    done
    die "wireguard-go $dev did not come up: $(cat "$LEG_WORK/wireguard-go-$dev.log")"
}

wg_configure() {
    local ns=$1 dev=$2 key=$3 peer_pub=$4 peer_real=$5 addr=$6 peer_addr=$7
    in_netns "$ns" wg set "$dev" private-key "$key" listen-port "$WG_PORT" \
        peer "$(cat "$peer_pub")" endpoint "$peer_real:$WG_PORT" allowed-ips "$peer_addr/32" ||
        die "wg set $dev failed"
    in_netns "$ns" ip addr add "$addr/24" dev "$dev"
    in_netns "$ns" ip link set "$dev" up
}

leg_wireguard_go_up() {
    local dev_a="wgb$$a" dev_b="wgb$$b" end
    topology_up
    LEG_PIDS=()
    for end in a b; do
        (umask 077 && wg genkey >"$LEG_WORK/$end.key")
        wg pubkey <"$LEG_WORK/$end.key" >"$LEG_WORK/$end.pub"
    done
    wg_start "$NS_A" "$dev_a"
    wg_start "$NS_B" "$dev_b"
    wg_configure "$NS_A" "$dev_a" "$LEG_WORK/a.key" "$LEG_WORK/b.pub" "$REAL_B" "$WG_ADDR_A" \
        "$WG_ADDR_B"
    wg_configure "$NS_B" "$dev_b" "$LEG_WORK/b.key" "$LEG_WORK/a.pub" "$REAL_A" "$WG_ADDR_B" \
        "$WG_ADDR_A"
    LEG_PEER=$WG_ADDR_B
    LEG_DEV_A=$dev_a
}
