# shellcheck shell=bash
# The cloud of the e2e scenarios (sourced after common.sh and topology.sh): a private
# PostgreSQL, test certificates made for this run, and the real cyphonic-as, cyphonic-nms and
# cyphonic-trs binaries in the namespace `cloud`, a dual-stack public host of the topology:
#
#   cloud  eth0 10.77.0.10  fd77::10
#     cyphonic-as   TLS :8443 on "::" (both families)   http 127.0.0.1:9100
#     cyphonic-nms  UDP :4600 on both addresses          http 127.0.0.1:9101
#     cyphonic-trs  UDP :4700 on both addresses          http 127.0.0.1:9102
#   PostgreSQL: unix socket in $E2E_RUN_DIR/pg (no TCP); the socket is a file, so the services
#   reach it from inside their namespace.
#
# The AS hands out virtual addresses from 10.99.0.0/16 and fd99::/64: the project default
# (10.77.0.0/16, fd77::/64) would overlap the underlay's internet subnet.

E2E_CLOUD=cloud
E2E_CLOUD_V4=10.77.0.10
E2E_CLOUD_V6=fd77::10
E2E_DOMAIN=cyphonic.test
E2E_VIRTUAL_V4_PREFIX=10.99.0.0/16
E2E_VIRTUAL_V6_PREFIX=fd99::/64
E2E_NMS_ID=4e4d5300000000000000000000000e2e
E2E_TRS_ID=5452530000000000000000000000be2e
E2E_CLOUD_DIR=""
E2E_DB=""

# Hook: stops the run's PostgreSQL (only that instance, through its data directory).
e2e_pg_stop() {
    "$E2E_REPO_ROOT/scripts/pg-instance.sh" stop "$1" >/dev/null 2>&1 || true
}

cloud_yaml_services() {
    local certs=$E2E_CLOUD_DIR/certs
    cat >"$E2E_CLOUD_DIR/as.yaml" <<EOF
listen:
  address: "::"
  port: 8443
tls:
  cert: $certs/server.crt
  key: $certs/server.key
  client_ca: $certs/ca.crt
domain: $E2E_DOMAIN
db:
  conninfo: "$E2E_DB"
nms:
  ipv4: $E2E_CLOUD_V4
  ipv6: "$E2E_CLOUD_V6"
addressing:
  ipv4_prefix: $E2E_VIRTUAL_V4_PREFIX
  ipv6_prefix: "$E2E_VIRTUAL_V6_PREFIX"
http:
  listen: 127.0.0.1:9100
log:
  level: debug
EOF
    cat >"$E2E_CLOUD_DIR/nms.yaml" <<EOF
nms:
  node_id: "$E2E_NMS_ID"
listen:
  ipv4: $E2E_CLOUD_V4
  ipv6: "$E2E_CLOUD_V6"
  port: 4600
db:
  conninfo: "$E2E_DB"
trs:
  servers:
    - "node_id=$E2E_TRS_ID,ipv4=$E2E_CLOUD_V4,ipv6=$E2E_CLOUD_V6,port=4700,cipher=2,key_file=$E2E_CLOUD_DIR/service.key"
http:
  listen: 127.0.0.1:9101
log:
  level: debug
EOF
    cat >"$E2E_CLOUD_DIR/trs.yaml" <<EOF
trs:
  node_id: "$E2E_TRS_ID"
nms_peers:
  - "$E2E_NMS_ID:2:$E2E_CLOUD_DIR/service.key"
listen:
  ipv4: $E2E_CLOUD_V4
  ipv6: "$E2E_CLOUD_V6"
  port: 4700
http:
  listen: 127.0.0.1:9102
log:
  level: debug
EOF
}

# cloud_http_status PORT PATH: the HTTP status code of http://127.0.0.1:PORT/PATH inside the
# cloud namespace (000 when nothing answers).
cloud_http_status() {
    in_ns "$E2E_CLOUD" curl -s -o /dev/null -m 2 -w '%{http_code}' "http://127.0.0.1:$1$2" ||
        true
}

# cloud_metrics SERVICE: the /metrics text of as, nms or trs.
cloud_metrics() {
    local port
    case "$1" in
    as) port=9100 ;;
    nms) port=9101 ;;
    trs) port=9102 ;;
    *) e2e_fail "cloud_metrics: unknown service '$1'" ;;
    esac
    in_ns "$E2E_CLOUD" curl -s -m 2 "http://127.0.0.1:$port/metrics" || true
}

# cloud_metric SERVICE SAMPLE: the value of one sample line `name{labels} value` (0 if absent).
cloud_metric() {
    cloud_metrics "$1" | awk -v s="$2" 'index($0, s " ") == 1 { v = $2 } END { print v + 0 }'
}

# cloud_start_service NAME BINARY PORT: starts `BINARY serve -c NAME.yaml` in the cloud
# namespace and waits until its /readyz answers 200.
cloud_start_service() {
    local name=$1 binary=$2 port=$3 pid code
    local log=$E2E_RUN_DIR/logs/$name.log
    e2e_spawn "$log" "$(ns "$E2E_CLOUD")" "$binary" serve -c "$E2E_CLOUD_DIR/$name.yaml"
    pid=$E2E_LAST_PID
    e2e_track_daemon "$pid" "cyphonic-$name"
    local deadline=$((SECONDS + 30))
    while :; do
        code=$(cloud_http_status "$port" /readyz)
        [ "$code" = 200 ] && break
        if ! e2e_alive "$pid"; then
            e2e_fail "cyphonic-$name exited during start-up (see $name.log below)"
        fi
        if [ "$SECONDS" -ge "$deadline" ]; then
            e2e_fail "cyphonic-$name: /readyz on 127.0.0.1:$port still $code after 30s"
        fi
        sleep 0.2
    done
    e2e_log "cyphonic-$name ready (pid $pid)"
}

# cloud_up: the cloud host on the internet (after topo_internet), PostgreSQL, certificates,
# migrations and the three services, each ready.
cloud_up() {
    e2e_require_binary CYPHONIC_AS cyphonic-as
    e2e_require_binary CYPHONIC_NMS cyphonic-nms
    e2e_require_binary CYPHONIC_TRS cyphonic-trs
    E2E_CLOUD_DIR=$E2E_RUN_DIR/cloud
    mkdir -p "$E2E_CLOUD_DIR/devices"
    chmod 700 "$E2E_CLOUD_DIR"

    topo_public "$E2E_CLOUD" 0 10 dual

    e2e_add_hook e2e_pg_stop "$E2E_RUN_DIR/pg"
    E2E_DB=$("$E2E_REPO_ROOT/scripts/pg-instance.sh" start "$E2E_RUN_DIR/pg") ||
        e2e_fail "PostgreSQL did not start (scripts/pg-instance.sh start $E2E_RUN_DIR/pg)"

    # The AS certificate names the cloud's addresses, as nodes check as.server_name (default:
    # the address they connect to) against its SAN.
    "$E2E_REPO_ROOT/scripts/make-certs.sh" "$E2E_CLOUD_DIR/certs" --san "IP:$E2E_CLOUD_V4" \
        --san "IP:$E2E_CLOUD_V6" --san "DNS:as.$E2E_DOMAIN" >"$E2E_RUN_DIR/logs/certs.log" 2>&1 ||
        e2e_fail "scripts/make-certs.sh failed: $(cat "$E2E_RUN_DIR/logs/certs.log")"
    od -An -N32 -tx1 /dev/urandom | tr -d ' \n' >"$E2E_CLOUD_DIR/service.key"
    echo >>"$E2E_CLOUD_DIR/service.key"
    chmod 600 "$E2E_CLOUD_DIR/service.key"
    cloud_yaml_services

    local out
    out=$("$CYPHONIC_AS" migrate -c "$E2E_CLOUD_DIR/as.yaml" 2>&1) ||
        e2e_fail "cyphonic-as migrate: $out"
    out=$("$CYPHONIC_NMS" migrate -c "$E2E_CLOUD_DIR/nms.yaml" 2>&1) ||
        e2e_fail "cyphonic-nms migrate: $out"

    cloud_start_service trs "$CYPHONIC_TRS" 9102
    cloud_start_service nms "$CYPHONIC_NMS" 9101
    cloud_start_service as "$CYPHONIC_AS" 9100
}

# cloud_enrol DEVICE_ID [--cert-login]: `cyphonic-as device add` with a fresh random password
# in $E2E_CLOUD_DIR/devices/DEVICE_ID.pass; with --cert-login also a client certificate
# (certs/client-DEVICE_ID.{crt,key}).
cloud_enrol() {
    local device=$1 cert_login=${2:-}
    local pass=$E2E_CLOUD_DIR/devices/$device.pass out
    od -An -N16 -tx1 /dev/urandom | tr -d ' \n' >"$pass"
    echo >>"$pass"
    chmod 600 "$pass"
    local extra=()
    if [ "$cert_login" = --cert-login ]; then
        extra=(--cert-login)
        "$E2E_REPO_ROOT/scripts/make-certs.sh" "$E2E_CLOUD_DIR/certs" "$device" \
            >>"$E2E_RUN_DIR/logs/certs.log" 2>&1 || e2e_fail "client certificate for $device"
    fi
    out=$("$CYPHONIC_AS" -c "$E2E_CLOUD_DIR/as.yaml" device add "$device" --kind node \
        --password-file "$pass" "${extra[@]}" 2>&1) || e2e_fail "enrolling $device: $out"
    e2e_log "enrolled $device.$E2E_DOMAIN"
}

# cloud_device_field DEVICE_ID FIELD: one field of `cyphonic-as device list --json`
# (virtual_ipv4, virtual_ipv6, fqdn, node_id); "null" when unset. Virtual addresses are given
# out at the first login.
cloud_device_field() {
    "$CYPHONIC_AS" -c "$E2E_CLOUD_DIR/as.yaml" device list --json 2>/dev/null |
        jq -r --arg d "$1" --arg f "$2" '.[] | select(.device_id == $d) | .[$f]'
}
