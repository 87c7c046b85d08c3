#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Benchmark: whichports against a bare libpcap read loop and other tools.
#
#   bash bench/run.sh                 # full run (~2M-packet mix + 1M-flow flood), updates docs/performance.md
#   BENCH_QUICK=1 bash bench/run.sh   # ~226k-packet mix + 100k-flow flood, 2 runs; results in bench/work only
#
# Environment:
#   BENCH_RUNS=N          runs per tool and input (default 5; 2 in quick mode)
#   BENCH_QUICK=1         small inputs, for testing the script
#   BENCH_COPIES=N        copies of the source set in the mix (default 9, about 2.03M packets)
#   BENCH_FLOWS=N         flows in the flood (default 1000000)
#   BENCH_SLOW_SECS=S     a tool whose first run takes more than S seconds ... (default 60)
#   BENCH_SLOW_RUNS=N     ... is run N times instead (default 3)
#   BENCH_FAST_RUNS=N     a tool whose first run takes under 5 s is run N times (default 15; 4 in quick mode)
#   BENCH_TOOLS=a,b       tools to time (default floor,rawfloor,whichports,tcpdump,tshark,ndpiReader,nfpcapd)
#   BENCH_WORK=DIR        where the inputs and binaries are cached (default bench/work)
#   BENCH_PCAPS=DIR       the shared captures (default ../shared/pcaps beside the source tree)
#   WHICHPORTS=PATH       the binary to time (default: build/whichports, brought up to date with ninja)
#   BENCH_NO_BUILD=1      do not run meson/ninja; use build/whichports as it is
#   BENCH_UPDATE_DOC=0|1  rewrite the bench:* sections of docs/performance.md (default 1, 0 in quick mode)
#
# Nothing is sent anywhere: every tool reads files.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
QUICK=${BENCH_QUICK:-0}
WORK=${BENCH_WORK:-$ROOT/bench/work}
if [ "$QUICK" = 1 ]; then
    RUNS=${BENCH_RUNS:-2}
    COPIES=${BENCH_COPIES:-1}
    FLOWS=${BENCH_FLOWS:-100000}
    UPDATE_DOC=${BENCH_UPDATE_DOC:-0}
    TAG=quick
else
    RUNS=${BENCH_RUNS:-5}
    COPIES=${BENCH_COPIES:-9}
    FLOWS=${BENCH_FLOWS:-1000000}
    UPDATE_DOC=${BENCH_UPDATE_DOC:-1}
    TAG=full
fi
SLOW_SECS=${BENCH_SLOW_SECS:-60}
SLOW_RUNS=${BENCH_SLOW_RUNS:-3}
if [ "$QUICK" = 1 ]; then FAST_RUNS=${BENCH_FAST_RUNS:-4}; else FAST_RUNS=${BENCH_FAST_RUNS:-15}; fi
TOOLS=${BENCH_TOOLS:-floor,rawfloor,whichports,tcpdump,tshark,ndpiReader,nfpcapd}
if [ -n "${BENCH_PCAPS:-}" ]; then
    PCAPS=$BENCH_PCAPS
else
    PCAPS=$ROOT/../shared/pcaps
fi

say() { printf '%s\n' "bench: $*" >&2; }
die() { say "$*"; exit 1; }

for t in python3 cc tcpdump tcprewrite editcap mergecap gunzip /usr/bin/time; do
    command -v "$t" >/dev/null 2>&1 ||
        die "$t is needed (Debian: apt-get install python3 gcc tcpdump tcpreplay wireshark-common gzip time)"
done
[ -f "$PCAPS/manifest.tsv" ] || die "no $PCAPS/manifest.tsv: set BENCH_PCAPS to the shared captures folder"
mkdir -p "$WORK/bin" "$WORK/src" "$WORK/tmp"

# ---- binaries ------------------------------------------------------------
WP_NOTE=""
if [ -n "${WHICHPORTS:-}" ]; then
    WP_SRC=$WHICHPORTS
    WP_NOTE="$WHICHPORTS"
else
    WP_SRC=$ROOT/build/whichports
    if [ "${BENCH_NO_BUILD:-0}" != 1 ]; then
        if [ ! -f build/build.ninja ]; then
            say "meson setup build"
            meson setup build >&2
        fi
        if ! ninja -C build whichports >&2; then
            [ -x "$WP_SRC" ] || die "whichports does not build"
            say "WARNING: ninja failed; timing the existing build/whichports"
        fi
    fi
    [ -x "$WP_SRC" ] || die "no $WP_SRC; build it (meson setup build && ninja -C build)"
    buildtype=$(python3 -c 'import json,sys
try:
    print(next(o["value"] for o in json.load(open(sys.argv[1])) if o["name"]=="buildtype"))
except Exception:
    print("?")' build/meson-info/intro-buildoptions.json)
    rev=$(git rev-parse --short HEAD 2>/dev/null || echo '?')
    dirty=$(git status --porcelain -- src include meson.build 2>/dev/null | wc -l)
    WP_NOTE="git $rev$(if [ "$dirty" -gt 0 ]; then echo " + $dirty uncommitted files in src/include/meson.build"; fi), meson buildtype $buildtype"
fi
# A private copy, so that a rebuild during the runs does not change what is timed.
cp "$WP_SRC" "$WORK/bin/whichports.new" && mv "$WORK/bin/whichports.new" "$WORK/bin/whichports"
WP=$WORK/bin/whichports
WP_NOTE="$WP_NOTE; binary built $(date -u -r "$WP_SRC" '+%Y-%m-%d %H:%M') UTC, sha256 $(sha256sum "$WP" | cut -c1-12)"
cc -O2 -o "$WORK/bin/floor" bench/floor.c -lpcap || die "cannot build bench/floor.c (apt-get install libpcap-dev)"
FLOOR=$WORK/bin/floor
cc -O2 -o "$WORK/bin/rawfloor" bench/rawfloor.c || die "cannot build bench/rawfloor.c"
RAWFLOOR=$WORK/bin/rawfloor

# ---- the mix -------------------------------------------------------------
# Sources: the (A) Apple and (C) larger captures of the shared manifest that are
# Ethernet and that libpcap reads, plus pcaps/*.pcap of this repository.
SOURCES=$WORK/sources.tsv
select_sources() {
    local out=$1 tmp=$1.tmp grp rel f g lt n
    : >"$tmp"
    while IFS=$'\t' read -r grp rel; do
        if [ "$grp" = repo ]; then f=$ROOT/$rel; else f=$PCAPS/$rel; fi
        [ -f "$f" ] || { say "skip $rel: missing"; continue; }
        case $f in
        *.gz)
            g=$WORK/src/$(basename "$f" .gz)
            [ -s "$g" ] || { gunzip -c "$f" >"$g.tmp" && mv "$g.tmp" "$g"; }
            f=$g ;;
        esac
        lt=$(tcpdump -nn -r "$f" -c 1 2>&1 >/dev/null | sed -n 's/.*link-type \([^ ]*\).*/\1/p' | head -1)
        if [ "$lt" != EN10MB ]; then
            say "skip $rel: link type ${lt:-unreadable by libpcap}"
            continue
        fi
        n=$("$FLOOR" "$f" 2>/dev/null | sed -n 's/^\([0-9]*\) packets.*/\1/p')
        [ -n "$n" ] || { say "skip $rel: libpcap cannot read it to the end"; continue; }
        printf '%s\t%s\t%s\t%s\n' "$grp" "$rel" "$n" "$f" >>"$tmp"
    done < <(awk -F'\t' 'NR > 1 && ($1 == "A" || $1 == "C") && $10 == "ether" { print $1 "\t" $2 }' "$PCAPS/manifest.tsv"
             for f in "$ROOT"/pcaps/*.pcap; do [ -f "$f" ] && printf 'repo\tpcaps/%s\n' "${f##*/}"; done)
    mv "$tmp" "$out"
}

# copy k of the base is shifted by k * 1.25 s
shift_of() { local k=$1; printf '%d.%02d' $((k * 5 / 4)) $(((k * 5 % 4) * 25)); }

MIX=$WORK/mix-$COPIES.pcap
if [ "$COPIES" = 1 ]; then
    copies_text="one copy of it, unchanged"
else
    copies_text="then $COPIES copies of it merged (\`mergecap -F pcap\`): copy 0 unchanged (it keeps the Apple addresses), copy k (k = 1..$((COPIES - 1))) with every address replaced (\`tcprewrite --seed=k\`) and its timestamps moved by k x 1.25 s (\`editcap -t\`), so that the copies' flows run side by side"
fi
MIX_RECIPE="The mix \`$(basename "$MIX")\`: the source captures below merged into one pcap (\`mergecap -F pcap\`), $copies_text. The flood \`flood-$FLOWS.pcap\`: \`python3 bench/make-flood.py -n $FLOWS\` ($FLOWS TCP flows, a SYN and a SYN-ACK each, 58-byte frames, 65,536 clients, 256 servers, the SYN-ACK of flow i after the SYN of flow i + 1000). tiny: \`pcaps/apple-session.pcap\`, the baseline for the memory per flow."
if [ -s "$MIX" ] && [ -s "$SOURCES" ]; then
    say "reusing $MIX"
else
    say "selecting source captures from $PCAPS"
    select_sources "$SOURCES"
    [ -s "$SOURCES" ] || die "no usable source captures"
    say "$(wc -l <"$SOURCES") sources, $(awk -F'\t' '{ s += $3 } END { print s }' "$SOURCES") packets per copy"
    BASE=$WORK/tmp/base.pcap
    cut -f4 "$SOURCES" | tr '\n' '\0' | xargs -0 mergecap -F pcap -w "$BASE"
    parts=()
    for ((k = 0; k < COPIES; k++)); do
        if [ "$k" = 0 ]; then
            parts+=("$BASE")
            continue
        fi
        say "copy $k: tcprewrite --seed=$k, editcap -t $(shift_of "$k")"
        tcprewrite --seed="$k" -i "$BASE" -o "$WORK/tmp/seed-$k.pcap"
        editcap -F pcap -t "$(shift_of "$k")" "$WORK/tmp/seed-$k.pcap" "$WORK/tmp/copy-$k.pcap"
        rm -f "$WORK/tmp/seed-$k.pcap"
        parts+=("$WORK/tmp/copy-$k.pcap")
    done
    if [ "$COPIES" = 1 ]; then
        cp "$BASE" "$MIX.tmp"
    else
        say "mergecap -F pcap: $COPIES copies"
        mergecap -F pcap -w "$MIX.tmp" "${parts[@]}"
    fi
    mv "$MIX.tmp" "$MIX"
    rm -f "$WORK"/tmp/copy-*.pcap "$BASE"
fi

FLOOD=$WORK/flood-$FLOWS.pcap
if [ -s "$FLOOD" ]; then
    say "reusing $FLOOD"
else
    say "making $FLOOD"
    python3 bench/make-flood.py -n "$FLOWS" -o "$FLOOD"
fi
TINY=$ROOT/pcaps/apple-session.pcap

# ---- timing --------------------------------------------------------------
OUT=$WORK/results-$TAG.md
DOC_ARGS=()
[ "$UPDATE_DOC" = 1 ] && DOC_ARGS=(--doc "$ROOT/docs/performance.md")
say "timing: $RUNS runs each ($FAST_RUNS for fast tools, $SLOW_RUNS for slow ones), tools $TOOLS"
python3 bench/harness.py \
    --whichports "$WP" --wp-note "$WP_NOTE" --floor "$FLOOR" --rawfloor "$RAWFLOOR" --work "$WORK/tmp" \
    --runs "$RUNS" --slow-secs "$SLOW_SECS" --slow-runs "$SLOW_RUNS" --fast-runs "$FAST_RUNS" --tools "$TOOLS" \
    --input "mix=$MIX" --input "flood=$FLOOD=$FLOWS" --tiny "$TINY" \
    --sources "$SOURCES" --mix-recipe "$MIX_RECIPE" \
    --command "$( [ "$QUICK" = 1 ] && printf 'BENCH_QUICK=1 ')bash bench/run.sh" \
    --out "$OUT" --json "$WORK/results-$TAG.json" "${DOC_ARGS[@]}"
say "results: $OUT"

cat "$OUT"
