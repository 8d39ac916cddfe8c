#!/usr/bin/env bash
# `make fuzz`: build the libFuzzer targets in fuzz/ with clang (ASan+UBSan, all of src/ except
# main.c linked in) under build/fuzz/, then run each for FUZZ_SECONDS (default 30) starting from
# the checked-in seeds in fuzz/corpus/<target>/. Fails, naming the artifact, when one crashes.
#   FUZZ_SECONDS=60 FUZZ_TARGETS="fuzz_router" scripts/fuzz.sh
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${FUZZ_SECONDS:-30}
targets=${FUZZ_TARGETS:-$(find fuzz -maxdepth 1 -name 'fuzz_*.c' -exec basename {} .c \; | sort)}
PKGS=$(make -s --no-print-directory print-pkgs) # the Makefile's list, never a copy
CLANG=${CLANG:-clang}

scripts/deps.sh test

# The largest input worth trying per target (bytes).
max_len() {
    case "$1" in
    fuzz_router) echo 2200 ;; # past ROUTER_MAX_PATH (2048)
    fuzz_json_body) echo 8192 ;;
    *) echo 4096 ;;
    esac
}

out=$PWD/build/fuzz
mkdir -p "$out/obj" "$out/gen" "$out/bin"
pkg_cflags=$(pkg-config --cflags $PKGS)
pkg_libs=$(pkg-config --libs $PKGS)
san="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
cflags="-g -O1 -std=c11 -D_GNU_SOURCE -Isrc -pthread $san $pkg_cflags"

echo "== building (clang, ASan+UBSan) into build/fuzz"
# shellcheck disable=SC2046 # file names without spaces
scripts/embed_sql.sh $(find src/db/sql -name '*.sql' | sort) >"$out/gen/migrations_data.c.tmp"
mv "$out/gen/migrations_data.c.tmp" "$out/gen/migrations_data.c"
# the understanding corpus, embedded as the Makefile does (the model trains from it)
scripts/embed_corpus.sh data/understand/train.tsv data/understand/blind.tsv \
    >"$out/gen/understand_corpus.c.tmp"
mv "$out/gen/understand_corpus.c.tmp" "$out/gen/understand_corpus.c"
srcs=$(find src -name '*.c' ! -path src/main.c | sort)
# One object per source; rebuilt every run (headers may have changed), in parallel.
rm -f "$out"/obj/*.o
printf '%s\n' $srcs "$out/gen/migrations_data.c" "$out/gen/understand_corpus.c" | xargs -P "$(nproc)" -I{} sh -c '
    o="$1/obj/$(echo "$2" | sed "s|^$1/||; s|/|_|g; s|\.c$|.o|")"
    $3 $4 -fsanitize=fuzzer-no-link -c "$2" -o "$o" || exit 255
' sh "$out" {} "$CLANG" "$cflags"
for t in $targets; do
    # shellcheck disable=SC2086 # flag lists
    "$CLANG" $cflags -Wall -Wextra -Werror -fsanitize=fuzzer -o "$out/bin/$t" "fuzz/$t.c" \
        "$out"/obj/*.o $pkg_libs -lstemmer -lm
    echo "  built build/fuzz/bin/$t"
done

export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:symbolize=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
failed=()
for t in $targets; do
    seeds=fuzz/corpus/$t
    work=$out/corpus/$t
    art=$out/artifacts/$t
    mkdir -p "$seeds" "$work" "$art"
    log=$out/$t.log
    echo "== $t: ${seconds}s, -max_len=$(max_len "$t"), seeds $(find "$seeds" -type f | wc -l)"
    # The first corpus dir collects new inputs; the checked-in seeds stay untouched.
    if "$out/bin/$t" -max_total_time="$seconds" -max_len="$(max_len "$t")" -timeout=10 \
        -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$art/" "$work" "$seeds" \
        >"$log" 2>&1; then
        runs=$(awk '/stat::number_of_executed_units/ {print $2}' "$log")
        cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 | cut -d' ' -f2)
        echo "  ok: ${runs:-?} runs, coverage ${cov:-?} edges, corpus $(find "$work" -type f | wc -l) files"
    else
        failed+=("$t")
        echo "  CRASH in $t; log: $log"
        grep -E '^(==[0-9]+==ERROR|SUMMARY|.*runtime error)' "$log" | head -n 5 | sed 's/^/    | /'
        for a in $(grep -o "Test unit written to .*" "$log" | sed 's/Test unit written to //'); do
            echo "    artifact: $a   (reproduce: build/fuzz/bin/$t $a)"
        done
    fi
done

if [ ${#failed[@]} -gt 0 ]; then
    echo "fuzz: crashes in: ${failed[*]}"
    exit 1
fi
echo "fuzz: no crashes"
