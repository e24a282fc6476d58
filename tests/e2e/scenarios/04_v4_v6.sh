#!/usr/bin/env bash
# 04_v4_v6: an IPv4-only node and an IPv6-only node have no common family, so NMS relays
# through TRS, which bridges the families (PROTOCOL.md §7.4): alice reaches bob's virtual IPv4
# and IPv6, bob reaches alice's virtual IPv4, each end sending to TRS in its own family.
#
#   cloud 10.77.0.10 fd77::10 ─┐
#   alice 10.77.0.21 (v4 only) ─┼─ inet (br0)
#   bob   fd77::22   (v6 only) ─┘   bob logs in to the AS at fd77::10
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=../lib/e2e.sh
source "$here/../lib/e2e.sh"

e2e_init
e2e_require_binary CYPHONICD cyphonicd
e2e_require_tools dig ping

topo_internet
cloud_up
topo_public alice 0 21 v4
topo_public bob 0 22 v6
cloud_enrol alice
cloud_enrol bob
node_start alice "$E2E_CLOUD_V4"
node_start bob "$E2E_CLOUD_V6"

relayed_before=$(cloud_metric trs 'cyphonic_trs_forwarded_total{type="capsule"}')
bob4=$(node_vip bob 4)
got=$(node_resolve alice bob A)
e2e_same_ip "$got" "$bob4" || e2e_fail "alice resolved bob to '$got', not $bob4"
node_ping alice "$bob4"
node_wait_path alice bob relayed 5
endpoint=$(node_peer_field alice bob endpoint)
[[ $endpoint == 10.77.0.10:* ]] ||
    e2e_fail "alice (IPv4 only) should send to TRS at 10.77.0.10, status says '$endpoint'"
node_ping alice "$(node_vip bob 6)"

alice4=$(node_vip alice 4)
got=$(node_resolve bob alice A)
e2e_same_ip "$got" "$alice4" || e2e_fail "bob resolved alice to '$got', not $alice4"
node_ping bob "$alice4"
endpoint=$(node_peer_field bob alice endpoint)
[[ $endpoint == *fd77::10* ]] ||
    e2e_fail "bob (IPv6 only) should send to TRS at fd77::10, status says '$endpoint'"

relayed=$(($(cloud_metric trs 'cyphonic_trs_forwarded_total{type="capsule"}') - relayed_before))
[ "$relayed" -ge 8 ] || e2e_fail "TRS relayed only $relayed Capsules for the pings"
e2e_log "TRS relayed $relayed Capsules between IPv4 and IPv6"
