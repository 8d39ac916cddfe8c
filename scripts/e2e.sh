#!/usr/bin/env bash
# End-to-end tests of the web pages in headless Chromium: the admin dashboard (/admin), the
# buyer's window page (/w/{token}) and the seller's page (/s/{token}).
#
# Installs what is missing (Debian's chromium with apt-get as root; playwright-core and jsqr from
# tests/e2e/package-lock.json with npm), builds nothing: it runs ICESHOP_BIN (default: the newer of
# build/asan/iceshop and build/debug/iceshop) on a free loopback port with a throwaway SQLite
# database, turns the periodic scan off so windows open only when the test asks, seeds sellers,
# buyers, wishes, a dashboard user and a dead job through the API, the demo's shop (300 customers
# with a year of orders and their profiles, `iceshop demo --shop-only`), runs tests/e2e/dashboard.spec.mjs
# and stops the server. Screenshots of every step go to build/e2e/*.png.
#
# Prints one line per step and ends with "e2e: N passed, N failed"; exits non-zero on a failure.
#   scripts/e2e.sh                 E2E_KEEP=1 keeps the server's log and database in build/e2e/
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD
dir=tests/e2e
out=build/e2e

finish_fail() {
    echo "e2e: $*" >&2
    echo "e2e: 0 passed, 1 failed"
    exit 1
}

# ---- Chromium (Debian's) ----
if ! command -v chromium >/dev/null 2>&1; then
    [ "$(id -u)" -eq 0 ] || finish_fail "chromium is not installed (apt-get install chromium, as root)"
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y -qq chromium >/dev/null 2>&1; then
        apt-get update -qq >/dev/null 2>&1
        apt-get install -y -qq chromium >/dev/null 2>&1 || finish_fail "apt-get install chromium failed"
    fi
fi
CHROMIUM=${CHROMIUM:-$(command -v chromium)}
export CHROMIUM

# ---- node packages, pinned by the lock file; reinstalled when the lock changes ----
command -v node >/dev/null 2>&1 || finish_fail "node is not installed"
stamp=$dir/node_modules/.iceshop-lock
if ! cmp -s "$dir/package-lock.json" "$stamp" 2>/dev/null; then
    command -v npm >/dev/null 2>&1 || finish_fail "npm is not installed"
    log=$(mktemp)
    if ! (cd "$dir" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error) >"$log" 2>&1; then
        cat "$log" >&2
        rm -f "$log"
        finish_fail "npm ci in $dir failed"
    fi
    rm -f "$log"
    cp "$dir/package-lock.json" "$stamp"
fi

# ---- the server ----
bin=${ICESHOP_BIN:-}
if [ -z "$bin" ]; then
    for b in build/asan/iceshop build/debug/iceshop; do
        if [ -x "$b" ] && { [ -z "$bin" ] || [ "$b" -nt "$bin" ]; }; then bin=$b; fi
    done
fi
[ -n "$bin" ] && [ -x "$bin" ] || finish_fail "no iceshop binary (make FLAVOR=debug, or set ICESHOP_BIN)"
case $bin in /*) ;; *) bin=$root/$bin ;; esac

mkdir -p "$out"
rm -f "$out"/*.png
tmp=$(mktemp -d /tmp/iceshop-e2e.XXXXXX)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
admin_key="e2e-admin-key-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
pid=""

cleanup() {
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null
        for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    fi
    if [ "${E2E_KEEP:-0}" = 1 ]; then
        cp "$tmp/server.log" "$out/server.log" 2>/dev/null || true
        cp "$tmp"/e2e.db* "$out/" 2>/dev/null || true
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT

ICESHOP_LISTEN="127.0.0.1:$port" \
ICESHOP_DATABASE_URL="sqlite://$tmp/e2e.db" \
ICESHOP_ADMIN_KEY="$admin_key" \
ICESHOP_WHATSAPP_APP_SECRET="e2e-app-secret" \
ICESHOP_ASSETS_DIR="$root/assets" \
ICESHOP_PUBLIC_URL="$base" \
ICESHOP_TEST_JOBS=1 \
ICESHOP_ACCESS_LOG=0 \
ICESHOP_RATE_LIMIT_KEY=0 \
ICESHOP_RATE_LIMIT_IP=0 \
ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=0}" \
    "$bin" serve >"$tmp/server.log" 2>&1 &
pid=$!
up=0
for _ in $(seq 1 100); do
    if curl -sf "$base/health" >/dev/null 2>&1; then up=1; break; fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
done
if [ "$up" != 1 ]; then
    tail -n 30 "$tmp/server.log" >&2
    finish_fail "the server did not start ($bin)"
fi

# ---- seed data through the API ----
seed_failed=0
call() { # METHOD PATH JSON → prints the body; a non-2xx answer counts as a seeding failure
    local code
    code=$(curl -s -o "$tmp/resp" -w '%{http_code}' -X "$1" -H "Authorization: Bearer $admin_key" \
        -H 'Content-Type: application/json' -d "$3" "$base$2")
    if [ "${code:0:1}" != 2 ]; then
        echo "e2e: seeding $1 $2 → $code $(cat "$tmp/resp")" >&2
        seed_failed=1
    fi
}
# no automatic scans: windows open when the test asks; a one-minute lead so the test sees a
# SCHEDULED window become ACTIVE; one participant is enough
call PUT /api/campaigns/config '{"scan_interval_s":0,"lead_minutes":1,"window_minutes":30,"min_participants":1}'
n=10
# Kadıköy, Istanbul: one seller of every category; only S1 has standing approval
while read -r id cat lat lng name auto density; do
    call POST /api/sellers/register "{\"id\":\"$id\",\"phone_number\":\"+9053200000$n\",\"name\":\"${name//_/ }\",\"category\":\"$cat\",\"location\":{\"lat\":$lat,\"lng\":$lng,\"district\":\"Kadıköy\"},\"density_status\":\"$density\",\"auto_approve\":$auto,\"max_discount\":25,\"capacity\":8}"
    n=$((n + 1))
done <<'EOF'
S1 coffee 40.9905 29.0275 Moda_Kahve true low
S2 bakery 40.9880 29.0310 Fırın_Ekmek false medium
S3 restaurant 40.9930 29.0240 Lokanta_Kadıköy false high
S4 grocery 40.9860 29.0350 Bakkal_Ali false low
S5 butcher 40.9950 29.0330 Kasap_Mehmet false medium
S6 barber 40.9870 29.0220 Berber_Can false low
S7 dessert 40.9915 29.0380 Tatlıcı_Gül false high
EOF
# 36 buyers on a grid around Moda; two in three have a wish
cats=(coffee bakery dessert coffee grocery)
n=0
for dy in -4 -3 -2 -1 0 1 2 3 4; do
    for dx in -3 -1 1 3; do
        n=$((n + 1))
        lat=$(awk "BEGIN{printf \"%.5f\", 40.9905 + $dy * 0.0012}")
        lng=$(awk "BEGIN{printf \"%.5f\", 29.0290 + $dx * 0.0013}")
        lang=tr
        [ $((n % 4)) -eq 0 ] && lang=en
        call POST /api/buyers/register "{\"id\":\"B$n\",\"phone_number\":\"+90533100$(printf %04d $n)\",\"name\":\"Alıcı $n\",\"location\":{\"lat\":$lat,\"lng\":$lng},\"language\":\"$lang\"}"
        if [ $((n % 3)) -ne 2 ]; then
            c=${cats[$((n % 5))]}
            call POST /api/buyers/signal "{\"buyer_id\":\"B$n\",\"text\":\"$c istiyorum\",\"category\":\"$c\",\"expires_in_minutes\":240}"
        fi
    done
done
e2e_email="ops@iceshop.test"
e2e_password="e2e-password-$(head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n')"
call POST /api/users "{\"email\":\"$e2e_email\",\"password\":\"$e2e_password\",\"role\":\"admin\"}"
# a job that fails once and is dead: the jobs panel's retry button
call POST /api/jobs '{"name":"test.fail","payload":{},"max_attempts":1}'
# the demo's shop, smaller: customers with a year of orders, their profiles and campaigns
if ! ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=0}" "$bin" demo --url "$base" --key "$admin_key" \
    --shop-only --shop-customers 300 --quiet >"$tmp/shop.out" 2>&1; then
    cat "$tmp/shop.out" >&2
    seed_failed=1
fi
[ "$seed_failed" = 0 ] || finish_fail "seeding through the API failed"

# ---- the spec ----
E2E_BASE=$base E2E_ADMIN_KEY=$admin_key E2E_EMAIL=$e2e_email E2E_PASSWORD=$e2e_password \
E2E_OUT=$root/$out CHROMIUM=$CHROMIUM \
    timeout 600 node "$dir/dashboard.spec.mjs" 2>&1 | tee "$tmp/spec.out"
rc=${PIPESTATUS[0]}
if ! grep -qE '^e2e: [0-9]+ passed, [0-9]+ failed$' "$tmp/spec.out"; then
    echo "e2e: the spec ended early (exit $rc)"
    echo "e2e: 0 passed, 1 failed"
    rc=1
fi
if [ "$rc" -ne 0 ]; then
    echo "--- server log (last 30 lines) ---" >&2
    tail -n 30 "$tmp/server.log" >&2
fi
exit "$rc"
