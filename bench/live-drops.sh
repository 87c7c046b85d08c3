#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# At what packet rate does a live capture start to lose packets? Replays a
# capture with tcpreplay into one end of a veth pair between two network
# namespaces made here, at increasing rates, and captures on the other end
# with whichports, then with tcpdump -w /dev/null at the same rate. Prints
# a Markdown table: packets sent, captured and dropped (kernel drops from
# pcap_stats, and packets that never reached the capture) for each tool.
#
# Usage (root): bash bench/live-drops.sh [CAPTURE] [RATES...]
#   CAPTURE  default pcaps/apple-session.pcap (looped to ~200k packets per step)
#   RATES    default 20000 50000 100000 200000 400000 top
#   LIVE_DROPS_BUFFER=KiB  give both tools the same (small) kernel buffer,
#   to find the rate at which each falls behind
#   LIVE_DROPS_PACKETS=N   packets per step (default 200000)
#   LIVE_DROPS_WP_ARGS="..."  more whichports options (e.g. --no-process)
#   LIVE_DROPS_LOCAL="A/N ..." addresses given to the capturing end, so that
#                          the replayed flows are local and process attribution
#                          looks each one up (its worst case: no such sockets)
#   LIVE_DROPS_NO_TCPDUMP=1   skip the tcpdump runs
# Traffic stays inside the two namespaces.

set -euo pipefail
cd "$(dirname "$0")/.."
WP=${WHICHPORTS:-build/whichports}
PCAP=${1:-pcaps/apple-session.pcap}
shift || true
RATES=("$@")
[ ${#RATES[@]} -gt 0 ] || RATES=(20000 50000 100000 200000 400000 top)
TARGET=${LIVE_DROPS_PACKETS:-200000}
BUF=()   # LIVE_DROPS_BUFFER=KiB: the same small kernel buffer for both tools (-B)
[ -n "${LIVE_DROPS_BUFFER:-}" ] && BUF=(-B "$LIVE_DROPS_BUFFER")
read -r -a WPARGS <<< "${LIVE_DROPS_WP_ARGS:-}"

[ "$(id -u)" -eq 0 ] || { echo "run as root (network namespaces)" >&2; exit 1; }
for t in tcpreplay tcpdump ip; do command -v $t >/dev/null || { echo "needs $t" >&2; exit 1; }; done
[ -x "$WP" ] || { echo "build whichports first ($WP)" >&2; exit 1; }

. "$(dirname "$0")/netns.sh" wpdrop
for a in ${LIVE_DROPS_LOCAL:-}; do ip -n "$NB" addr add "$a" dev "$IB"; done
sleep 1

per_loop=$(tcpdump -r "$PCAP" -qn 2>/dev/null | wc -l)
loops=$(( (TARGET + per_loop - 1) / per_loop ))

# send RATE: replay; print packets sent and the achieved rate
send() {
    local rate=$1 opt
    if [ "$rate" = top ]; then opt=--topspeed; else opt=--pps=$rate; fi
    ip netns exec "$NA" tcpreplay -i "$IA" "$opt" --loop="$loops" "$PCAP" 2>&1 |
        awk '/Actual:/ {sent=$2} /Rated:/ {for (i=1;i<=NF;i++) if ($i ~ /pps/) pps=$(i-1)} END {print sent+0, pps+0}'
}

echo "| requested rate | sent | achieved pps | whichports captured | whichports dropped | tcpdump captured | tcpdump dropped |"
echo "|---|---:|---:|---:|---:|---:|---:|"
for rate in "${RATES[@]}"; do
    # whichports
    ip netns exec "$NB" "$WP" -i "$IB" "${BUF[@]}" ${WPARGS[@]+"${WPARGS[@]}"} -T json --no-flows > "$TMP/wp.json" 2> "$TMP/wp.err" &
    wpid=$!
    for _ in $(seq 50); do grep -q "listening on" "$TMP/wp.err" && break; sleep 0.1; done
    read -r sent1 pps1 < <(send "$rate")
    sleep 1
    kill -INT "$wpid"; wait "$wpid" || true
    read -r wcap wdrop < <(python3 -c '
import json,sys
d=[json.loads(l) for l in open(sys.argv[1]) if l.strip()][-1]["totals"]
print(d["packets"], (d["dropped"] or 0) + (d["dropped_interface"] or 0))' "$TMP/wp.json")
    if [ -n "${LIVE_DROPS_NO_TCPDUMP:-}" ]; then
        echo "| $rate | $sent1 | $pps1 | $wcap ($(( sent1 - wcap )) missing) | $wdrop | - | - |"
        continue
    fi
    # tcpdump
    ip netns exec "$NB" tcpdump -i "$IB" "${BUF[@]}" -w /dev/null -n > /dev/null 2> "$TMP/td.err" &
    tpid=$!
    for _ in $(seq 50); do grep -q "listening on" "$TMP/td.err" && break; sleep 0.1; done
    read -r sent2 pps2 < <(send "$rate")
    sleep 1
    kill -INT "$tpid"; wait "$tpid" || true
    tcap=$(awk '/packets captured/ {print $1}' "$TMP/td.err")
    tdrop=$(awk '/dropped by kernel/ {print $1}' "$TMP/td.err")
    echo "| $rate | $sent1 / $sent2 | $pps1 / $pps2 | $wcap ($(( sent1 - wcap )) missing) | $wdrop | $tcap ($(( sent2 - tcap )) missing) | $tdrop |"
done
