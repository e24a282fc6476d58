#!/usr/bin/env bash
# A private PostgreSQL instance in a directory, listening only on a unix socket in that
# directory (no TCP port). Used by the quick start and by the test harness.
#   scripts/pg-instance.sh start DIR   initdb (first time) and start; prints the libpq
#                                      connection string on stdout
#   scripts/pg-instance.sh stop DIR    fast shutdown of that instance only
# As root the server runs as the `postgres` user (PostgreSQL refuses to run as root).
set -euo pipefail
cmd=${1:?start|stop}
dir=${2:?directory}
bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
as_owner=()
if [ "$(id -u)" -eq 0 ]; then
    as_owner=(runuser -u postgres --)
fi

case "$cmd" in
start)
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    if [ "$(id -u)" -eq 0 ]; then
        chown postgres: "$dir"
    fi
    if [ ! -f "$dir/data/PG_VERSION" ]; then
        "${as_owner[@]}" "$bin/initdb" -D "$dir/data" -U cyphonic -A trust -E UTF8 \
            --no-sync >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
    fi
    "${as_owner[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 \
        -o "-k $dir -c listen_addresses= -c fsync=off -c max_connections=200" start \
        >/dev/null || { tail -20 "$dir/postgres.log" >&2; exit 1; }
    if ! "${as_owner[@]}" "$bin/psql" -h "$dir" -U cyphonic -d postgres -tAc \
        "SELECT 1 FROM pg_database WHERE datname='cyphonic'" | grep -q 1; then
        "${as_owner[@]}" "$bin/createdb" -h "$dir" -U cyphonic cyphonic
    fi
    echo "host=$dir user=cyphonic dbname=cyphonic"
    ;;
stop)
    dir=$(cd "$dir" && pwd)
    if [ -f "$dir/data/postmaster.pid" ]; then
        "${as_owner[@]}" "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
    fi
    ;;
*)
    echo "usage: $0 start|stop DIR" >&2
    exit 2
    ;;
esac
