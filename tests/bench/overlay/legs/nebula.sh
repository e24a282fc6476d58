# shellcheck shell=bash
# nebula leg: a CA and two host certificates made with nebula-cert at run time; end A is the
# lighthouse, end B finds it through static_host_map. Data cipher: nebula's default, AES-GCM.

NEBULA_PORT=4242
NEBULA_ADDR_A=10.210.2.1
NEBULA_ADDR_B=10.210.2.2

leg_nebula_packages() { echo nebula; }

# Config of one end: NAME (its certificate carries the overlay address), "true" for the
# lighthouse.
nebula_config() {
    local name=$1 lighthouse=$2 hosts=""
    [ "$lighthouse" = true ] || hosts="\"$NEBULA_ADDR_A\""
    cat <<CONFIG
pki:
  ca: $LEG_WORK/ca.crt
  cert: $LEG_WORK/$name.crt
  key: $LEG_WORK/$name.key
static_host_map:
  "$NEBULA_ADDR_A": ["$REAL_A:$NEBULA_PORT"]
  "$NEBULA_ADDR_B": ["$REAL_B:$NEBULA_PORT"]
lighthouse:
  am_lighthouse: $lighthouse
  interval: 60
  hosts: [$hosts]
listen:
  host: 0.0.0.0
  port: $NEBULA_PORT
cipher: aes
punchy:
  punch: false
tun:
  dev: nebula1
logging:
  level: info
firewall:
  outbound:
    - {port: any, proto: any, host: any}
  inbound:
    - {port: any, proto: any, host: any}
CONFIG
}

leg_nebula_up() {
    local w=$LEG_WORK
    topology_up
    LEG_PIDS=()
    nebula-cert ca -name "cyphonic bench CA" -duration 24h -out-crt "$w/ca.crt" \
        -out-key "$w/ca.key" >/dev/null || die "nebula-cert ca failed"
    nebula-cert sign -ca-crt "$w/ca.crt" -ca-key "$w/ca.key" -name a \
        -ip "$NEBULA_ADDR_A/24" -out-crt "$w/a.crt" -out-key "$w/a.key" ||
        die "nebula-cert sign a failed"
    nebula-cert sign -ca-crt "$w/ca.crt" -ca-key "$w/ca.key" -name b \
        -ip "$NEBULA_ADDR_B/24" -out-crt "$w/b.crt" -out-key "$w/b.key" ||
        die "nebula-cert sign b failed"
    nebula_config a true >"$w/a.yml"
    nebula_config b false >"$w/b.yml"
    start_in_ns "$NS_A" "$w/nebula-a.log" nebula -config "$w/a.yml"
    LEG_PIDS+=("$STARTED_PID")
    start_in_ns "$NS_B" "$w/nebula-b.log" nebula -config "$w/b.yml"
    LEG_PIDS+=("$STARTED_PID")
    wait_for_link "$NS_A" nebula1 10 ||
        die "nebula in $NS_A made no tun: $(tail -n 5 "$w/nebula-a.log")"
    wait_for_link "$NS_B" nebula1 10 ||
        die "nebula in $NS_B made no tun: $(tail -n 5 "$w/nebula-b.log")"
    LEG_PEER=$NEBULA_ADDR_B
    LEG_DEV_A=nebula1
}
