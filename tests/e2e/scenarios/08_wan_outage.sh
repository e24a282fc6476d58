#!/usr/bin/env bash
# 08_wan_outage: the overlay comes back by itself after a WAN outage. alice and bob are behind
# port-restricted NAPT routers; alice pings bob over the overlay. alice's router then loses its
# uplink for E2E_OUTAGE_S (default 90) seconds: no NMS, no TRS, no peer; when it comes back the
# router has forgotten its NAT mappings, as a power-cycled router does. Within 30 s of the
# uplink coming back the pings must flow again (the path may come back direct or relayed), and
# both daemons must still be healthy.
#
#   cloud 10.77.0.10 ─┐
#                     ├─ inet ─┬─ ra wan 10.77.0.2 (pr) ── alice 192.168.1.2
#                     │        └─ rb wan 10.77.0.3 (pr) ── bob   192.168.2.2
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=../lib/e2e.sh
source "$here/../lib/e2e.sh"

outage_s=${E2E_OUTAGE_S:-90}
recovery_limit_s=30

e2e_init
e2e_require_binary CYPHONICD cyphonicd
e2e_require_tools ping conntrack

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

bob4=$(node_vip bob 4)
got=$(node_resolve alice bob A)
e2e_same_ip "$got" "$bob4" || e2e_fail "alice resolved bob to '$got', not $bob4"
node_ping alice "$bob4"
paths=$E2E_RUN_DIR/logs/paths-alice-bob.txt
node_watch_path alice bob "$paths"
pings=$E2E_RUN_DIR/logs/ping-alice-bob.log
pinger_start alice "$bob4" "$pings"
sleep 3
before=$(date +%s.%N)
[ "$(pinger_replies_between "$pings" 0 "$before")" -gt 5 ] ||
    e2e_fail "the pings did not flow before the outage"

topo_outage ra >/dev/null
sleep "$outage_s"
back=$(date +%s.%N)
topo_outage_end ra restart >/dev/null
during=$(pinger_replies_between "$pings" "$(awk -v b="$back" -v s="$outage_s" 'BEGIN { printf "%.3f", b - s + 2 }')" "$back")
[ "$during" -eq 0 ] || e2e_fail "$during ping replies during the outage: it did not cut alice off"
e2e_log "alice: state $(node_field alice .state), path to bob $(node_peer_field alice bob path) at the end of the outage"

took=$(outage_expect_recovery "$pings" "$back" "$recovery_limit_s" "alice -> bob")
e2e_log "alice -> bob: pings flow again ${took}s after the uplink came back; path $(node_peer_field alice bob path)"
e2e_log "path alice→bob over time (s): $(tr '\n' ' ' <"$paths")"
node_ping alice "$bob4"
node_ping bob "$(node_vip alice 4)"
node_stop alice
node_stop bob
