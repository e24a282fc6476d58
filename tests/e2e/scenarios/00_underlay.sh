#!/usr/bin/env bash
# 00_underlay: the harness itself, without cyphonicd. The cloud services come up ready in
# their namespace and accept TLS on both families with a certificate naming the cloud's
# addresses; each kind of attachment reaches exactly what it should; the NAT routers behave
# as the type they emulate (pr: one mapping for every destination, sym: a new one per
# destination; both drop unsolicited input); a moved host reaches the cloud from its new
# address. If this fails, the other scenarios' failures say nothing about cyphonicd.
#
#   cloud 10.77.0.10 fd77::10 ─┐
#   dual  10.77.0.21 fd77::21 ─┤
#   v4    10.77.0.22          ─┼─ inet (br0) ─┬─ rpr wan 10.77.0.2 (pr)  ── a 192.168.1.2
#   v6    fd77::23            ─┘              └─ rsym wan 10.77.0.3 (sym) ── b 192.168.2.2
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=../lib/e2e.sh
source "$here/../lib/e2e.sh"

e2e_init
e2e_require_tools openssl python3

topo_internet
cloud_up
topo_public dual 0 21 dual
topo_public v4 0 22 v4
topo_public v6 0 23 v6
topo_router rpr pr 2 1
topo_router rsym sym 3 2
topo_behind a rpr 2
topo_behind b rsym 2

reaches() { in_ns "$1" ping -n -c 1 -W 1 "$2" >/dev/null 2>&1; }
expect_reach() {
    reaches "$1" "$2" || e2e_fail "$1 cannot reach $2"
}
expect_no_reach() {
    if reaches "$1" "$2"; then
        e2e_fail "$1 reaches $2 but should not"
    fi
}
expect_reach dual "$E2E_CLOUD_V4"
expect_reach dual "$E2E_CLOUD_V6"
expect_reach v4 "$E2E_CLOUD_V4"
expect_no_reach v4 "$E2E_CLOUD_V6"
expect_reach v6 "$E2E_CLOUD_V6"
expect_no_reach v6 "$E2E_CLOUD_V4"
expect_reach a "$E2E_CLOUD_V4"
expect_reach b "$E2E_CLOUD_V4"
expect_no_reach dual 192.168.1.2
e2e_log "reachability as designed"

# TLS to the AS over both families, verified against the run's CA and the address in the SAN.
for address in "$E2E_CLOUD_V4" "$E2E_CLOUD_V6"; do
    out=$(in_ns dual openssl s_client -connect "[$address]:8443" -CAfile \
        "$E2E_CLOUD_DIR/certs/ca.crt" -verify_ip "$address" -verify_return_error -brief \
        </dev/null 2>&1) || e2e_fail "TLS to the AS at $address: $out"
    grep -q 'Protocol version: TLSv1.3' <<<"$out" || e2e_fail "AS at $address: not TLS 1.3: $out"
done
e2e_log "AS answers TLS 1.3 on both families"

# NAT behaviour, seen from two ports of the cloud.
tool=$E2E_LIB_DIR/udp_tool.py
# mapped_ports NODE FROM_PORT: sets MAPPED to the source ports the cloud saw on :3478 and :3479
# for datagrams NODE sent from one socket.
MAPPED=""
mapped_ports() {
    local node=$1 from_port=$2 log=$E2E_RUN_DIR/logs/udp-listen-$1.log
    : >"$log"
    e2e_spawn "$log" "$(ns "$E2E_CLOUD")" python3 "$tool" listen "$E2E_CLOUD_V4" 3478 3479 \
        --seconds 4
    local listener=$E2E_LAST_PID answers
    e2e_wait_until 5 "UDP listener" grep -q ready "$log"
    answers=$(in_ns "$node" python3 "$tool" probe "$from_port" "$E2E_CLOUD_V4:3478" \
        "$E2E_CLOUD_V4:3479")
    if grep -q timeout <<<"$answers"; then
        e2e_fail "$node: no answer through its NAT: $answers"
    fi
    e2e_stop_pid "$listener" 5 || true
    MAPPED=$(awk '$1 != "ready" { print $3 }' "$log" | tr '\n' ' ')
}
mapped_ports a 40000
read -r pa1 pa2 <<<"$MAPPED"
[ "$pa1" = "$pa2" ] || e2e_fail "pr router: mapped ports differ per destination ($pa1, $pa2)"
mapped_ports b 40000
read -r pb1 pb2 <<<"$MAPPED"
[ "$pb1" != "$pb2" ] || e2e_fail "sym router: one mapped port ($pb1) for two destinations"
e2e_log "pr maps endpoint-independently (:$pa1), sym per destination (:$pb1, :$pb2)"

# Unsolicited input to a router's own address is dropped (the rule hole punching depends on).
log=$E2E_RUN_DIR/logs/unsolicited.log
e2e_spawn "$log" "$(ns a)" python3 "$tool" listen 192.168.1.2 45000 --seconds 3
listener=$E2E_LAST_PID
e2e_wait_until 5 "UDP listener" grep -q ready "$log"
in_ns dual python3 "$tool" probe 45001 10.77.0.2:45000 | grep -q timeout ||
    e2e_fail "the pr router answered an unsolicited datagram"
e2e_stop_pid "$listener" 5 || true
[ "$(grep -vc ready "$log" || true)" -eq 0 ] ||
    e2e_fail "an unsolicited datagram reached the host behind the pr router"

# A UDP block between two internet hosts stops UDP only, and only until it is lifted.
probe_cloud() {
    local log=$E2E_RUN_DIR/logs/udp-listen-block.log answers
    : >"$log"
    e2e_spawn "$log" "$(ns "$E2E_CLOUD")" python3 "$tool" listen "$E2E_CLOUD_V4" 3478 --seconds 3
    local listener=$E2E_LAST_PID
    e2e_wait_until 5 "UDP listener" grep -q ready "$log"
    answers=$(in_ns dual python3 "$tool" probe 46000 "$E2E_CLOUD_V4:3478")
    e2e_stop_pid "$listener" 5 || true
    PROBE=$answers
}
topo_block 10.77.0.21 "$E2E_CLOUD_V4"
probe_cloud
grep -q timeout <<<"$PROBE" || e2e_fail "UDP passed the block: $PROBE"
expect_reach dual "$E2E_CLOUD_V4"
[ "$(topo_unblock)" -ge 1 ] || e2e_fail "the block counted no dropped datagram"
probe_cloud
grep -q pong <<<"$PROBE" || e2e_fail "UDP still blocked after topo_unblock: $PROBE"

# Mobility: a public host moves to another public subnet, then behind a NAT router, and back.
topo_move dual inet 1 21 dual
expect_reach dual "$E2E_CLOUD_V4"
expect_reach dual "$E2E_CLOUD_V6"
[ "$(in_ns dual ip -4 route show default | awk '{print $3}')" = 10.77.1.1 ] ||
    e2e_fail "moved host: default route not via 10.77.1.1"
topo_move dual rpr 3
expect_reach dual "$E2E_CLOUD_V4"
expect_no_reach dual "$E2E_CLOUD_V6"
topo_move dual inet 0 21 dual
expect_reach dual "$E2E_CLOUD_V6"

for port in 9100 9101 9102; do
    [ "$(cloud_http_status $port /readyz)" = 200 ] || e2e_fail "service on :$port not ready"
done
