# shellcheck shell=bash
# openvpn leg: TLS peer-to-peer mode over UDP (end A --tls-server, end B --tls-client) with a
# CA and two certificates made by openssl at run time, data cipher AES-256-GCM, --dev tun.
# Data channel offload (the ovpn-dco kernel module) is switched off so the data path runs in
# the openvpn process, as it does for the other userspace daemons measured here.

OVPN_PORT=1194
OVPN_ADDR_A=10.210.3.1
OVPN_ADDR_B=10.210.3.2
OVPN_DEV=ovpn-bench

leg_openvpn_packages() { echo openvpn openssl; }

ovpn_key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

# Certificate NAME signed by the leg's CA with extended key usage EKU.
ovpn_cert() {
    local w=$LEG_WORK name=$1 eku=$2
    ovpn_key "$w/$name.key"
    openssl req -new -key "$w/$name.key" -subj "/CN=bench-$name" -out "$w/$name.csr" ||
        return 1
    openssl x509 -req -in "$w/$name.csr" -CA "$w/ca.crt" -CAkey "$w/ca.key" -CAcreateserial \
        -sha256 -days 1 -out "$w/$name.crt" -extfile <(printf '%s\n' \
        "extendedKeyUsage=$eku" "keyUsage=critical,digitalSignature" "basicConstraints=CA:FALSE") \
        2>/dev/null
}

ovpn_certs() {
    local w=$LEG_WORK
    ovpn_key "$w/ca.key"
    openssl req -x509 -new -key "$w/ca.key" -sha256 -days 1 -subj "/CN=cyphonic bench CA" \
        -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign" \
        -out "$w/ca.crt" || return 1
    ovpn_cert a serverAuth && ovpn_cert b clientAuth
}

# Starts one end: NS, NAME, local real address, peer real address, local and peer tunnel
# addresses, then the role options.
ovpn_start() {
    local ns=$1 name=$2 real=$3 peer_real=$4 addr=$5 peer_addr=$6
    shift 6
    local w=$LEG_WORK
    start_in_ns "$ns" "$w/openvpn-$name.log" openvpn --dev "$OVPN_DEV" --dev-type tun \
        --proto udp --local "$real" --lport "$OVPN_PORT" --remote "$peer_real" \
        --rport "$OVPN_PORT" --ifconfig "$addr" "$peer_addr" --ca "$w/ca.crt" \
        --cert "$w/$name.crt" --key "$w/$name.key" --data-ciphers AES-256-GCM \
        --disable-dco --ping 10 --ping-restart 60 --verb 3 "$@"
    LEG_PIDS+=("$STARTED_PID")
}

# Waits until NAME's log says the data channel is up with AES-256-GCM.
ovpn_wait() {
    local log=$LEG_WORK/openvpn-$1.log i
    for ((i = 0; i < 200; i++)); do
        if grep -q 'Initialization Sequence Completed' "$log"; then
            grep -q "Data Channel: cipher 'AES-256-GCM'" "$log" ||
                die "openvpn $1 negotiated another data cipher: $(grep 'Data Channel' "$log")"
            return 0
        fi
        sleep 0.1
    done
    die "openvpn $1 did not come up: $(tail -n 5 "$log")"
}

leg_openvpn_up() {
    topology_up
    LEG_PIDS=()
    ovpn_certs || die "making the openvpn certificates failed"
    ovpn_start "$NS_A" a "$REAL_A" "$REAL_B" "$OVPN_ADDR_A" "$OVPN_ADDR_B" \
        --tls-server --dh none --remote-cert-tls client
    ovpn_start "$NS_B" b "$REAL_B" "$REAL_A" "$OVPN_ADDR_B" "$OVPN_ADDR_A" \
        --tls-client --remote-cert-tls server
    ovpn_wait a
    ovpn_wait b
    LEG_PEER=$OVPN_ADDR_B
    LEG_DEV_A=$OVPN_DEV
}
