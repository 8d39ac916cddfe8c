#!/usr/bin/env bash
# `make bench`: HTTP load with wrk on loopback (bare libmicrohttpd baseline, /health, authenticated
# GETs: one job by id with an API key, and a page of ten jobs, on SQLite and PostgreSQL) and
# job-queue throughput (bench/bench_jobs.c), the flash engine's scan (bench/bench_flash.c) and
# the active-window list under load (seeded by bench/bench_flash_active.c), and the cost of
# ICESHOP_SQLITE_SYNC=full (bench/bench_sqlite_sync.c), and the commerce bulk import
# (bench/bench_import.c: NDJSON order lines per second, SQLite and PostgreSQL), and the customer
# profile batch against the seed's per-customer way (bench/bench_profiles.c), and certificate
# rendering (bench/bench_certificates.c: signed PDFs per second on one thread, and their size),
# and a paid order's certificate end to end (bench/bench_cert_e2e.c: Stripe webhook in, the
# certificate email with its PDF out, median and p95), and starting a payment
# (bench/bench_pay_start.c: POST /api/orders/{id}/payments against a fake Stripe, median and p99).
# Durable demand signals over HTTP (POST /api/buyers/signal through group commit, SQLite and
# PostgreSQL) against the bare server of the same run.
# Prints figures with the machine they were taken on; never fails on a threshold.
# Jobs: SQLite, PostgreSQL with one worker process and with two on one database.
#   BENCH_DURATION=10 BENCH_RUNS=3 BENCH_CONNECTIONS=32 BENCH_JOBS=20000 BENCH_JOBS_RUNS=5 \
#   scripts/bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."

duration=${BENCH_DURATION:-10}
runs=${BENCH_RUNS:-3}
conns=${BENCH_CONNECTIONS:-32}
njobs=${BENCH_JOBS:-20000}
jobs_runs=${BENCH_JOBS_RUNS:-5}
threads=4 # the bare server's threads and ICESHOP_WORKERS (iceshop's HTTP threads: its default)

scripts/deps.sh bench
make -s --no-print-directory FLAVOR=release all build/release/bench/bench_mhd_hello \
    build/release/bench/bench_jobs

bin=$PWD/build/release/iceshop
hello=$PWD/build/release/bench/bench_mhd_hello
jobs=$PWD/build/release/bench/bench_jobs
tmp=$PWD/build/bench-tmp
rm -rf "$tmp"
mkdir -p "$tmp"
chmod 755 "$tmp"
admin_key=$(head -c 24 /dev/urandom | base64 | tr -d '/+=')

pids=()
pgdir=""
# Results, set by measure() and bench_jobs() through printf -v.
rps_mhd_hello=0 rps_job_sqlite=0 jps_sqlite=0 rps_signal_sqlite=0
cleanup() {
    local p
    for p in "${pids[@]}"; do
        kill "$p" 2>/dev/null || true
    done
    for p in "${pids[@]}"; do
        wait "$p" 2>/dev/null || true
    done
    if [ -n "$pgdir" ]; then
        scripts/pg.sh stop "$pgdir" >/dev/null 2>&1 || true
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# wait_http URL: until it answers 200, up to 15 s.
wait_http() {
    local i
    for i in $(seq 150); do
        if curl -fsS -o /dev/null "$1" 2>/dev/null; then
            return 0
        fi
        sleep 0.1
    done
    echo "bench: $1 did not come up" >&2
    return 1
}

# stop_last: stop the most recently started server.
stop_last() {
    local p=${pids[-1]}
    kill "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
    unset 'pids[-1]'
}

# start_iceshop URL LOG: serve the database at URL on a free port; sets $port.
start_iceshop() {
    port=$(free_port)
    ICESHOP_DATABASE_URL=$1 ICESHOP_ADMIN_KEY=$admin_key ICESHOP_LISTEN=127.0.0.1:$port \
        ICESHOP_ACCESS_LOG=0 ICESHOP_RATE_LIMIT_KEY=0 ICESHOP_RATE_LIMIT_IP=0 \
        ICESHOP_LOG_LEVEL=warn ICESHOP_TEST_JOBS=1 "$bin" serve >"$2" 2>&1 &
    pids+=($!)
    wait_http "http://127.0.0.1:$port/health"
}

# seed_jobs PORT: a few finished jobs so /api/jobs?limit=10 returns a full page.
seed_jobs() {
    local i
    for i in $(seq 30); do
        curl -fsS -o /dev/null -H "Authorization: Bearer $admin_key" \
            -H 'Content-Type: application/json' -d '{"name":"test.ok","payload":{"n":1}}' \
            "http://127.0.0.1:$1/api/jobs"
    done
    curl -fsS -o /dev/null -H "Authorization: Bearer $admin_key" \
        "http://127.0.0.1:$1/api/jobs?limit=10"
}

# api_key URL: a viewer API key of the default tenant, made with the CLI (authenticating it is a
# database lookup per request, unlike the admin key from the environment).
api_key() {
    ICESHOP_DATABASE_URL=$1 ICESHOP_LOG_LEVEL=error "$bin" keys create --tenant default \
        --role viewer --name bench 2>/dev/null
}

# to_ms "1.23ms" | "456.00us" | "1.50s" → milliseconds
to_ms() {
    awk -v v="$1" 'BEGIN {
        n = v + 0
        if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n = n; else if (v ~ /m$/) n *= 60000;
        else if (v ~ /s$/) n *= 1000
        printf "%.3f", n }'
}

median() { # numbers on stdin → the median
    sort -g | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2];
        else printf "%.3f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

# measure NAME URL [wrk args...]: warm up, run wrk $runs times; sets rps_<NAME> and p99_<NAME>.
measure() {
    local name=$1 url=$2
    shift 2
    local i out rps=() p99=() errs
    wrk -t2 -c"$conns" -d2s "$@" "$url" >/dev/null 2>&1 || true
    for i in $(seq "$runs"); do
        out=$(wrk -t2 -c"$conns" -d"${duration}s" --latency "$@" "$url" 2>&1) || {
            echo "$out" >&2
            return 1
        }
        echo "$out" >"$tmp/wrk-$name-$i.txt"
        rps+=("$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")")
        p99+=("$(to_ms "$(awk '$1 == "99%" {print $2}' <<<"$out")")")
        errs=$(awk '/Non-2xx or 3xx responses:/ {print $NF} /Socket errors:/ {print}' <<<"$out")
        if [ -n "$errs" ]; then
            echo "  warning ($name run $i): $errs" >&2
        fi
    done
    printf -v "rps_$name" '%s' "$(printf '%s\n' "${rps[@]}" | median)"
    printf -v "p99_$name" '%s' "$(printf '%s\n' "${p99[@]}" | median)"
    printf '  %-34s %10.0f req/s   p99 %8.2f ms   (runs: %s req/s)\n' "$name" \
        "$(eval echo "\$rps_$name")" "$(eval echo "\$p99_$name")" "${rps[*]}"
}

cpu=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
echo "== iceshop bench"
echo "machine: $(nproc) CPUs, ${cpu:-unknown CPU}, $(uname -sr)"
echo "date:    $(date -u +%Y-%m-%dT%H:%M:%SZ)   commit: $(git rev-parse --short HEAD 2>/dev/null || echo none)"
echo "wrk:     -t2 -c$conns -d${duration}s, median of $runs runs; server threads $threads"
echo "note:    wrk and the server share the machine; figures are indicative"
echo

echo "== HTTP (wrk on loopback)"
port=$(free_port)
"$hello" "$port" "$threads" >"$tmp/hello.log" 2>&1 &
pids+=($!)
wait_http "http://127.0.0.1:$port/"
measure mhd_hello "http://127.0.0.1:$port/"
stop_last

start_iceshop "sqlite://$tmp/http.db" "$tmp/iceshop-sqlite.log"
seed_jobs "$port"
key=(-H "Authorization: Bearer $(api_key "sqlite://$tmp/http.db")")
measure health "http://127.0.0.1:$port/health"
measure job_sqlite "http://127.0.0.1:$port/api/jobs/1" "${key[@]}"
measure jobs_page_sqlite "http://127.0.0.1:$port/api/jobs?limit=10" "${key[@]}"
stop_last

pg_ok=0
pgdir="$tmp/pg"
if dsn=$(scripts/pg.sh start "$pgdir" "$(free_port)" 2>"$tmp/pg.log"); then
    pg_ok=1
    pgport=${dsn##*:}
    pgport=${pgport%%/*}
    http_dsn=$(scripts/pg.sh createdb "$pgdir" "$pgport" bench_http)
    start_iceshop "$http_dsn" "$tmp/iceshop-pg.log"
    seed_jobs "$port"
    key=(-H "Authorization: Bearer $(api_key "$http_dsn")")
    measure job_pg "http://127.0.0.1:$port/api/jobs/1" "${key[@]}"
    measure jobs_page_pg "http://127.0.0.1:$port/api/jobs?limit=10" "${key[@]}"
    stop_last
else
    echo "  PostgreSQL did not start; skipped (see $tmp/pg.log)"
fi

echo
echo "== Durable demand signals (POST /api/buyers/signal, group commit; bench/load/signal.lua)"
# register_buyer PORT: the buyer the signals name.
register_buyer() {
    curl -fsS -o /dev/null -H "Authorization: Bearer $admin_key" \
        -H 'Content-Type: application/json' -d '{"id":"bench-buyer","phone_number":"+905550000001",
        "name":"bench","location":{"lat":40.98,"lng":29.03,"district":"Kadıköy"},
        "categories":["coffee"],"price_sensitivity":"balanced"}' \
        "http://127.0.0.1:$1/api/buyers/register"
}
signal=(-s "$PWD/bench/load/signal.lua")
export BENCH_KEY=$admin_key BENCH_BUYER=bench-buyer
start_iceshop "sqlite://$tmp/signals.db" "$tmp/iceshop-signals.log"
register_buyer "$port"
measure signal_sqlite "http://127.0.0.1:$port/api/buyers/signal" "${signal[@]}"
stop_last
# the same run without group commit (each signal its own transaction), then with 32 HTTP threads
ICESHOP_GROUP_COMMIT=off start_iceshop "sqlite://$tmp/signals-off.db" "$tmp/iceshop-signals-off.log"
register_buyer "$port"
measure signal_sqlite_nogroup "http://127.0.0.1:$port/api/buyers/signal" "${signal[@]}"
stop_last
ICESHOP_HTTP_THREADS=32 start_iceshop "sqlite://$tmp/signals-32.db" "$tmp/iceshop-signals-32.log"
register_buyer "$port"
measure signal_sqlite_32threads "http://127.0.0.1:$port/api/buyers/signal" "${signal[@]}"
stop_last
if [ "$pg_ok" = 1 ]; then
    start_iceshop "$(scripts/pg.sh createdb "$pgdir" "$pgport" bench_signals)" \
        "$tmp/iceshop-signals-pg.log"
    register_buyer "$port"
    measure signal_pg "http://127.0.0.1:$port/api/buyers/signal" "${signal[@]}"
    stop_last
fi
ratio=$(awk -v a="$rps_signal_sqlite" -v b="$rps_mhd_hello" 'BEGIN {printf "%.2f", (b > 0 ? a / b : 0)}')
echo "  signals (SQLite) / bare MHD of this run: ${ratio}x   aim: >= 20,000 req/s with p99 <= 5 ms"
echo
ratio=$(awk -v a="$rps_job_sqlite" -v b="$rps_mhd_hello" 'BEGIN {printf "%.1f", (b > 0 ? 100 * a / b : 0)}')
verdict=$(awk -v r="$ratio" 'BEGIN {print (r >= 50 ? "meets" : "below")}')
echo "  GET /api/jobs/{id} with an API key (SQLite) / bare MHD:  ${ratio}%   (target >= 50%: $verdict)"

echo
echo "== Jobs ($njobs no-op jobs, $threads worker threads per process, enqueue -> done," \
    "median of $jobs_runs runs, a fresh database each)"
# run_jobs NAME PROCS: bench_jobs with PROCS worker processes on SQLite (NAME sqlite*) or on
# PostgreSQL; prints the median and every run; sets jps_<NAME> to the median.
run_jobs() {
    local name=$1 procs=$2 url out r all=() split=""
    for r in $(seq "$jobs_runs"); do
        case $name in
        sqlite*) url="sqlite://$tmp/jobs-$name-$r.db" ;;
        *) url=$(scripts/pg.sh createdb "$pgdir" "$pgport" "bench_jobs_${name}_$r") ;;
        esac
        if ! out=$("$jobs" "$url" "$threads" "$njobs" 500 "$procs" 2>"$tmp/jobs-$name-$r.log"); then
            echo "  $name: run $r failed (see $tmp/jobs-$name-$r.log)"
            tail -n 5 "$tmp/jobs-$name-$r.log" | sed 's/^/    | /'
            continue
        fi
        echo "$out" >"$tmp/jobs-$name-$r.txt"
        all+=("$(grep -o 'jobs_per_s=[0-9]*' <<<"$out" | cut -d= -f2)")
        split=$(grep -o 'proc[0-9]*=[0-9]*' <<<"$out" | tr '\n' ' ')
    done
    local med=0
    [ ${#all[@]} -gt 0 ] && med=$(printf '%s\n' "${all[@]}" | median)
    printf -v "jps_$name" '%s' "$med"
    printf '  %-16s %8.0f jobs/s   (%s process(es); runs: %s; last run per process: %s)\n' \
        "$name" "$med" "$procs" "${all[*]:-none}" "${split:-?}"
}
run_jobs sqlite 1
jps_pg=0
jps_pg_2procs=0
if [ "$pg_ok" = 1 ]; then
    run_jobs pg 1
    run_jobs pg_2procs 2
fi
ratio=$(awk -v a="$jps_pg" -v b="$jps_sqlite" 'BEGIN {printf "%.2f", (b > 0 ? a / b : 0)}')
ratio2=$(awk -v a="$jps_pg_2procs" -v b="$jps_pg" 'BEGIN {printf "%.2f", (b > 0 ? a / b : 0)}')
echo "  PostgreSQL / SQLite (one process each): ${ratio}x;  PostgreSQL two processes / one: ${ratio2}x"
verdict=$(awk -v j="$jps_pg" 'BEGIN {print (j >= 20000 ? "meets" : "below")}')
echo "  PostgreSQL aim >= 20,000 jobs/s on one process: $verdict"
verdict=$(awk -v j="$jps_sqlite" 'BEGIN {print (j >= 5000 ? "meets" : "below")}')
echo "  SQLite target >= 5000 jobs/s: $verdict"
echo
echo "== SQLite durability (bench/bench_sqlite_sync.c: single-row commits, NORMAL vs ICESHOP_SQLITE_SYNC=full)"
make -s --no-print-directory FLAVOR=release build/release/bench/bench_sqlite_sync
"$PWD/build/release/bench/bench_sqlite_sync" "$tmp" "${BENCH_SYNC_COMMITS:-2000}" | sed 's/^/  /' ||
    echo "  bench_sqlite_sync failed"
echo
echo "== Flash engine (bench/bench_flash.c: grid build + flash_scan + flash_targets, one thread)"
make -s --no-print-directory FLAVOR=release build/release/bench/bench_flash
flash=$PWD/build/release/bench/bench_flash
# Peak RSS is taken in its own process so the big city does not inflate it.
for mode in small rss big; do
    "$flash" "$mode" || echo "  bench_flash $mode failed"
done
echo
echo "== Scan inputs: database every call vs the live index (bench/bench_scan.c, SQLite, one thread)"
make -s --no-print-directory FLAVOR=release build/release/bench/bench_scan
"$PWD/build/release/bench/bench_scan" "sqlite://$tmp/scan.db" "${BENCH_SCAN_SELLERS:-2000}" \
    "${BENCH_SCAN_BUYERS:-20000}" "${BENCH_SCAN_RUNS:-9}" || echo "  bench_scan failed"
# the same scan over HTTP: the server on that database, POST /api/campaigns/scan with curl, one
# request at a time (compare with the engine alone above, same run)
start_iceshop "sqlite://$tmp/scan.db" "$tmp/iceshop-scan.log"
scan_url="http://127.0.0.1:$port/api/campaigns/scan"
for q in "" "?limit=50"; do
    scan_bytes=$(curl -fsS -X POST -H "Authorization: Bearer $admin_key" "$scan_url$q" | wc -c)
    scan_ms=$(for i in $(seq "${BENCH_SCAN_RUNS:-9}"); do
        curl -fsS -o /dev/null -w '%{time_total}\n' -X POST \
            -H "Authorization: Bearer $admin_key" "$scan_url$q"
    done | sort -n | awk '{t[NR] = $1} END {printf "%.2f", t[int((NR + 1) / 2)] * 1000}')
    echo "  over HTTP${q:+ ($q)}: median ${scan_ms} ms for $scan_bytes bytes (aim <= 10 ms)"
done
stop_last
echo
echo "== Certificates (bench/bench_certificates.c: sign + draw the PDF in memory, one thread)"
make -s --no-print-directory FLAVOR=release build/release/bench/bench_certificates
"$PWD/build/release/bench/bench_certificates" "${BENCH_CERTIFICATES:-500}" | sed 's/^/  /' ||
    echo "  bench_certificates failed"
echo
echo "== GET /api/flash-windows/active with 1,500 active windows (SQLite, API key)"
make -s --no-print-directory FLAVOR=release build/release/bench/bench_flash_active
"$PWD/build/release/bench/bench_flash_active" "sqlite://$tmp/active.db" 1500 >/dev/null \
    2>"$tmp/active-seed.log"
start_iceshop "sqlite://$tmp/active.db" "$tmp/iceshop-active.log"
akey=(-H "Authorization: Bearer $(api_key "sqlite://$tmp/active.db")")
bytes=$(curl -fsS "${akey[@]}" "http://127.0.0.1:$port/api/flash-windows/active" | wc -c)
echo "  one response: $bytes bytes"
measure active_windows "http://127.0.0.1:$port/api/flash-windows/active" "${akey[@]}"
# a client that accepts gzip: the compressed list, cached per version like the plain one
gz_bytes=$(curl -fsS "${akey[@]}" -H "Accept-Encoding: gzip" \
    "http://127.0.0.1:$port/api/flash-windows/active" | wc -c)
echo "  gzipped: $gz_bytes bytes"
measure active_windows_gzip "http://127.0.0.1:$port/api/flash-windows/active" "${akey[@]}" \
    -H "Accept-Encoding: gzip"
# a dashboard polling with the ETag it was given: 304 without a body while nothing changes
etag=$(curl -fsS -o /dev/null -D - "${akey[@]}" "http://127.0.0.1:$port/api/flash-windows/active" |
    awk 'tolower($1) == "etag:" {print $2}' | tr -d '\r')
measure active_windows_304 "http://127.0.0.1:$port/api/flash-windows/active" "${akey[@]}" \
    -H "If-None-Match: $etag"
echo "  aim: >= 1,000 req/s with p99 <= 50 ms (the full list served from the body cache between"
echo "  changes; a poll that sends its ETag back gets a 304)"
stop_last
echo
echo "== Outbound messages (bench/bench_outbound.c: notify.deliver jobs -> Meta adapter -> fake Cloud API)"
make -s --no-print-directory FLAVOR=release build/release/bench/bench_outbound
outbound=$PWD/build/release/bench/bench_outbound
nout=${BENCH_OUTBOUND:-2000}
# Lifted limit: what the pipeline itself sustains. Default limit (80/s per sending number, as
# Meta's Cloud API allows): a short run that should come out near 80 msg/s.
"$outbound" "sqlite://$tmp/outbound.db" "$nout" 0 8 | sed 's/^/  /' || echo "  bench_outbound failed"
"$outbound" "sqlite://$tmp/outbound80.db" 400 80 8 | sed 's/^/  /' ||
    echo "  bench_outbound (80/s) failed"
if [ "$pg_ok" = 1 ]; then
    "$outbound" "$(scripts/pg.sh createdb "$pgdir" "$pgport" bench_outbound)" "$nout" 0 8 |
        sed 's/^/  /' || echo "  bench_outbound pg failed"
fi
echo
echo "== Cart recovery (bench/bench_recovery.c: one polling cycle, Shopify fake, slow lane)"
make -s --no-print-directory FLAVOR=release build/release/bench/bench_recovery
recovery=$PWD/build/release/bench/bench_recovery
"$recovery" "sqlite://$tmp/recovery.db" 1000 50 2 | sed 's/^/  /' || echo "  bench_recovery failed"
if [ "$pg_ok" = 1 ]; then
    "$recovery" "$(scripts/pg.sh createdb "$pgdir" "$pgport" bench_recovery)" 1000 50 2 |
        sed 's/^/  /' || echo "  bench_recovery pg failed"
fi
echo "  aim: 1,000 integrations x 50 carts within 30 s"
echo
echo "== Inbound chat (bench/bench_inbound.c: signed webhooks in, understood and acted on; SQLite)"
make -s --no-print-directory FLAVOR=release build/release/bench/bench_inbound
"$PWD/build/release/bench/bench_inbound" "sqlite://$tmp/inbound.db" 5000 4 ||
    echo "  bench_inbound failed"
echo
echo "== Payment webhooks (bench/bench_payments.c: signed Stripe events verified, recorded durably)"
make -s --no-print-directory FLAVOR=release build/release/bench/bench_payments
payments=$PWD/build/release/bench/bench_payments
# 4 threads as the HTTP pool has by default, 32 as the wrk runs' connections; the last run of
# each backend commits one by one (group commit off), the same-run comparison.
for args in "4 on" "32 on" "32 off"; do
    # shellcheck disable=SC2086
    "$payments" "sqlite://$tmp/payments-${args// /-}.db" 5000 $args | sed 's/^/  /' ||
        echo "  bench_payments failed"
done
if [ "$pg_ok" = 1 ]; then
    for args in "4 on" "32 on" "32 off"; do
        # shellcheck disable=SC2086
        "$payments" "$(scripts/pg.sh createdb "$pgdir" "$pgport" "bench_payments_${args// /_}")" \
            5000 $args | sed 's/^/  /' || echo "  bench_payments pg failed"
    done
fi
echo
echo "== Starting a payment (bench/bench_pay_start.c: POST /api/orders/{id}/payments, the release server, a fake Stripe)"
make -s --no-print-directory FLAVOR=release build/release/bench/bench_pay_start
paystart=$PWD/build/release/bench/bench_pay_start
npay=${BENCH_PAY_START:-1000}
ICESHOP_BIN=$bin TEST_TMPDIR=$tmp TEST_BACKEND=sqlite "$paystart" "$npay" 2>>"$tmp/pay_start.log" |
    sed 's/^/  /' || echo "  bench_pay_start failed (see $tmp/pay_start.log)"
if [ "$pg_ok" = 1 ]; then
    ICESHOP_BIN=$bin TEST_TMPDIR=$tmp TEST_BACKEND=pg TEST_PG_DSN=$dsn "$paystart" "$npay" \
        2>>"$tmp/pay_start.log" | sed 's/^/  /' || echo "  bench_pay_start pg failed"
fi
echo "  one request at a time, each under its own Idempotency-Key: the PaymentIntent is created at the fake"
echo
echo "== Bulk import (bench/bench_import.c: NDJSON order lines, 1-3 items each, in 64 KiB pieces)"
make -s --no-print-directory FLAVOR=release build/release/bench/bench_import
nimport=${BENCH_IMPORT:-200000}
"$PWD/build/release/bench/bench_import" "sqlite://$tmp/import.db" "$nimport" | sed 's/^/  /' ||
    echo "  bench_import failed"
echo "  aim: >= 100,000 order lines/s into SQLite"
if [ "$pg_ok" = 1 ]; then
    "$PWD/build/release/bench/bench_import" \
        "$(scripts/pg.sh createdb "$pgdir" "$pgport" bench_import)" "$((nimport / 4))" |
        sed 's/^/  /' || echo "  bench_import pg failed"
fi
echo
echo "== Customer profiles (bench/bench_profiles.c: the nightly batch vs the seed's per-customer way)"
make -s --no-print-directory FLAVOR=release build/release/bench/bench_profiles
pcust=${BENCH_PROFILE_CUSTOMERS:-100000}
porders=${BENCH_PROFILE_ORDERS:-2000000}
"$PWD/build/release/bench/bench_profiles" "sqlite://$tmp/profiles.db" "$pcust" "$porders" 2000 |
    sed 's/^/  /' || echo "  bench_profiles failed"
echo "  aim: 100,000 customers with 2,000,000 orders in <= 10 s under 200 MB, >= 50x the reference"
if [ "$pg_ok" = 1 ]; then
    "$PWD/build/release/bench/bench_profiles" \
        "$(scripts/pg.sh createdb "$pgdir" "$pgport" bench_profiles)" "$((pcust / 4))" \
        "$((porders / 4))" 500 | sed 's/^/  /' || echo "  bench_profiles pg failed"
fi
echo
echo "== Payment webhook -> certificate email (bench/bench_cert_e2e.c: the release server, a fake Stripe, aiosmtpd)"
make -s --no-print-directory FLAVOR=release build/release/bench/bench_cert_e2e
e2e=$PWD/build/release/bench/bench_cert_e2e
ncert=${BENCH_CERT_E2E:-20}
ICESHOP_BIN=$bin TEST_TMPDIR=$tmp TEST_BACKEND=sqlite "$e2e" "$ncert" 2>>"$tmp/cert_e2e.log" |
    sed 's/^/  /' || echo "  bench_cert_e2e failed (see $tmp/cert_e2e.log)"
if [ "$pg_ok" = 1 ]; then
    ICESHOP_BIN=$bin TEST_TMPDIR=$tmp TEST_BACKEND=pg TEST_PG_DSN=$dsn "$e2e" "$ncert" \
        2>>"$tmp/cert_e2e.log" | sed 's/^/  /' || echo "  bench_cert_e2e pg failed"
fi
echo "  one order at a time: webhook posted -> the email with the PDF in the sink; aim: < 30 s"
echo
echo "raw wrk output and logs: $tmp"
