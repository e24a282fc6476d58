#!/usr/bin/env bash
# 13_adapter_restart: cyphonic-adapterd dies with SIGKILL while gn1 pings alice over the
# overlay, and is started again with the same configuration and state directory. It resumes
# from its persisted general-node cache: gn1 runs no DHCP again and keeps its address, the
# adapter lists gn1 with the same MAC and virtual addresses and makes it "active" again, and
# gn1's ping (still running, never restarted) gets replies again within 30 s of the restart —
# with at most one new DNS query from gn1, as an application would make after a failure, in
# case the adapter does not keep peer entries across a crash. Finally it stops cleanly.
#
#   cloud 10.77.0.10 ─┐
#   alice 10.77.0.21 ─┼─ inet (br0)
#   adp1  wan0 10.77.0.40
#         lan0 ── lan (br-lan) ─┬─ gn1  ping -D -i 0.2 alice (through the crash)
#                               └─ gn2, gn3, stranger (idle)
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
e2e_require_tools dig ping python3

RECOVERY_S=30

topo_internet
cloud_up
topo_public alice 0 21 dual
adapter_topology 3
cloud_enrol alice
adapter_enrol
node_start alice
adapter_start
gn_dhcp4 gn1
adapter_wait_gn gn1 active 30
alice4=$(node_vip alice 4)
got=$(gn_resolve gn1 alice A)
e2e_same_ip "$got" "$alice4" || e2e_fail "gn1 resolved alice to '$got', not $alice4"
node_ping gn1 "$alice4"
before=$(adapter_field '[.general_nodes[] | select(.device_id == "gn1") | {mac, virtual_ipv4, virtual_ipv6}][0]' | jq -cS .)
address=$(gn_lease gn1 4 address)
dhcp_events=$(wc -l <"$E2E_RUN_DIR/dhcp/gn1.events")

# One ping every 0.2 s with a timestamp (-D), through the crash and the restart.
pings=$E2E_RUN_DIR/logs/ping-gn1.log
e2e_spawn "$pings" "$(ns gn1)" ping -n -D -i 0.2 -W 1 -c 500 "$alice4"
pinger=$E2E_LAST_PID
replies() { grep -c 'bytes from' "$pings" || true; }
answered() { [ "$(replies)" -ge 5 ]; }
e2e_wait_until 5 "gn1's ping answered" answered

adapter_kill
killed_at=$SECONDS
state_dir=$(adapter_dir)/state
[ -n "$(ls -A "$state_dir")" ] || e2e_fail "the adapter left nothing in its state directory $state_dir"
sleep 2
at_restart=$(replies)
adapter_start
restarted_at=$SECONDS
adapter_wait_gn gn1 active 20
after=$(adapter_field '[.general_nodes[] | select(.device_id == "gn1") | {mac, virtual_ipv4, virtual_ipv6}][0]' | jq -cS .)
[ "$after" = "$before" ] || e2e_fail "after the restart the adapter lists gn1 as $after, before $before"

resumed() { [ "$(replies)" -ge "$((at_restart + 3))" ]; }
deadline=$((restarted_at + RECOVERY_S))
how="without a new DNS query"
while ! resumed; do
    if [ "$SECONDS" -ge $((restarted_at + 10)) ] && [ "$how" = "without a new DNS query" ]; then
        how="after a new DNS query"
        got=$(gn_resolve gn1 alice A "$((deadline - SECONDS))")
        e2e_same_ip "$got" "$alice4" || e2e_fail "after the restart gn1 resolved alice to '$got'"
        continue
    fi
    e2e_alive "$pinger" || e2e_fail "gn1's ping ended before replies resumed"
    [ "$SECONDS" -lt "$deadline" ] ||
        e2e_fail "gn1's ping got no replies again within ${RECOVERY_S}s of the restart ($(replies) replies in all, $at_restart before the restart)"
    sleep 0.2
done
e2e_log "gn1's ping resumed $((SECONDS - restarted_at))s after the restart ($((SECONDS - killed_at))s after the kill), $how"
e2e_stop_pid "$pinger" 5 || true
e2e_log "ping outage: $(awk -F'[][]' '/bytes from/ { t = $2; if (p != "" && t - p > gap) gap = t - p; p = t } END { printf "%.1f s longest gap between replies", gap }' "$pings")"

# gn1 never asked for an address again and still has the one it had.
[ "$(wc -l <"$E2E_RUN_DIR/dhcp/gn1.events")" -eq "$dhcp_events" ] || e2e_fail "gn1 ran DHCP again"
in_ns gn1 ip -4 -o addr show dev eth0 | grep -q " $address/" || e2e_fail "gn1 lost $address"
node_ping gn1 "$alice4"

adapter_stop
node_stop alice
