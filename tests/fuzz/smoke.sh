#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Short libFuzzer run of every fuzz target (tests/fuzz/README.md).
#
#   bash tests/fuzz/smoke.sh SECONDS [TARGET...]     TARGET: decode, pcap, merge (default all)
#
# Builds the targets with clang, -Dfuzzing=true and AddressSanitizer +
# UndefinedBehaviorSanitizer in build-fuzz/ (WP_FUZZ_BUILD to change), runs
# each for SECONDS on a temporary copy of its corpus (plus the regression
# inputs of tests/regress/), so the repository is not modified, and prints
# the executions, exec/s and coverage of each. Fails when a target crashes,
# a sanitizer reports, an invariant of tests/fuzz/fuzz_common.c breaks, or
# libFuzzer itself fails; the failing input is kept and its path printed.
# WP_FUZZ_KEEP=1 keeps the working directory; WP_FUZZ_TOLERATE is passed
# through (see fuzz_common.h).

set -euo pipefail

secs=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(decode pcap merge)
case $secs in
    '' | *[!0-9]*) echo "usage: $0 SECONDS [decode|pcap|merge]..." >&2; exit 2 ;;
esac

cd "$(dirname "$0")/../.."
ROOT=$PWD
BUILD=${WP_FUZZ_BUILD:-build-fuzz}

command -v clang > /dev/null || { echo "smoke.sh: clang is needed" >&2; exit 1; }

# ---- build ---------------------------------------------------------------------
opts=(-Dfuzzing=true -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debugoptimized)
if [ -f "$BUILD/build.ninja" ] && grep -qE '^ *command = .*clang' "$BUILD/build.ninja"; then
    meson configure "$BUILD" "${opts[@]}" > /dev/null
else
    [ -d "$BUILD" ] && wipe=(--wipe) || wipe=()
    CC=clang meson setup "${wipe[@]}" "$BUILD" "${opts[@]}" > "$ROOT/$BUILD.setup.log" 2>&1 || {
        cat "$ROOT/$BUILD.setup.log"
        exit 1
    }
    rm -f "$ROOT/$BUILD.setup.log"
fi
ninja_targets=()
for t in "${targets[@]}"; do ninja_targets+=("tests/fuzz/fuzz_$t"); done
ninja -C "$BUILD" "${ninja_targets[@]}" > /dev/null || ninja -C "$BUILD" "${ninja_targets[@]}"

# ---- run -----------------------------------------------------------------------
work=$(mktemp -d "${TMPDIR:-/tmp}/wp-fuzz.XXXXXX")
if [ "${WP_FUZZ_KEEP:-0}" = 1 ]; then
    echo "working directory: $work"
else
    trap 'rm -rf "$work"' EXIT
fi

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}

status=0
for t in "${targets[@]}"; do
    exe="$BUILD/tests/fuzz/fuzz_$t"
    dir="$work/$t"
    mkdir -p "$dir/corpus" "$dir/artifacts"
    cp tests/fuzz/corpus_"$t"/* "$dir/corpus/"
    # regression inputs: tests/regress/decode/* for decode, tests/regress/merge/* for
    # merge, tests/regress/*.pcap* for pcap
    if [ "$t" = decode ] || [ "$t" = merge ]; then
        find tests/regress/"$t" -maxdepth 1 -type f -exec cp {} "$dir/corpus/" \; 2> /dev/null || true
    else
        find tests/regress -maxdepth 1 -type f \( -name '*.pcap' -o -name '*.pcapng' \) \
            -exec cp {} "$dir/corpus/" \; 2> /dev/null || true
    fi
    n_seeds=$(find "$dir/corpus" -type f | wc -l)
    args=(-max_total_time="$secs" -print_final_stats=1 -timeout=25 -rss_limit_mb=2048
          -artifact_prefix="$dir/artifacts/")
    [ -f "tests/fuzz/$t.dict" ] && args+=(-dict="tests/fuzz/$t.dict")
    log="$dir/fuzz.log"
    echo "=== fuzz_$t: ${secs}s from $n_seeds seeds"
    rc=0
    "$exe" "${args[@]}" "$dir/corpus" > "$log" 2>&1 || rc=$?

    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    last=$(grep -E '^#[0-9]+.* cov: ' "$log" | tail -1 || true)
    cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<< "$last")
    ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<< "$last")
    corp=$(sed -n 's/.* corp: \([^ ]*\).*/\1/p' <<< "$last")
    echo "fuzz_$t: ${execs:-?} executions, ${eps:-?} exec/s, cov: ${cov:-?}, ft: ${ft:-?}, corpus ${corp:-?}"

    bad=""
    [ "$rc" -ne 0 ] && bad="exit status $rc"
    if grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|libFuzzer)|runtime error:|==FUZZ INVARIANT==|deadly signal|Test unit written' "$log"; then
        bad="${bad:+$bad, }a crash or report in the log"
    fi
    if [ -z "$execs" ]; then
        bad="${bad:+$bad, }no final statistics"
    fi
    if [ -n "$bad" ]; then
        status=1
        echo "FAILED: fuzz_$t: $bad"
        grep -E -A30 'ERROR: |runtime error:|==FUZZ INVARIANT==|deadly signal' "$log" | head -60 || tail -40 "$log"
        for a in "$dir"/artifacts/*; do
            [ -e "$a" ] || continue
            keep="$ROOT/$BUILD/fuzz-artifacts"
            mkdir -p "$keep"
            cp "$a" "$keep/"
            echo "failing input: $keep/$(basename "$a") (replay: $exe $keep/$(basename "$a"))"
        done
    fi
done
[ "$status" -eq 0 ] && echo "fuzz smoke: all targets passed" || echo "fuzz smoke: FAILED"
exit "$status"
