#!/usr/bin/env bash
# Install the Debian packages Iceshop needs to build, test and benchmark, and (test, bench) the
# S3-compatible test server, s3rver, pinned in tests/s3/package-lock.json, into the project-local
# tests/s3/node_modules. Idempotent and quiet when everything is already there. Needs root (or
# sudo) only when a package is missing.
set -euo pipefail

build_pkgs="gcc make pkg-config libmicrohttpd-dev libjansson-dev libsqlite3-dev libpq-dev
libcurl4-openssl-dev libsodium-dev libutf8proc-dev libstemmer-dev zlib1g-dev libjs-leaflet libjs-chart.js
libcairo2-dev libpango1.0-dev libqrencode-dev fonts-dejavu-core"
test_pkgs="libcmocka-dev postgresql curl prometheus clang libclang-rt-14-dev python3-aiosmtpd poppler-utils
zbar-tools"
bench_pkgs="wrk"

case "${1:-build}" in
build) want="$build_pkgs" ;;
test) want="$build_pkgs $test_pkgs" ;;
bench) want="$build_pkgs $test_pkgs $bench_pkgs" ;;
*) echo "usage: $0 [build|test|bench]" >&2; exit 2 ;;
esac

# The test S3 server (tests/support/s3_server.c runs it): npm ci when node_modules is missing or
# was installed from another lock file.
s3rver() {
    [ "${1:-build}" = build ] && return 0
    local dir=tests/s3 stamp=tests/s3/node_modules/.iceshop-lock
    cmp -s "$dir/package-lock.json" "$stamp" 2>/dev/null && return 0
    echo "installing s3rver into $dir/node_modules" >&2
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >&2)
    cp "$dir/package-lock.json" "$stamp"
}
cd "$(dirname "$0")/.."

missing=()
# node and npm for s3rver: Debian's packages unless a node with its own npm is already there
if [ "${1:-build}" != build ] && ! command -v npm >/dev/null 2>&1; then
    missing+=(nodejs npm)
fi
for p in $want; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
        missing+=("$p")
    fi
done
if [ ${#missing[@]} -eq 0 ]; then
    s3rver "${1:-build}"
    exit 0
fi

echo "installing: ${missing[*]}" >&2
sudo=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
        echo "missing packages and not root: apt-get install ${missing[*]}" >&2
        exit 1
    fi
fi
export DEBIAN_FRONTEND=noninteractive
# prometheus pulls in a service; keep it from starting on install.
if [ ! -e /usr/sbin/policy-rc.d ] && [ -z "$sudo" ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
$sudo apt-get update -qq >/dev/null || true
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
s3rver "${1:-build}"
