#!/usr/bin/env bash
# Throwaway PostgreSQL 15 clusters for tests; no system service involved.
#   scripts/pg.sh start DIR PORT         init (once) + start; prints the iceshop_test DSN
#   scripts/pg.sh createdb DIR PORT NAME  make another fresh database; prints its DSN
#   scripts/pg.sh stop DIR               stop the cluster and remove DIR
# Listens on 127.0.0.1:PORT and a unix socket in DIR, trust auth, fsync off. When run as root
# the cluster belongs to the unprivileged `postgres` user (created if missing). Idempotent.
set -euo pipefail

PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}

usage() {
    echo "usage: $0 start DIR PORT | createdb DIR PORT NAME | stop DIR" >&2
    exit 2
}

# Run a PostgreSQL tool as the cluster owner.
as_owner() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

ensure_owner() {
    [ "$(id -u)" -eq 0 ] || return 0
    if ! id postgres >/dev/null 2>&1; then
        useradd --system --user-group --no-create-home --home-dir /nonexistent \
            --shell /usr/sbin/nologin postgres
    fi
}

abs_dir() {
    mkdir -p "$1"
    (cd "$1" && pwd)
}

dsn() { # PORT NAME
    echo "postgres://postgres@127.0.0.1:$1/$2"
}

check_port() {
    case "$1" in
    '' | *[!0-9]*) echo "pg.sh: bad port: $1" >&2; exit 2 ;;
    esac
}

check_name() {
    case "$1" in
    '' | *[!A-Za-z0-9_]*) echo "pg.sh: bad database name: $1" >&2; exit 2 ;;
    esac
}

running() { # DATA
    [ -f "$1/postmaster.pid" ] && as_owner "$PGBIN/pg_ctl" -D "$1" status >/dev/null 2>&1
}

createdb_if_missing() { # DIR PORT NAME
    local exists
    exists=$(as_owner "$PGBIN/psql" -h "$1" -p "$2" -U postgres -d postgres -XtAq \
        -c "SELECT 1 FROM pg_database WHERE datname = '$3'")
    if [ "$exists" != "1" ]; then
        as_owner "$PGBIN/createdb" -h "$1" -p "$2" -U postgres "$3"
    fi
}

cmd_start() { # DIR PORT
    local dir port data
    dir=$(abs_dir "$1")
    port=$2
    check_port "$port"
    data="$dir/data"
    ensure_owner
    if [ "$(id -u)" -eq 0 ]; then
        chown postgres: "$dir"
        chmod 700 "$dir"
        if ! runuser -u postgres -- test -w "$dir"; then
            echo "pg.sh: user postgres cannot reach $dir (check parent directory modes)" >&2
            exit 1
        fi
    fi
    if [ ! -f "$data/PG_VERSION" ]; then
        as_owner "$PGBIN/initdb" -D "$data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 \
            --no-sync >"$dir/initdb.log" 2>&1 || {
            cat "$dir/initdb.log" >&2
            exit 1
        }
    fi
    if ! running "$data"; then
        as_owner "$PGBIN/pg_ctl" -D "$data" -l "$dir/server.log" -w -t 60 \
            -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off \
-c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
            start >/dev/null || {
            tail -n 20 "$dir/server.log" >&2 || true
            exit 1
        }
    fi
    createdb_if_missing "$dir" "$port" iceshop_test
    dsn "$port" iceshop_test
}

cmd_createdb() { # DIR PORT NAME
    local dir
    dir=$(abs_dir "$1")
    check_port "$2"
    check_name "$3"
    createdb_if_missing "$dir" "$2" "$3"
    dsn "$2" "$3"
}

cmd_stop() { # DIR
    [ -d "$1" ] || return 0
    local dir
    dir=$(abs_dir "$1")
    if running "$dir/data"; then
        as_owner "$PGBIN/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null
    fi
    rm -rf "$dir"
}

[ $# -ge 1 ] || usage
case "$1" in
start) [ $# -eq 3 ] || usage; cmd_start "$2" "$3" ;;
createdb) [ $# -eq 4 ] || usage; cmd_createdb "$2" "$3" "$4" ;;
stop) [ $# -eq 2 ] || usage; cmd_stop "$2" ;;
*) usage ;;
esac
