#!/usr/bin/env bash
# Validates assets/openapi.json with a real OpenAPI 3.1 validator (tests/openapi/check.mjs on
# @seriousme/openapi-schema-validator, pinned in tests/openapi/package-lock.json). The first run
# installs it into tests/openapi/node_modules with npm; later runs work offline and only print
# "openapi: valid (N paths, M operations)". Exits non-zero when the document is invalid.
#   scripts/openapi-check.sh [path/to/openapi.json]
set -euo pipefail
cd "$(dirname "$0")/.."

dir=tests/openapi
spec=${1:-assets/openapi.json}
command -v node >/dev/null || { echo "openapi: node is not installed" >&2; exit 2; }

# Install (again) when node_modules is missing or was installed from another lock file.
stamp=$dir/node_modules/.iceshop-lock
if ! cmp -s "$dir/package-lock.json" "$stamp" 2>/dev/null; then
    command -v npm >/dev/null || { echo "openapi: npm is not installed" >&2; exit 2; }
    log=$(mktemp)
    if ! (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error) >"$log" 2>&1; then
        echo "openapi: npm ci in $dir failed:" >&2
        cat "$log" >&2
        rm -f "$log"
        exit 2
    fi
    rm -f "$log"
    cp "$dir/package-lock.json" "$stamp"
fi

exec node "$dir/check.mjs" "$spec"
