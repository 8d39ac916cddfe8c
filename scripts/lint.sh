#!/usr/bin/env bash
# `make lint`: banned functions and include direction in src/, clang-format on the C sources
# in git, cppcheck (warning, portability, performance) on src/, and clang-tidy
# (clang-analyzer-*, bugprone-*) when LINT_TIDY=1 (about 35 s on 2 cores).
# Prints one "file:line: problem" line per problem; exits non-zero on any.
set -euo pipefail
cd "$(dirname "$0")/.."

problems=$(mktemp)
trap 'rm -f "$problems"' EXIT
report() { # one problem line
    echo "$1" | tee -a "$problems"
}

# strip FILE: the file with comments, string and character literals blanked; lines are kept.
strip() {
    perl -0777 -pe 's{(/\*.*?\*/)|(//[^\n]*)|("(?:\\.|[^"\\\n])*")|(\x27(?:\\.|[^\x27\\\n])*\x27)}{
        if (defined $1) { my $c = $1; " " . "\n" x ($c =~ tr/\n//) }
        elsif (defined $2) { "" } elsif (defined $3) { "\"\"" } else { "\x27\x27" } }gse' "$1"
}

src_files=$(find src -name '*.c' -o -name '*.h' | sort)

# (a) Banned functions: unbounded or error-blind string and number handling.
banned='strcpy|strcat|sprintf|vsprintf|gets|strtok|atoi|atol|strncpy'
for f in $src_files; do
    strip "$f" | grep -nwoE "$banned" | while IFS=: read -r line fn; do
        report "$f:$line: banned function $fn"
    done || true
done

# (b) Include direction. include_lines FILE → "LINE:TARGET" for each #include "x" or <x>.
include_lines() {
    grep -nE '^[[:space:]]*#[[:space:]]*include' "$1" |
        sed -nE 's/^([0-9]+):[[:space:]]*#[[:space:]]*include[[:space:]]*["<]([^">]+)[">].*/\1:\2/p' || true
}
# Which file alone may include each third-party header.
declare -A owner=(
    [sqlite3.h]=src/db/db_sqlite.c
    [libpq-fe.h]=src/db/db_pg.c
    [curl/curl.h]=src/net/httpc.c
    [microhttpd.h]=src/http/server.c
    [sodium.h]=src/core/crypto.c
    [cairo.h]=src/pdf/pdf.c
    [cairo-pdf.h]=src/pdf/pdf.c
    [pango/pangocairo.h]=src/pdf/pdf.c
    [qrencode.h]=src/pdf/pdf.c
)
for f in $src_files; do
    while IFS=: read -r line inc; do
        # libcurl has two owners in net/: HTTP (httpc.c) and SMTP (mail.c)
        if [ "$inc" = curl/curl.h ] && [ "$f" = src/net/mail.c ]; then
            continue
        fi
        if [ -n "${owner[$inc]:-}" ] && [ "${owner[$inc]}" != "$f" ]; then
            report "$f:$line: includes <$inc>; only ${owner[$inc]} may"
        fi
        case "$f" in
        src/domain/*)
            case "$inc" in
            http/*) report "$f:$line: domain code includes \"$inc\" (domain must not know HTTP)" ;;
            esac
            ;;
        src/core/*)
            case "$inc" in
            core/*) ;;
            */*)
                if [ -e "src/$inc" ]; then
                    report "$f:$line: core includes \"$inc\"; core may include only core/"
                fi
                ;;
            esac
            ;;
        src/integrations/*)
            case "$inc" in
            core/* | json/* | db/* | jobs/* | integrations/*) ;;
            */*)
                if [ -e "src/$inc" ]; then
                    report "$f:$line: integrations includes \"$inc\"; it may include only core/, json/, db/ and jobs/"
                fi
                ;;
            esac
            ;;
        src/db/* | src/jobs/* | src/sched/* | src/net/* | src/pdf/*)
            case "$inc" in
            http/* | domain/*) report "$f:$line: ${f#src/} includes \"$inc\" (must not depend on http/ or domain/)" ;;
            esac
            ;;
        esac
    done < <(include_lines "$f")
done

# (b2) Domain modules never include each other in a circle: the graph of
# src/domain/<module> → domain/<other> includes must sort topologically.
domain_edges=$(for f in $(find src/domain -name '*.c' -o -name '*.h' | sort); do
    from=$(echo "$f" | cut -d/ -f3)
    include_lines "$f" | sed -nE 's/^[0-9]+:domain\/([a-z_]+)\/.*/\1/p' |
        while read -r to; do if [ "$to" != "$from" ]; then echo "$from $to"; fi; done
done | sort -u)
if [ -n "$domain_edges" ] && ! echo "$domain_edges" | tsort >/dev/null 2>&1; then
    report "src/domain: modules include each other in a circle: $(echo "$domain_edges" | tsort 2>&1 >/dev/null | grep -v 'input contains a loop' | sed 's/^tsort: //' | tr -s ' \n' ' ')"
fi

# (c) clang-format on the C sources git knows about (tracked, or new and not ignored).
mapfile -t fmt_files < <(git ls-files --cached --others --exclude-standard -- '*.c' '*.h' |
    while read -r f; do [ -f "$f" ] && echo "$f"; done)
if [ ${#fmt_files[@]} -gt 0 ]; then
    while read -r l; do
        report "$l"
    done < <(clang-format --dry-run "${fmt_files[@]}" 2>&1 |
        sed -nE 's/^([^:]+):([0-9]+):[0-9]+: (warning|error): code should be clang-formatted.*/\1 \2/p' |
        awk '!($1 in first) { first[$1] = $2; order[++n] = $1 } { count[$1]++ }
            END { for (i = 1; i <= n; i++) { f = order[i]
                printf "%s:%s: not clang-formatted (%d place(s); run make format)\n", f, first[f], count[f] } }')
fi

# (d) cppcheck: real defects and portability problems, not style.
while read -r l; do
    [ -n "$l" ] && report "$l"
done < <(cppcheck --enable=warning,portability,performance --inline-suppr -q --std=c11 \
    -Isrc -j "$(nproc)" --template='{file}:{line}: cppcheck {severity}: {message} [{id}]' src 2>&1)

# (e) clang-tidy, opt-in: the analyzer is slow here and clang 14 has known false positives.
if [ "${LINT_TIDY:-0}" = 1 ]; then
    gen=build/lint/gen
    mkdir -p "$gen"
    checks='-*,clang-analyzer-*,bugprone-*,-bugprone-easily-swappable-parameters'
    checks+=',-bugprone-reserved-identifier,-bugprone-narrowing-conversions'
    checks+=',-bugprone-implicit-widening-of-multiplication-result'
    checks+=',-clang-analyzer-security.insecureAPI.DeprecatedOrUnsafeBufferHandling'
    checks+=',-clang-analyzer-valist.Uninitialized'
    # shellcheck disable=SC2046 # flag lists
    while read -r l; do
        report "${l#"$PWD"/}"
    done < <(clang-tidy -quiet --checks="$checks" $(find src -name '*.c' | sort) -- -std=c11 \
        -D_GNU_SOURCE -Isrc -I"$gen" $(pkg-config --cflags libmicrohttpd jansson sqlite3 libpq \
        libcurl libsodium pangocairo libqrencode) 2>/dev/null | grep -E '^[^ ]+:[0-9]+:[0-9]+: (warning|error):' |
        sed -E 's/^([^:]+:[0-9]+):[0-9]+: /\1: clang-tidy /' || true)
else
    echo "lint: clang-tidy skipped (LINT_TIDY=1 to run it)" >&2
fi

n=$(wc -l <"$problems")
if [ "$n" -gt 0 ]; then
    echo "lint: $n problem(s)"
    exit 1
fi
echo "lint: clean"
