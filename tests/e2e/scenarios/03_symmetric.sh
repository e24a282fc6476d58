#!/usr/bin/env bash
# 03_symmetric: both nodes behind symmetric NAT (masquerade fully-random). Hole punching cannot
# work (PROTOCOL.md §7.7: S/S stays relayed), so the path stays "relayed" and ping and iperf3
# still work through TRS.
#
#   cloud 10.77.0.10 ─┐
#                     ├─ inet ─┬─ ra wan 10.77.0.2 (sym) ── alice 192.168.1.2
#                     │        └─ rb wan 10.77.0.3 (sym) ── bob   192.168.2.2
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=../lib/e2e.sh
source "$here/../lib/e2e.sh"

e2e_init
e2e_require_binary CYPHONICD cyphonicd
e2e_require_tools dig ping iperf3

topo_internet
cloud_up
topo_router ra sym 2 1
topo_router rb sym 3 2
topo_behind alice ra 2
topo_behind bob rb 2
cloud_enrol alice
cloud_enrol bob
node_start alice
node_start bob

paths=$E2E_RUN_DIR/logs/paths-alice-bob.txt
node_watch_path alice bob "$paths"
relayed_before=$(cloud_metric trs 'cyphonic_trs_forwarded_total{type="capsule"}')
bob4=$(node_vip bob 4)
got=$(node_resolve alice bob A)
resolved_at=$SECONDS
e2e_same_ip "$got" "$bob4" || e2e_fail "alice resolved bob to '$got', not $bob4"
node_ping alice "$bob4"
node_wait_path alice bob relayed 10
iperf_server bob
iperf_run alice "$bob4" 5
# Route optimisation gives up after 5 punches 1 s apart: wait until it has surely tried.
wait_s=$((resolved_at + 7 - SECONDS))
[ "$wait_s" -le 0 ] || sleep "$wait_s"
node_wait_path alice bob relayed 1
node_wait_path bob alice relayed 1
if grep -q ' direct$' "$paths"; then
    e2e_fail "the path went direct between two symmetric NATs: $(tr '\n' ' ' <"$paths")"
fi
relayed=$(($(cloud_metric trs 'cyphonic_trs_forwarded_total{type="capsule"}') - relayed_before))
[ "$relayed" -gt 100 ] || e2e_fail "TRS relayed only $relayed Capsules for ping + 5 s of iperf3"
e2e_log "TRS relayed $relayed Capsules"
