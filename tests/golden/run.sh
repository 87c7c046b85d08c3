#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Golden outputs: run whichports on a fixed set of captures in every output
# format and compare each report byte for byte with tests/golden/expected/.
# A mismatch prints a unified diff and fails. How each expected file was
# checked is in tests/golden/README.md.
#
# Usage: tests/golden/run.sh WHICHPORTS SOURCE_ROOT [SHARED_PCAPS]
# Regenerate after an intended output change (then review `git diff`):
#   WP_UPDATE_GOLDEN=1 meson test -C build golden
#
# Exit status: 1 a mismatch or an error; else 77 (meson: SKIP) when a
# capture under SHARED_PCAPS was absent (the others were still compared);
# else 0.

set -u
export TZ=UTC LC_ALL=C

if [ $# -lt 2 ]; then
    echo "usage: $0 WHICHPORTS SOURCE_ROOT [SHARED_PCAPS]" >&2
    exit 1
fi
WP=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
SRC=$(cd "$2" && pwd)
SHARED=${3:-$SRC/../shared/pcaps}
EXPECTED=$SRC/tests/golden/expected
UPDATE=${WP_UPDATE_GOLDEN:-0}

# name|where|path: where is "src" (the repository) or "shared" (SHARED_PCAPS).
CAPTURES=(
    "apple-session|src|pcaps/apple-session.pcap"
    "nonip-pppoe-mpls|src|tests/regress/nonip-in-pppoe-mpls-no-reason.pcap"
    "ts-extremes-duration|src|tests/regress/pcapng-ts-extremes-text-duration.pcapng"
    "ts-extremes-fragments|src|tests/regress/pcapng-ts-extremes-fragments.pcapng"
    "tsoffset-negative|src|tests/regress/pcapng-if-tsoffset-negative-text-duration.pcapng"
    "vxlan|shared|tcpdump/tests/vxlan.pcap"
)

# variant|options
VARIANTS=(
    "text|-T text --top 0"
    "filters|-T text --filters"
    "apple|-T text --apple"
    "json|-T json"
    "csv-ports|-T csv --view ports"
    "csv-flows|-T csv --view flows"
    "csv-hosts|-T csv --view hosts"
    "csv-tunnels|-T csv --view tunnels"
    "csv-totals|-T csv --view totals"
    "csv-apple|-T csv --apple"
)

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$EXPECTED"

checked=0
failed=0
updated=0
skipped=0
for c in "${CAPTURES[@]}"; do
    IFS='|' read -r name where path <<< "$c"
    if [ "$where" = shared ]; then
        if [ ! -f "$SHARED/$path" ]; then
            echo "SKIP $name: $SHARED/$path not present"
            skipped=$((skipped + 1))
            continue
        fi
        file=$SHARED/$path
    else
        file=$SRC/$path
    fi
    # Run from the capture's folder so that the report names the file
    # alone, wherever the tree is.
    dir=$(dirname "$file")
    base=$(basename "$file")
    for v in "${VARIANTS[@]}"; do
        IFS='|' read -r variant opts <<< "$v"
        out=$tmp/$name.$variant
        # shellcheck disable=SC2086 # opts are words on purpose
        (cd "$dir" && "$WP" -q $opts -r "$base") > "$out" 2> "$tmp/stderr"
        rc=$?
        # Exit status 3 (damaged input) is part of what is pinned.
        printf 'exit %d\n' "$rc" >> "$out"
        if [ -s "$tmp/stderr" ]; then
            echo "FAIL $name.$variant: -q wrote to standard error:"
            cat "$tmp/stderr"
            failed=$((failed + 1))
            continue
        fi
        exp=$EXPECTED/$name.$variant
        if [ "$UPDATE" = 1 ]; then
            if ! cmp -s "$out" "$exp"; then
                cp "$out" "$exp"
                echo "updated $name.$variant"
                updated=$((updated + 1))
            fi
            continue
        fi
        checked=$((checked + 1))
        if [ ! -f "$exp" ]; then
            echo "FAIL $name.$variant: no expected file $exp (WP_UPDATE_GOLDEN=1 makes it)"
            failed=$((failed + 1))
        elif ! cmp -s "$exp" "$out"; then
            echo "FAIL $name.$variant ($opts -r $path):"
            diff -u --label "expected/$name.$variant" --label "got/$name.$variant" "$exp" "$out"
            failed=$((failed + 1))
        fi
    done
done

if [ "$UPDATE" = 1 ]; then
    echo "$updated golden files written"
    exit 0
fi
echo "$checked golden files compared, $failed differ, $skipped captures skipped"
[ "$failed" -eq 0 ] || exit 1
[ "$skipped" -eq 0 ] || exit 77
exit 0
