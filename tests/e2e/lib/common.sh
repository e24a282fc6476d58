# shellcheck shell=bash
# Shared by every e2e scenario (sourced, never run): messages, failure, waiting, the run
# directory, and the bookkeeping that lets the EXIT trap undo exactly what this run did —
# kill the PIDs it started, run its cleanup hooks (PostgreSQL), delete its namespaces.
#
# A run owns /tmp/cyphonic-e2e/<tag>/ (logs, configs, certificates, database) and every
# namespace named cye<tag>-*. If a run is killed without its trap (ctest's timeout sends
# SIGKILL), the next run finds the owner PID dead and undoes it from that directory
# (e2e_reap_stale).

E2E_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
E2E_REPO_ROOT=$(cd "$E2E_LIB_DIR/../../.." && pwd)
E2E_STATE_ROOT=/tmp/cyphonic-e2e
E2E_SKIP=77 # ctest SKIP_RETURN_CODE: not root

E2E_TAG=""
E2E_PREFIX=""
E2E_RUN_DIR=""
E2E_LAST_PID=""
E2E_PIDS=()
E2E_DAEMON_PIDS=()           # services and daemons, in start order
declare -A E2E_DAEMON_NAME=() # PID → name, until the scenario stops or kills it itself
E2E_HOOKS=()
E2E_NAMESPACES=()

e2e_log() {
    printf '[e2e %(%H:%M:%S)T] %s\n' -1 "$*" >&2
}

# Fails the scenario: the message goes to stderr, the EXIT trap cleans up and dumps the logs.
e2e_fail() {
    printf '[e2e %(%H:%M:%S)T] FAIL: %s\n' -1 "$*" >&2
    exit 1
}

e2e_skip() {
    printf '[e2e] SKIP: %s\n' "$*" >&2
    exit "$E2E_SKIP"
}

# e2e_require_tools TOOL...: fails naming every missing tool (scripts/install-deps.sh installs
# them all).
e2e_require_tools() {
    local missing=() tool
    for tool in "$@"; do
        command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        e2e_fail "missing tools: ${missing[*]} (scripts/install-deps.sh installs them)"
    fi
}

# e2e_require_binary VAR DESCRIPTION: fails unless $VAR names an executable file.
e2e_require_binary() {
    local var=$1 what=$2
    local path=${!var:-}
    if [ -z "$path" ]; then
        e2e_fail "$what missing: set $var (ctest passes it) or CYPHONIC_BUILD_DIR"
    fi
    if [ ! -x "$path" ]; then
        e2e_fail "$what missing: $var=$path is not an executable file (build it first)"
    fi
}

# e2e_wait_until SECONDS DESCRIPTION COMMAND...: runs COMMAND every 0.2 s until it succeeds;
# fails the scenario naming DESCRIPTION after SECONDS.
e2e_wait_until() {
    local timeout_s=$1 what=$2
    shift 2
    local deadline=$((SECONDS + timeout_s))
    until "$@"; do
        if [ "$SECONDS" -ge "$deadline" ]; then
            e2e_fail "timed out after ${timeout_s}s waiting for: $what"
        fi
        sleep 0.2
    done
}

# A 4-hex-digit tag no namespace uses yet: short, so cye<tag>-<name> stays readable and the
# interface names derived from names stay within IFNAMSIZ (15).
e2e_new_tag() {
    local tag existing
    existing=$(ip netns list)
    for _ in 1 2 3 4 5 6 7 8; do
        tag=$(od -An -N2 -tx2 /dev/urandom | tr -d ' ')
        if ! grep -q "^cye${tag}-" <<<"$existing" && [ ! -e "$E2E_STATE_ROOT/$tag" ]; then
            printf '%s\n' "$tag"
            return 0
        fi
    done
    e2e_fail "no free run tag after 8 attempts"
}

# Records a namespace for deletion at exit (and for a later reap if this run is killed).
e2e_track_namespace() {
    E2E_NAMESPACES+=("$1")
    printf '%s\n' "$1" >>"$E2E_RUN_DIR/namespaces"
}

# e2e_add_hook FUNCTION [ARGS...]: runs at exit, after the tracked PIDs are gone and before the
# namespaces are deleted; hooks run in reverse order. The words are also written to
# $E2E_RUN_DIR/hooks so that e2e_reap_stale can replay them (arguments must not contain spaces).
e2e_add_hook() {
    E2E_HOOKS+=("$*")
    printf '%s\n' "$*" >>"$E2E_RUN_DIR/hooks"
}

# e2e_track_pid PID: a background job of this shell, killed at exit like spawned commands.
e2e_track_pid() {
    E2E_PIDS+=("$1")
    printf '%s %s\n' "$1" "$(e2e_start_time "$1")" >>"$E2E_RUN_DIR/pids"
}

# e2e_same_ip A B: true when A and B are the same address (IPv6 text forms differ).
# e2e_track_daemon PID NAME: a service or daemon of this run. Unless the scenario settles it
# itself (e2e_untrack_daemon after stopping or killing it), the EXIT trap checks that it is
# still alive and exits 0 on SIGTERM, and fails the scenario otherwise: a crash after the last
# assertion is still a failure.
e2e_track_daemon() {
    E2E_DAEMON_PIDS+=("$1")
    E2E_DAEMON_NAME[$1]=$2
}

e2e_untrack_daemon() {
    unset "E2E_DAEMON_NAME[$1]"
}

# e2e_check_daemons: stops every tracked daemon, newest first; returns 1 (after logging each
# one) if any had died or did not exit 0 on SIGTERM within 10 s.
e2e_check_daemons() {
    local i pid name status bad=0
    for ((i = ${#E2E_DAEMON_PIDS[@]} - 1; i >= 0; i--)); do
        pid=${E2E_DAEMON_PIDS[$i]}
        name=${E2E_DAEMON_NAME[$pid]:-}
        [ -n "$name" ] || continue
        unset "E2E_DAEMON_NAME[$pid]"
        if ! e2e_alive "$pid" || [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" = Z ]; then
            status=0
            wait "$pid" 2>/dev/null || status=$?
            printf '[e2e %(%H:%M:%S)T] FAIL: %s (pid %s) died before the end of the scenario, status %s\n' \
                -1 "$name" "$pid" "$status" >&2
            bad=1
            continue
        fi
        status=0
        e2e_stop_pid "$pid" 10 || status=$?
        if [ "$status" -ne 0 ]; then
            printf '[e2e %(%H:%M:%S)T] FAIL: %s (pid %s) exited with status %s on SIGTERM\n' \
                -1 "$name" "$pid" "$status" >&2
            bad=1
        fi
    done
    return "$bad"
}

e2e_same_ip() {
    python3 -c 'import ipaddress, sys; sys.exit(ipaddress.ip_address(sys.argv[1]) != ipaddress.ip_address(sys.argv[2]))' "$1" "$2" 2>/dev/null
}

# e2e_spawn LOG NAMESPACE COMMAND...: starts COMMAND in the background inside the namespace
# (full name) with stdout and stderr appended to LOG; its PID is in E2E_LAST_PID and is killed
# at exit. `ip netns exec` execs the command, so the PID is the command's own.
e2e_spawn() {
    local log=$1 netns=$2
    shift 2
    ip netns exec "$netns" "$@" >>"$log" 2>&1 &
    E2E_LAST_PID=$!
    e2e_track_pid "$E2E_LAST_PID"
}

# The start time of a process (field 22 of /proc/PID/stat), so a reaper never kills a
# recycled PID.
e2e_start_time() {
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || {
        echo 0
        return 0
    }
    stat=${stat##*) }
    # shellcheck disable=SC2086 # word splitting is the point
    set -- $stat
    echo "${20}"
}

e2e_alive() {
    kill -0 "$1" 2>/dev/null
}

# e2e_stop_pid PID [SECONDS]: SIGTERM, then SIGKILL after SECONDS (default 10). Returns the
# exit status (128+signal when killed by a signal). Only for children of this shell.
e2e_stop_pid() {
    local pid=$1 grace_s=${2:-10} status=0
    if e2e_alive "$pid"; then
        kill -TERM "$pid" 2>/dev/null || true
        local deadline=$((SECONDS + grace_s))
        while e2e_alive "$pid" && [ "$SECONDS" -lt "$deadline" ]; do
            # A zombie still answers kill -0; wait reaps it once it has exited.
            if [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" = Z ]; then
                break
            fi
            sleep 0.1
        done
        if e2e_alive "$pid" && [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" != Z ]; then
            e2e_log "pid $pid ignored SIGTERM for ${grace_s}s; sending SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
        fi
    fi
    wait "$pid" 2>/dev/null || status=$?
    return "$status"
}

# Prints the tail of every log of this run (the daemons' and services' lines show why a
# scenario failed): the last E2E_LOG_LINES (default 60) lines above debug level, where the
# state changes are, then the last 10 lines of any level. E2E_KEEP=1 keeps the whole files.
e2e_dump_logs() {
    local lines=${E2E_LOG_LINES:-60} f
    for f in "$E2E_RUN_DIR"/logs/*.log; do
        [ -s "$f" ] || continue
        printf '\n---- %s: last %s lines above debug\n' "${f##*/}" "$lines" >&2
        grep -v -E '^[0-9T:.-]+ (debug|trace) ' "$f" | grep -v -E ' config [a-z_.]+ = ' |
            tail -n "$lines" >&2 || true
        printf -- '---- %s: last 10 lines\n' "${f##*/}" >&2
        tail -n 10 "$f" >&2
    done
}

e2e_cleanup() {
    local status=$1 pid hook i netns
    trap - EXIT INT TERM
    set +e
    if ! e2e_check_daemons && [ "$status" -eq 0 ]; then
        status=1
    fi
    if [ "$status" -ne 0 ] && [ "$status" -ne "$E2E_SKIP" ] && [ -n "$E2E_RUN_DIR" ]; then
        e2e_dump_logs
    fi
    for pid in "${E2E_PIDS[@]}"; do
        e2e_alive "$pid" && kill -TERM "$pid" 2>/dev/null
    done
    for pid in "${E2E_PIDS[@]}"; do
        e2e_stop_pid "$pid" 5 >/dev/null 2>&1
    done
    for ((i = ${#E2E_HOOKS[@]} - 1; i >= 0; i--)); do
        # shellcheck disable=SC2086 # a hook is stored as words
        ${E2E_HOOKS[$i]}
    done
    for ((i = ${#E2E_NAMESPACES[@]} - 1; i >= 0; i--)); do
        netns=${E2E_NAMESPACES[$i]}
        ip netns del "$netns" 2>/dev/null
    done
    if [ -n "$E2E_RUN_DIR" ] && [ -d "$E2E_RUN_DIR" ]; then
        if [ "${E2E_KEEP:-0}" = 1 ]; then
            e2e_log "kept the run directory $E2E_RUN_DIR (E2E_KEEP=1)"
            rm -f "$E2E_RUN_DIR/owner"
        else
            rm -rf "$E2E_RUN_DIR"
        fi
    fi
    if [ "$status" -eq 0 ]; then
        e2e_log "PASS"
    fi
    exit "$status"
}

# Undoes runs whose owner process is gone (killed without running its trap): kills the PIDs
# they recorded (when PID and start time still match), replays their hooks, deletes their
# namespaces. Runs that are alive are left alone.
e2e_reap_stale() {
    local dir owner pid start hook netns
    [ -d "$E2E_STATE_ROOT" ] || return 0
    for dir in "$E2E_STATE_ROOT"/*/; do
        dir=${dir%/}
        [ -f "$dir/owner" ] || continue
        read -r owner start <"$dir/owner" || continue
        if e2e_alive "$owner" && [ "$(e2e_start_time "$owner")" = "$start" ]; then
            continue
        fi
        e2e_log "reaping the abandoned run ${dir##*/}"
        if [ -f "$dir/pids" ]; then
            while read -r pid start; do
                if e2e_alive "$pid" && [ "$(e2e_start_time "$pid")" = "$start" ]; then
                    kill -KILL "$pid" 2>/dev/null || true
                fi
            done <"$dir/pids"
        fi
        if [ -f "$dir/hooks" ]; then
            while read -r hook; do
                # shellcheck disable=SC2086 # a hook is stored as words
                (E2E_RUN_DIR=$dir && $hook) || true
            done < <(tac "$dir/hooks")
        fi
        if [ -f "$dir/namespaces" ]; then
            while read -r netns; do
                ip netns del "$netns" 2>/dev/null || true
            done <"$dir/namespaces"
        fi
        rm -rf "$dir"
    done
}

# Starts a run: checks root, reaps abandoned runs, picks the tag, creates the run directory
# and installs the trap. Call once, first thing in a scenario.
e2e_init() {
    if [ "$(id -u)" -ne 0 ]; then
        e2e_skip "e2e scenarios need root (network namespaces, TUN, nftables)"
    fi
    trap 'e2e_cleanup $?' EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    mkdir -p "$E2E_STATE_ROOT"
    chmod 755 "$E2E_STATE_ROOT"
    e2e_reap_stale
    E2E_TAG=$(e2e_new_tag)
    E2E_PREFIX="cye${E2E_TAG}-"
    E2E_RUN_DIR="$E2E_STATE_ROOT/$E2E_TAG"
    mkdir -p "$E2E_RUN_DIR/logs"
    # PostgreSQL runs as the postgres user and must reach its directory in here.
    chmod 755 "$E2E_RUN_DIR"
    printf '%s %s\n' "$$" "$(e2e_start_time $$)" >"$E2E_RUN_DIR/owner"
    : >"$E2E_RUN_DIR/pids"
    e2e_log "run $E2E_TAG: namespaces ${E2E_PREFIX}*, files in $E2E_RUN_DIR"
    e2e_require_tools ip nft sysctl curl jq python3 openssl od
}

# Where the binaries are: each variable may be set on its own (ctest does); otherwise they are
# looked up in CYPHONIC_BUILD_DIR (default build/ci).
e2e_find_binaries() {
    local build=${CYPHONIC_BUILD_DIR:-$E2E_REPO_ROOT/build/ci}
    : "${CYPHONICD:=$build/node-daemon/cyphonicd}"
    : "${CYPHONIC_AS:=$build/services/as/cyphonic-as}"
    : "${CYPHONIC_NMS:=$build/services/nms/cyphonic-nms}"
    : "${CYPHONIC_TRS:=$build/services/trs/cyphonic-trs}"
    export CYPHONICD CYPHONIC_AS CYPHONIC_NMS CYPHONIC_TRS
}
