#!/usr/bin/env bash
# `make run`: start iceshop on the embedded default (SQLite under ./var/) and print how to reach
# it. The admin key comes from ICESHOP_ADMIN_KEY, or is generated once into var/admin.key.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-build/release/iceshop}
mkdir -p var
if [ -z "${ICESHOP_ADMIN_KEY:-}" ]; then
    if [ ! -s var/admin.key ]; then
        umask 077
        head -c 24 /dev/urandom | base64 | tr -d '/+=' >var/admin.key
    fi
    ICESHOP_ADMIN_KEY=$(cat var/admin.key)
fi
export ICESHOP_ADMIN_KEY
export ICESHOP_DATABASE_URL=${ICESHOP_DATABASE_URL:-sqlite://var/iceshop.db}
export ICESHOP_LISTEN=${ICESHOP_LISTEN:-127.0.0.1:8080}
"$bin" migrate >/dev/null
url="http://${ICESHOP_LISTEN}"
cat <<EOT

  Iceshop is starting at $url  (database: $ICESHOP_DATABASE_URL)
  Admin key (admin of the default tenant): $ICESHOP_ADMIN_KEY

  Try:  curl -s $url/health
        curl -s -H "Authorization: Bearer $ICESHOP_ADMIN_KEY" $url/health/detailed
        curl -s -H "Authorization: Bearer $ICESHOP_ADMIN_KEY" $url/api/jobs
  Stop with Ctrl-C.

EOT
exec "$bin" serve
