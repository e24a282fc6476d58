#!/usr/bin/env bash
# 06_bad_input: datagrams nobody authentic sent, aimed at bob's UDP data port from a third
# host: random garbage of random lengths, and real datagrams alice sent to bob (captured with
# tcpdump on bob's uplink) replayed verbatim. bob drops and counts every one (status "drops"
# goes up by at least as many), keeps running, and ping over the tunnel keeps working.
#
#   cloud   10.77.0.10 fd77::10 ─┐
#   alice   10.77.0.21 fd77::21 ─┤
#   bob     10.77.0.22 fd77::22 ─┼─ inet (br0)
#   mallory 10.77.0.30 fd77::30 ─┘  (no cyphonicd; sends the garbage and the replays)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=../lib/e2e.sh
source "$here/../lib/e2e.sh"

e2e_init
e2e_require_binary CYPHONICD cyphonicd
e2e_require_tools dig ping tcpdump python3

topo_internet
cloud_up
topo_public alice 0 21 dual
topo_public bob 0 22 dual
topo_public mallory 0 30 dual
cloud_enrol alice
cloud_enrol bob
node_start alice
node_start bob

bob4=$(node_vip bob 4)
got=$(node_resolve alice bob A)
e2e_same_ip "$got" "$bob4" || e2e_fail "alice resolved bob to '$got', not $bob4"
node_ping alice "$bob4"
node_wait_path alice bob direct 10

# Capture what alice sends to bob's data port while she pings him.
pcap=$E2E_RUN_DIR/alice-to-bob.pcap
capture_log=$E2E_RUN_DIR/logs/tcpdump.log
e2e_spawn "$capture_log" "$(ns bob)" tcpdump -i eth0 -n -U -c 4 -w "$pcap" \
    'udp dst port 4800 and (src host 10.77.0.21 or src host fd77::21)'
capture=$E2E_LAST_PID
e2e_wait_until 10 "tcpdump listening" grep -q 'listening on' "$capture_log"
node_ping alice "$bob4" 6
e2e_stop_pid "$capture" 5 || true
captured=$(tcpdump -n -r "$pcap" 2>/dev/null | wc -l)
[ "$captured" -ge 1 ] || e2e_fail "tcpdump captured nothing from alice to bob:4800"
dest=$(tcpdump -n -r "$pcap" 2>/dev/null | head -n 1 | awk '{print $5}')
dest=${dest%:}
if [[ $dest == *:* && $dest == fd77* ]]; then
    target="[fd77::22]:4800"
else
    target="10.77.0.22:4800"
fi
e2e_log "captured $captured datagrams alice → bob ($dest); attacking $target"

drop_map() { node_field bob '.drops' | jq -c . 2>/dev/null || echo '{}'; }
replay_drops() {
    node_status bob | jq --arg p "alice.$E2E_DOMAIN" \
        '([.drops // {} | to_entries[] | select(.key | test("replay|duplicate|too_old")) | .value] | add // 0)
         + ([.peers[]? | select(.fqdn == $p or .fqdn == ($p + ".")) | .drops // 0] | add // 0)'
}
map_before=$(drop_map)
total_before=$(node_drops bob)
replay_before=$(replay_drops)

tool=$E2E_LIB_DIR/udp_tool.py
garbage=$(in_ns mallory python3 "$tool" garbage "$target" 200)
replayed=$(in_ns mallory python3 "$tool" replay "$pcap" "$target" --times 3)
e2e_log "mallory sent $garbage garbage and $replayed replayed datagrams"
sleep 1

e2e_alive "${E2E_NODE_PID[bob]}" || e2e_fail "cyphonicd bob died from the bad input"
map_after=$(drop_map)
total_delta=$(($(node_drops bob) - total_before))
replay_delta=$(($(replay_drops) - replay_before))
e2e_log "bob's drops before: $map_before"
e2e_log "bob's drops after:  $map_after"
[ "$total_delta" -ge "$((garbage + replayed))" ] ||
    e2e_fail "bob counted $total_delta drops for $garbage garbage + $replayed replayed datagrams"
[ "$replay_delta" -ge "$replayed" ] ||
    e2e_fail "replays: bob counted $replay_delta as replayed/too old (reasons matching replay|duplicate|too_old, or alice's peer drops), $replayed were sent"

node_ping alice "$bob4"
node_ping bob "$(node_vip alice 4)"
node_stop bob
