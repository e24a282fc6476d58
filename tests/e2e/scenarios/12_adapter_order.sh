#!/usr/bin/env bash
# 12_adapter_order: the adapter's worker pipeline keeps each flow in order (PROTOCOL.md §7.10
# step 8, STYLE.md §2 "Adapter"). With data.workers 4, gn1 sends 20000 sequence-numbered UDP
# datagrams to alice as fast as it can while gn2 and gn3 load the adapter with iperf3 TCP
# transfers to alice; alice's receiver sees no datagram after one with a higher sequence number
# (loss is allowed, reordering is not). Then the adapter is restarted with
# `--set data.staging=false`, which releases every packet as soon as its worker is done: the same
# round must now show reordering (up to 3 rounds), proving that the first result came from the
# staging stage and not from a pipeline that never runs packets in parallel.
#
#   cloud 10.77.0.10 ─┐
#   alice 10.77.0.21 ─┼─ inet (br0)       receiver (udp_tool.py sink :9000), iperf3 :5202 :5203
#   adp1  wan0 10.77.0.40
#         lan0 ── lan (br-lan) ─┬─ gn1  stream of sequence numbers
#                               ├─ gn2  iperf3 load
#                               └─ gn3  iperf3 load
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
e2e_require_tools dig iperf3 python3

STREAM_COUNT=20000
STREAM_SIZE=1000
tool=$E2E_LIB_DIR/udp_tool.py

topo_internet
cloud_up
topo_public alice 0 21 dual
adapter_topology 3
cloud_enrol alice
adapter_enrol
# Per-packet debug lines would make the pipeline wait for the log, not for the workers.
E2E_ADAPTER_LOG_LEVEL=info
E2E_ADAPTER_WORKERS=4
node_start alice
adapter_start
for gn in gn1 gn2 gn3; do
    gn_dhcp4 "$gn"
    adapter_wait_gn "$gn" active 30
done
alice4=$(node_vip alice 4)

# The kernel itself may reorder packets between a sender and a receiver: veth and TUN hand
# them to the backlog of the CPU the writing thread runs on, and a thread that moves to the
# other CPU can overtake its own packets still queued on the first one. Only the adapter's
# reordering is under test, so every thread that writes gn1's stream into the kernel on its
# way runs on CPU 0: the sender, the adapter's staging thread (cy-stage, which sends the
# Capsules) and alice's cyphonicd (which writes them into its TUN). The workers stay free.
pin_stream_path() {
    local task
    taskset -a -p 1 "${E2E_NODE_PID[alice]}" >/dev/null ||
        e2e_fail "taskset: cannot pin alice's cyphonicd"
    for task in /proc/"$E2E_ADAPTER_PID"/task/*; do
        if [ "$(cat "$task/comm" 2>/dev/null)" = cy-stage ]; then
            taskset -p 1 "${task##*/}" >/dev/null ||
                e2e_fail "taskset: cannot pin the adapter's staging thread"
            return 0
        fi
    done
    e2e_fail "the adapter has no thread named cy-stage"
}

# resolve_all: every general node routes to alice again (after a restart the adapter has no
# peer entries; a DNS query makes one).
resolve_all() {
    local gn got
    for gn in gn1 gn2 gn3; do
        got=$(gn_resolve "$gn" alice A)
        e2e_same_ip "$got" "$alice4" || e2e_fail "$gn resolved alice to '$got', not $alice4"
    done
}

# order_round LABEL: one stream from gn1 under iperf3 load from gn2 and gn3; sets ROUND_JSON
# to the receiver's summary.
order_round() {
    local label=$1 load2 load3 sink sent log deadline
    gn_iperf_server alice 5202
    gn_iperf_server alice 5203
    gn_iperf_start gn2 "$alice4" 5202 8
    load2=$E2E_LAST_PID
    gn_iperf_start gn3 "$alice4" 5203 8
    load3=$E2E_LAST_PID
    sleep 1
    log=$E2E_RUN_DIR/logs/sink-$label.log
    : >"$log"
    e2e_spawn "$log" "$(ns alice)" python3 "$tool" sink 0.0.0.0 9000 --seconds 30 --idle 2
    sink=$E2E_LAST_PID
    e2e_wait_until 10 "the receiver on alice" grep -q '^ready' "$log"
    # gn1 resolves alice's address (ARP) before the stream: while a neighbour entry is being
    # resolved the kernel holds packets and releases them as the answer arrives, racing the
    # sender's next packets; that reordering would be gn1's, not the adapter's.
    in_ns gn1 ping -c 2 -i 0.2 -W 2 "$alice4" >/dev/null ||
        e2e_fail "$label: gn1 cannot ping alice before the stream"
    sent=$(in_ns gn1 taskset -c 0 python3 "$tool" stream "$alice4:9000" "$STREAM_COUNT" \
        --size "$STREAM_SIZE")
    deadline=$((SECONDS + 40))
    while e2e_alive "$sink" && [ "$SECONDS" -lt "$deadline" ]; do
        sleep 0.2
    done
    e2e_stop_pid "$sink" 5 || true
    ROUND_JSON=$(grep '^{' "$log" | tail -n 1)
    [ -n "$ROUND_JSON" ] || e2e_fail "$label: the receiver on alice printed no summary: $(cat "$log")"
    iperf_client_check gn2 "$load2"
    iperf_client_check gn3 "$load3"
    e2e_log "$label: gn1 sent $sent datagrams, alice got $ROUND_JSON"
}

resolve_all
pin_stream_path
order_round staged
received=$(jq -r .received <<<"$ROUND_JSON")
reordered=$(jq -r .reordered <<<"$ROUND_JSON")
[ "$received" -ge 1000 ] ||
    e2e_fail "staging on: only $received of $STREAM_COUNT datagrams reached alice; too few to judge the order"
[ "$reordered" -eq 0 ] ||
    e2e_fail "staging on, 4 workers: $reordered datagrams reached alice out of order ($ROUND_JSON)"
e2e_log "staging on: $received datagrams in order, drops $(adapter_drop_map)"

adapter_stop
E2E_ADAPTER_SET=(data.staging=false)
adapter_start
for gn in gn1 gn2 gn3; do
    adapter_wait_gn "$gn" active 30
done
resolve_all
pin_stream_path
shown=0
for attempt in 1 2 3; do
    order_round "unstaged-$attempt"
    reordered=$(jq -r .reordered <<<"$ROUND_JSON")
    if [ "$reordered" -gt 0 ]; then
        shown=1
        break
    fi
done
[ "$shown" -eq 1 ] ||
    e2e_fail "staging off (--set data.staging=false), 4 workers: 3 rounds of $STREAM_COUNT datagrams under load showed no reordering at all, so the in-order result above proves nothing: either the pipeline does not run one flow's packets on several workers at once, data.staging=false does not switch the staging stage off, or data.workers is not applied"
e2e_log "staging off: $reordered datagrams out of order in round $attempt, as expected without the staging stage"

adapter_stop
node_stop alice
