#!/usr/bin/env bash
# `make loadtest`: LOADTEST_SECONDS (60) of mixed, seed-shaped traffic (scripts/loadtest.py) against
# a release build serving a fresh SQLite database (or LOADTEST_DATABASE_URL), with the server's
# memory and open files before and after. Never fails on a threshold; exit 1 on transport errors
# or 5xx answers.
#   LOADTEST_SECONDS=60 LOADTEST_THREADS=16 scripts/loadtest.sh
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh build
make -s --no-print-directory FLAVOR=release all

tmp=$PWD/build/loadtest-tmp
rm -rf "$tmp"
mkdir -p "$tmp"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
key=$(head -c 24 /dev/urandom | base64 | tr -d '/+=')
vapi=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
ICESHOP_LISTEN="127.0.0.1:$port" \
    ICESHOP_DATABASE_URL="${LOADTEST_DATABASE_URL:-sqlite://$tmp/iceshop.db}" \
    ICESHOP_ADMIN_KEY="$key" ICESHOP_VAPI_SECRET="$vapi" \
    ICESHOP_STORAGE_URL="file://$tmp/files" ICESHOP_LOG_LEVEL=warn \
    build/release/iceshop serve >"$tmp/server.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true' EXIT
for _ in $(seq 150); do
    curl -fsS -o /dev/null "http://127.0.0.1:$port/health" 2>/dev/null && break
    sleep 0.1
done
echo "== Load test: release build on $(nproc) cores, $(uname -m), $(date -u +%F)"
python3 scripts/loadtest.py "http://127.0.0.1:$port" --key "$key" --vapi-secret "$vapi" \
    --pid "$pid" --seconds "${LOADTEST_SECONDS:-60}" --threads "${LOADTEST_THREADS:-16}"
echo "server log: $tmp/server.log"
