#!/usr/bin/env bash
# 02_napt: both nodes behind different port-restricted-cone NAPT routers. NMS relays the route
# through TRS first (PROTOCOL.md §7.4); the first packets go through TRS, then route
# optimisation (§7.7) makes the path direct while an iperf3 transfer runs, and the transfer
# completes without error.
#
#   cloud 10.77.0.10 ─┐
#                     ├─ inet ─┬─ ra wan 10.77.0.2 (pr) ── alice 192.168.1.2
#                     │        └─ rb wan 10.77.0.3 (pr) ── bob   192.168.2.2
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=../lib/e2e.sh
source "$here/../lib/e2e.sh"

e2e_init
e2e_require_binary CYPHONICD cyphonicd
e2e_require_tools dig ping iperf3

topo_internet
cloud_up
topo_router ra pr 2 1
topo_router rb pr 3 2
topo_behind alice ra 2
topo_behind bob rb 2
cloud_enrol alice
cloud_enrol bob
node_start alice
node_start bob
for n in alice bob; do
    [ "$(node_field "$n" .nat)" = true ] || e2e_fail "$n is behind NAT but its status says nat=$(node_field "$n" .nat)"
done

# Punching between the routers would succeed within a millisecond of the tunnel coming up
# (PROTOCOL.md §7.7 needs one round trip), before any packet could use the relay. So the
# internet first carries no UDP between the two routers: the route stays relayed while the
# transfer starts, then the block is lifted and one of the initiator's later punches (5, 1 s
# apart) gets through.
topo_block 10.77.0.2 10.77.0.3
capsules() { cloud_metric trs 'cyphonic_trs_forwarded_total{type="capsule"}'; }
relayed_before=$(capsules)
paths=$E2E_RUN_DIR/logs/paths-alice-bob.txt
node_watch_path alice bob "$paths"
iperf_server bob
bob4=$(node_vip bob 4)
got=$(node_resolve alice bob A)
e2e_same_ip "$got" "$bob4" || e2e_fail "alice resolved bob to '$got', not $bob4"
iperf_client_start alice "$bob4" 20
iperf=$E2E_LAST_PID

node_wait_path alice bob relayed 5
# Lift the block soon: the initiator punches for about 4 s after the tunnel came up.
relayed_more() { [ "$(capsules)" -gt "$((relayed_before + 10))" ]; }
e2e_wait_until 3 "10 Capsules of the transfer relayed by TRS" relayed_more
e2e_log "relayed: TRS forwarded $(($(capsules) - relayed_before)) Capsules"
punches=$(topo_unblock)
[ "$punches" -gt 0 ] || e2e_fail "no UDP between the routers was blocked: nobody tried to punch"

node_wait_path alice bob direct 10
e2e_alive "$iperf" || e2e_fail "the path became direct only after the transfer had ended"
e2e_log "path alice→bob over time (s): $(tr '\n' ' ' <"$paths")"
at_switch=$(capsules)
iperf_client_check alice "$iperf"
node_wait_path bob alice direct 10
after=$(($(capsules) - at_switch))
# A few Capsules may still be in flight through TRS at the switch; the bulk must not be.
[ "$after" -lt 1000 ] || e2e_fail "TRS still relayed $after Capsules after the path went direct"
node_ping alice "$bob4"
