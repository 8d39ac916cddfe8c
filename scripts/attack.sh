#!/usr/bin/env bash
# `make attack`: start a fresh server (SQLite in a temporary directory, release build, a 3 s head
# deadline so the slow-client round is short), create a dashboard user, and run the hardening
# review's attack set against it (scripts/attack.py): framing, hostile bodies, login guessing,
# slow clients. Prints tried / refused / errors per family; fails when any family has errors.
set -euo pipefail
cd "$(dirname "$0")/.."

make -s --no-print-directory FLAVOR=${FLAVOR:-release} all
bin=$PWD/build/${FLAVOR:-release}/iceshop
tmp=$(mktemp -d /tmp/iceshop-attack.XXXXXX)
admin_key=$(head -c 24 /dev/urandom | base64 | tr -d '/+=')
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
url="sqlite://$tmp/attack.db"
pid=""
cleanup() {
    if [ -n "$pid" ]; then
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT

ICESHOP_DATABASE_URL=$url ICESHOP_LOG_LEVEL=error "$bin" migrate >/dev/null
ICESHOP_DATABASE_URL=$url ICESHOP_LOG_LEVEL=error ICESHOP_PASSWORD='the right password 1' \
    "$bin" users create --tenant default --email target@example.com --role viewer >/dev/null
ICESHOP_DATABASE_URL=$url ICESHOP_ADMIN_KEY=$admin_key ICESHOP_LISTEN=127.0.0.1:$port \
    ICESHOP_ACCESS_LOG=0 ICESHOP_LOG_LEVEL=warn ICESHOP_HEADER_TIMEOUT=3 \
    ICESHOP_MAX_CONNECTIONS=${ATTACK_MAX_CONNECTIONS:-128} "$bin" serve >"$tmp/server.log" 2>&1 &
pid=$!
for _ in $(seq 150); do
    curl -fsS -o /dev/null "http://127.0.0.1:$port/health" 2>/dev/null && break
    sleep 0.1
done
python3 scripts/attack.py "$port" "$admin_key" target@example.com
