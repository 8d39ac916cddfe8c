#!/usr/bin/env bash
# The whole test suite: every unit test binary once (each covers SQLite, and PostgreSQL through
# TEST_PG_DSN), every integration binary once per backend, all under ASan+UBSan by default.
# Starts and stops its own throwaway PostgreSQL 15 cluster. Ends with "N passed, N failed".
#   scripts/test.sh [--only unit|integration|e2e]  FLAVOR=debug to skip the sanitizers
set -uo pipefail
cd "$(dirname "$0")/.."

only=""
if [ "${1:-}" = "--only" ]; then only="${2:-}"; fi
FLAVOR=${FLAVOR:-asan}
export FLAVOR

scripts/deps.sh test || { echo "0 passed, 1 failed"; exit 1; }
if ! make -s --no-print-directory FLAVOR="$FLAVOR" check-build; then
    echo "build failed"
    echo "0 passed, 1 failed"
    exit 1
fi
# The optimised build that `make run` serves: some warnings (-Wformat-truncation) only appear at -O2.
if [ -z "$only" ] && [ "$FLAVOR" != release ]; then
    if ! make -s --no-print-directory FLAVOR=release all; then
        echo "release build failed"
        echo "0 passed, 1 failed"
        exit 1
    fi
fi

build="build/$FLAVOR"
tmp="$PWD/build/test-tmp"
rm -rf "$tmp"
mkdir -p "$tmp"
export TEST_TMPDIR="$tmp"
export ICESHOP_BIN="$PWD/$build/iceshop"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:strict_string_checks=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export LSAN_OPTIONS="suppressions=$PWD/tests/lsan.supp:print_suppressions=0"
export ICESHOP_OPENAPI_CHECK=1 # test_openapi also runs the npm OpenAPI 3.1 validator

# A throwaway PostgreSQL cluster. Its directory must be reachable by the postgres user.
pgdir=$(mktemp -d /tmp/iceshop-pg.XXXXXX)
chmod 755 "$pgdir"
pgport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo 55432)
cleanup() { scripts/pg.sh stop "$pgdir" >/dev/null 2>&1 || true; }
trap cleanup EXIT
if dsn=$(scripts/pg.sh start "$pgdir" "$pgport" 2>"$tmp/pg.log"); then
    export TEST_PG_DSN="$dsn"
else
    echo "PostgreSQL did not start; see $tmp/pg.log"
    cat "$tmp/pg.log"
    echo "0 passed, 1 failed"
    exit 1
fi

passed=0
failed=0
failures=()

# run NAME CMD...: run one cmocka binary and add its counts.
run() {
    local name=$1
    shift
    local log="$tmp/$(echo "$name" | tr '/ ' '__').log"
    local start=$SECONDS
    timeout 900 "$@" >"$log" 2>&1
    local rc=$?
    local p f
    p=$(grep -a -E '^\[  PASSED  \] [0-9]+ test' "$log" | awk '{s+=$4} END {print s+0}')
    f=$(grep -a -E '^\[  FAILED  \] [0-9]+ test' "$log" | awk '{s+=$4} END {print s+0}')
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        f=1 # crashed, timed out, or a sanitizer stopped it
    fi
    passed=$((passed + p))
    failed=$((failed + f))
    # figures a test wants people to see (e.g. the understanding accuracy)
    grep -a -E '^(understand|accuracy|openapi):' "$log" | sed 's/^/    /' || true
    if [ "$f" -ne 0 ]; then
        failures+=("$name")
        printf '%-44s %3d passed %3d failed  (%ds)  FAIL\n' "$name" "$p" "$f" $((SECONDS - start))
        tail -n 40 "$log" | sed 's/^/    | /'
    else
        printf '%-44s %3d passed %3d failed  (%ds)\n' "$name" "$p" "$f" $((SECONDS - start))
    fi
}

if [ -z "$only" ] || [ "$only" = "unit" ]; then
    for t in $(find "$build/tests/unit" -type f -name 'test_*' -perm -u+x | sort); do
        run "unit/${t#"$build"/tests/unit/}" "$t"
    done
fi
if [ -z "$only" ] || [ "$only" = "integration" ]; then
    for t in $(find "$build/tests/integration" -type f -perm -u+x | sort); do
        for backend in sqlite pg; do
            TEST_BACKEND=$backend run "integration/$(basename "$t") [$backend]" "$t"
        done
    done
fi

if [ -z "$only" ] || [ "$only" = "e2e" ]; then
    # the web pages in headless Chromium against the real server (scripts/e2e.sh)
    start=$SECONDS
    scripts/e2e.sh >"$tmp/e2e.log" 2>&1
    e2e=$(grep -aE '^e2e: [0-9]+ passed, [0-9]+ failed$' "$tmp/e2e.log" | tail -n 1)
    read -r p f <<<"$(echo "${e2e:-e2e: 0 passed, 1 failed}" | awk '{print $2, $4}')"
    passed=$((passed + p))
    failed=$((failed + f))
    printf '%-44s %3d passed %3d failed  (%ds)%s\n' "e2e/dashboard.spec.mjs [chromium]" "$p" "$f" \
        $((SECONDS - start)) "$([ "$f" -eq 0 ] || echo '  FAIL')"
    if [ "$f" -ne 0 ]; then
        failures+=("e2e")
        tail -n 40 "$tmp/e2e.log" | sed 's/^/    | /'
    fi
fi

if [ ${#failures[@]} -gt 0 ]; then
    echo "failing: ${failures[*]} (logs in $tmp)"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
