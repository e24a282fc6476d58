# shellcheck shell=bash
# cyphonicd in a node namespace (sourced after cloud.sh): its configuration, start and stop,
# `cyphonicd status --json`, and the overlay checks the scenarios make (resolve a peer's FQDN
# at the node's own resolver, ping, iperf3).
#
# Per node NAME (a namespace of the topology, enrolled with the same DeviceID):
#   $E2E_RUN_DIR/nodes/NAME.yaml   configuration      logs/cyphonicd-NAME.log  its stderr
#   $E2E_RUN_DIR/nodes/NAME.sock   status socket (a path per node: all namespaces share /run)

declare -A E2E_NODE_PID=()
declare -A E2E_IPERF_SECONDS=() # iperf3 client PID -> its test time

node_dir() {
    printf '%s/nodes\n' "$E2E_RUN_DIR"
}

# node_config NAME [AS_HOST] [cert]: writes the configuration of node NAME. AS_HOST defaults to
# the cloud's IPv4 address (an IPv6-only node passes $E2E_CLOUD_V6); `cert` logs in with the
# client certificate instead of the password (enrol with --cert-login).
node_config() {
    local name=$1 as_host=${2:-$E2E_CLOUD_V4} login=${3:-password}
    local dir
    dir=$(node_dir)
    mkdir -p "$dir"
    local auth
    if [ "$login" = cert ]; then
        auth="  client_cert: $E2E_CLOUD_DIR/certs/client-$name.crt
  client_key: $E2E_CLOUD_DIR/certs/client-$name.key"
    else
        auth="  password_file: $E2E_CLOUD_DIR/devices/$name.pass"
    fi
    # systemd_resolved: off — the namespaces share the host's D-Bus and /etc, and a test
    # must never touch the host's DNS set-up. The upstream resolver is the internet router,
    # where nothing listens: the scenarios only ask for overlay names.
    cat >"$dir/$name.yaml" <<EOF
as:
  host: "$as_host"
  port: 8443
  ca_file: $E2E_CLOUD_DIR/certs/ca.crt
auth:
  device_id: $name
$auth
overlay:
  domain: $E2E_DOMAIN
tun:
  name: cyph0
data:
  port: 4800
resolver:
  enabled: true
  port: 53
  upstream: ["10.77.0.1"]
  systemd_resolved: "off"
status:
  socket: $dir/$name.sock
log:
  level: ${E2E_NODE_LOG_LEVEL:-debug}
EOF
}

# node_start NAME [AS_HOST] [cert]: writes the configuration (unless node_config already did)
# and starts cyphonicd in namespace NAME; waits until its status says "registered".
node_start() {
    local name=$1
    e2e_require_binary CYPHONICD cyphonicd
    [ -f "$(node_dir)/$name.yaml" ] || node_config "$@"
    local log=$E2E_RUN_DIR/logs/cyphonicd-$name.log
    e2e_spawn "$log" "$(ns "$name")" "$CYPHONICD" run -c "$(node_dir)/$name.yaml"
    E2E_NODE_PID[$name]=$E2E_LAST_PID
    e2e_track_daemon "$E2E_LAST_PID" "cyphonicd-$name"
    e2e_log "cyphonicd $name started (pid $E2E_LAST_PID)"
    node_wait_registered "$name" 30
}

node_wait_registered() {
    local name=$1 timeout_s=${2:-30}
    local deadline=$((SECONDS + timeout_s)) state=""
    while :; do
        state=$(node_status "$name" 2>/dev/null | jq -r '.state // empty' 2>/dev/null || true)
        [ "$state" = registered ] && break
        if ! e2e_alive "${E2E_NODE_PID[$name]}"; then
            e2e_fail "cyphonicd $name exited (see cyphonicd-$name.log below)"
        fi
        if [ "$SECONDS" -ge "$deadline" ]; then
            e2e_fail "cyphonicd $name not registered after ${timeout_s}s (state '${state:-no answer}')"
        fi
        sleep 0.2
    done
    e2e_log "cyphonicd $name registered: $(node_status "$name" |
        jq -c '{fqdn, virtual_ipv4, virtual_ipv6, nat}')"
}

# node_stop NAME: SIGTERM; fails unless cyphonicd exits 0 within 10 s and has removed its TUN.
node_stop() {
    local name=$1 status=0
    local pid=${E2E_NODE_PID[$name]:-}
    [ -n "$pid" ] || e2e_fail "node_stop: cyphonicd $name was not started"
    e2e_untrack_daemon "$pid"
    e2e_stop_pid "$pid" 10 || status=$?
    unset "E2E_NODE_PID[$name]"
    [ "$status" -eq 0 ] || e2e_fail "cyphonicd $name exited with status $status after SIGTERM"
    if in_ns "$name" ip link show cyph0 >/dev/null 2>&1; then
        e2e_fail "cyphonicd $name exited but left its TUN cyph0 behind"
    fi
    e2e_log "cyphonicd $name stopped cleanly"
}

# node_status NAME: `cyphonicd status --json` of node NAME (run in its namespace).
node_status() {
    in_ns "$1" "$CYPHONICD" status --json --socket "$(node_dir)/$1.sock"
}

# node_field NAME JQ_FILTER: one value of the node's status ("" when absent or no answer).
node_field() {
    node_status "$1" 2>/dev/null | jq -r "($2) | select(. != null)" 2>/dev/null || true
}

# node_peer_field NAME PEER FIELD: FIELD of NAME's entry for PEER.<domain>; of the one whose
# state is "up" when there are several (a path being replaced, or one per role).
node_peer_field() {
    local fqdn=$2.$E2E_DOMAIN
    node_field "$1" "[.peers[]? | select(.fqdn == \"$fqdn\" or .fqdn == \"$fqdn.\")]
        | (map(select(.state == \"up\")) + .) | .[0].$3"
}

# node_wait_path NAME PEER PATH [SECONDS]: waits until NAME's status shows PATH (direct or
# relayed) for PEER; fails with the peer entry as last seen.
node_wait_path() {
    local name=$1 peer=$2 want=$3 timeout_s=${4:-20}
    local deadline=$((SECONDS + timeout_s)) path
    while :; do
        path=$(node_peer_field "$name" "$peer" path)
        [ "$path" = "$want" ] && return 0
        if [ "$SECONDS" -ge "$deadline" ]; then
            e2e_fail "node $name: path to $peer is '${path:-no peer entry}', not '$want' after ${timeout_s}s; peers: $(node_field "$name" '.peers' | jq -c . 2>/dev/null)"
        fi
        sleep 0.2
    done
}

# node_watch_path NAME PEER FILE: in the background, appends "<seconds> <path>" to FILE each
# time NAME's path to PEER changes (polled every 0.1 s), so a short-lived state is not missed
# between the scenario's own checks. Stopped at exit.
node_watch_path() {
    local name=$1 peer=$2 file=$3
    : >"$file"
    (
        last=""
        while :; do
            path=$(node_peer_field "$name" "$peer" path)
            path=${path:-none}
            if [ "$path" != "$last" ]; then
                printf '%s %s\n' "$SECONDS" "$path" >>"$file"
                last=$path
            fi
            sleep 0.1
        done
    ) &
    e2e_track_pid $!
}

# node_drops NAME: the sum of the node's drop counters (global and per peer).
node_drops() {
    node_status "$1" | jq '([.drops // {} | .[]] | add // 0) + ([.peers[]?.drops // 0] | add // 0)'
}

# node_vip NAME 4|6: the node's own virtual address from its status.
node_vip() {
    node_field "$1" ".virtual_ipv$2"
}

# node_resolve NAME PEER A|AAAA [SECONDS]: asks NAME's resolver (on its virtual IPv4) for
# PEER.<domain> until an answer comes, then waits until NAME's status shows the tunnel to PEER
# "up"; prints the address. The first query makes the daemon select a route; the answer comes
# with the route, before the tunnel (PROTOCOL.md §7.3 step 7), and packets sent in between
# may be dropped (a relayed Tunnel Request that beats the responder to the TRS is lost and
# retransmitted 0.5 s later), so the checks that follow must not start earlier.
node_resolve() {
    local name=$1 peer=$2 type=$3 timeout_s=${4:-30}
    local vip answer="" deadline
    vip=$(node_vip "$name" 4)
    [ -n "$vip" ] || e2e_fail "node $name: status has no virtual_ipv4"
    deadline=$((SECONDS + timeout_s))
    while :; do
        answer=$(in_ns "$name" dig "@$vip" "$peer.$E2E_DOMAIN" "$type" +short +time=3 +tries=1 \
            2>/dev/null | grep -v '^;' | head -n 1 || true)
        [ -n "$answer" ] && break
        if [ "$SECONDS" -ge "$deadline" ]; then
            e2e_fail "node $name: dig @$vip $peer.$E2E_DOMAIN $type gave no answer in ${timeout_s}s"
        fi
        sleep 0.5
    done
    while [ "$(node_peer_field "$name" "$peer" state)" != up ]; do
        if [ "$SECONDS" -ge "$deadline" ]; then
            e2e_fail "node $name: $peer resolved to $answer but no tunnel up in ${timeout_s}s; peers: $(node_field "$name" '.peers' | jq -c . 2>/dev/null)"
        fi
        sleep 0.1
    done
    printf '%s\n' "$answer"
}

# node_ping NAME ADDRESS [COUNT]: ping over the overlay; fails the scenario when more than one
# of COUNT (default 5) replies is missing (the first may be lost while the tunnel comes up).
node_ping() {
    local name=$1 address=$2 count=${3:-5} out received
    local cmd=(ping -n -c "$count" -i 0.2 -W 2)
    [[ $address == *:* ]] && cmd=(ping -6 -n -c "$count" -i 0.2 -W 2)
    out=$(in_ns "$name" "${cmd[@]}" "$address" 2>&1 || true)
    received=$(printf '%s\n' "$out" | sed -n 's/.* \([0-9]*\) received.*/\1/p')
    if [ -z "$received" ] || [ "$received" -lt $((count - 1)) ]; then
        e2e_fail "node $name: ping $address: ${received:-0}/$count replies: $(printf '%s' "$out" | tail -n 2)"
    fi
    e2e_log "node $name: ping $address: $received/$count replies"
}

# iperf_server NAME: an iperf3 server in NAME for one test (port 5201); PID in E2E_LAST_PID.
iperf_server() {
    e2e_spawn "$E2E_RUN_DIR/logs/iperf3-server-$1.log" "$(ns "$1")" iperf3 -s -1 -p 5201
    local pid=$E2E_LAST_PID
    e2e_wait_until 10 "iperf3 server in $1" in_ns "$1" sh -c 'ss -ltn | grep -q ":5201 "'
    E2E_LAST_PID=$pid
}

# iperf_client_start NAME ADDRESS SECONDS: a TCP transfer from NAME to ADDRESS in the
# background, JSON result in logs/iperf3-NAME.json; PID in E2E_LAST_PID.
iperf_client_start() {
    local name=$1 address=$2 seconds=$3
    local json=$E2E_RUN_DIR/logs/iperf3-$name.json
    : >"$json"
    e2e_spawn "$E2E_RUN_DIR/logs/iperf3-$name.log" "$(ns "$name")" iperf3 -c "$address" \
        -p 5201 -t "$seconds" --connect-timeout 5000 -J --logfile "$json"
    E2E_IPERF_SECONDS[$E2E_LAST_PID]=$seconds
}

# iperf_client_check NAME PID: waits for the client started by iperf_client_start and fails
# the scenario unless it exited 0 having moved data. An iperf3 client whose connection died
# waits for the server's results forever, so it gets its test time plus 30 s.
iperf_client_check() {
    local name=$1 pid=$2 status=0
    local json=$E2E_RUN_DIR/logs/iperf3-$name.json
    local deadline=$((SECONDS + ${E2E_IPERF_SECONDS[$pid]:-60} + 30))
    while e2e_alive "$pid" && [ "$SECONDS" -lt "$deadline" ]; do
        sleep 0.5
    done
    if e2e_alive "$pid"; then
        e2e_stop_pid "$pid" 5 || true
        e2e_fail "iperf3 from $name hung: no result 30 s after its test time (the overlay stopped carrying the connection)"
    fi
    wait "$pid" || status=$?
    local error received
    error=$(jq -r '.error // empty' "$json" 2>/dev/null || echo "unreadable JSON")
    received=$(jq -r '.end.sum_received.bytes // 0' "$json" 2>/dev/null || echo 0)
    if [ "$status" -ne 0 ] || [ -n "$error" ] || [ "${received%.*}" -le 0 ]; then
        e2e_fail "iperf3 from $name: exit $status, error '${error}', ${received} bytes received"
    fi
    # A transfer that crawls (every segment retransmitted) is a failure too, not a result.
    local mbit min=${E2E_IPERF_MIN_MBIT:-5}
    mbit=$(jq -r '.end.sum_received.bits_per_second / 1e6 | floor' "$json")
    if [ "$mbit" -lt "$min" ]; then
        e2e_fail "iperf3 from $name: only $mbit Mbit/s (at least $min expected): $(jq -r '"\(.end.sum_received.bytes) bytes, \(.end.sum_sent.retransmits // 0) retransmits"' "$json")"
    fi
    e2e_log "iperf3 from $name: $(jq -r '"\(.end.sum_received.bytes) bytes in \(.end.sum_received.seconds | floor) s, \(.end.sum_received.bits_per_second / 1e6 | floor) Mbit/s, \(.end.sum_sent.retransmits // 0) retransmits"' "$json")"
}

# iperf_longest_stall NAME: the longest run of consecutive seconds (intervals of the finished
# client started by iperf_client_start) in which the transfer moved no data.
iperf_longest_stall() {
    jq '[.intervals[].sum.bytes] | reduce .[] as $b ({run: 0, max: 0};
        if $b == 0 then .run += 1 | .max = ([.max, .run] | max) else .run = 0 end) | .max' \
        "$E2E_RUN_DIR/logs/iperf3-$1.json"
}

# iperf_run NAME ADDRESS SECONDS: a complete transfer in the foreground.
iperf_run() {
    iperf_client_start "$@"
    iperf_client_check "$1" "$E2E_LAST_PID"
}

# pinger_start NAME ADDRESS LOG: a background ping every 0.2 s (at most 2000, about 400 s) with
# a timestamp on each line, for measuring gaps; stopped at exit.
pinger_start() {
    local name=$1 address=$2 log=$3
    local cmd=(ping -n -D -i 0.2 -W 1 -c 2000)
    [[ $address == *:* ]] && cmd=(ping -6 -n -D -i 0.2 -W 1 -c 2000)
    e2e_spawn "$log" "$(ns "$name")" "${cmd[@]}" "$address"
}

# pinger_first_reply_after LOG EPOCH: seconds (one decimal) from EPOCH (date +%s.%N) to the
# first reply in LOG at or after it; empty when none came yet.
pinger_first_reply_after() {
    awk -v t="$2" -F'[][]' '/bytes from/ && $2 + 0 >= t { printf "%.1f\n", $2 - t; exit }' "$1"
}

# pinger_replies_between LOG FROM TO: replies in LOG stamped between the two epochs.
pinger_replies_between() {
    awk -v a="$2" -v b="$3" -F'[][]' '/bytes from/ && $2 + 0 >= a && $2 + 0 < b { n++ }
        END { print n + 0 }' "$1"
}

# outage_expect_recovery PINGER_LOG EPOCH LIMIT_S WHAT: waits up to LIMIT_S after EPOCH for a
# reply in PINGER_LOG; fails naming WHAT otherwise; prints the seconds it took.
outage_expect_recovery() {
    local log=$1 epoch=$2 limit=$3 what=$4 took
    local deadline=$((SECONDS + limit + 1))
    while :; do
        took=$(pinger_first_reply_after "$log" "$epoch")
        [ -n "$took" ] && break
        if [ "$SECONDS" -ge "$deadline" ]; then
            e2e_fail "$what: no ping reply within ${limit}s of the underlay coming back"
        fi
        sleep 0.2
    done
    if awk -v a="$took" -v b="$limit" 'BEGIN { exit !(a > b) }'; then
        e2e_fail "$what: the first ping reply came ${took}s after the underlay came back (limit ${limit}s)"
    fi
    printf '%s\n' "$took"
}
