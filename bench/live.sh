#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Live capture at the generator's top rate: loss and CPU per tool. trafgen
# (netsniff-ng) sends 60-byte UDP frames into one end of a veth pair between
# two network namespaces made here, pinned to one core with taskset; each
# capture tool listens on the other end, one after the other, interleaved
# (round 1: every tool, round 2: every tool again, ...). Three traffic
# shapes: one flow, 1,000 flows (source ports 10000-10999), and a new flow
# in every packet (random source address and port).
#
# For each tool and shape: packets sent (the sender's tx counter), lost
# (kernel drops from the tool's pcap_stats plus packets that never reached
# it: sent - captured), and the tool's CPU seconds (user + system, from
# /usr/bin/time) per million packets sent. The kernel's share of the work
# (veth delivery, copying into the capture ring) runs in softirq on the
# sender's core and is not in these CPU figures.
#
# Usage (root): bash bench/live.sh [PACKETS] [ROUNDS]
#   PACKETS  frames per run (default 8000000, about 5 s at 1.6 Mpps)
#   ROUNDS   interleaved rounds (default 2); the table shows the median
#   LIVE_TOOLS="..."  subset of: tcpdump wp-j1 wp-j2 softflowd nfpcapd ndpiReader,
#                     and wp-ipfix (wp-j1 exporting IPFIX to an nfcapd on the capture
#                     namespace's loopback), wp-proc (wp-j1 with process attribution on)
#   LIVE_GEN_CPU=N    core for the generator (default 0)
# Prints a Markdown table on standard output. Traffic stays inside the two
# namespaces.

set -euo pipefail
cd "$(dirname "$0")/.."
WP=${WHICHPORTS:-build/whichports}
N=${1:-8000000}
ROUNDS=${2:-2}
GENCPU=${LIVE_GEN_CPU:-0}
read -r -a TOOLS <<< "${LIVE_TOOLS:-tcpdump wp-j1 wp-j2 softflowd nfpcapd ndpiReader}"

[ "$(id -u)" -eq 0 ] || { echo "run as root (network namespaces)" >&2; exit 1; }
for t in trafgen tcpdump ip taskset python3; do
    command -v $t >/dev/null || { echo "needs $t" >&2; exit 1; }
done
[ -x /usr/bin/time ] || { echo "needs /usr/bin/time (GNU time)" >&2; exit 1; }
[ -x "$WP" ] || { echo "build whichports first ($WP)" >&2; exit 1; }

. "$(dirname "$0")/netns.sh" wplive
sleep 1

# trafgen configurations: Ethernet 14 + IPv4 20 + UDP 8 + 18 bytes = 60
conf() {
    local src=$1 sport=$2
    cat <<EOC
{
  eth(da=02:00:00:00:00:02, sa=02:00:00:00:00:01),
  ipv4(saddr=$src, daddr=10.9.0.2, ttl=64),
  udp(sp=$sport, dp=4000),
  fill(0x00, 18)
}
EOC
}
conf 10.9.0.1 10000 > "$TMP/one.cfg"
conf 10.9.0.1 'dinc(10000, 10999)' > "$TMP/thousand.cfg"
conf 'drnd()' 'drnd()' > "$TMP/new.cfg"
SHAPES=(one thousand new)
declare -A SHAPE_NAME=([one]="one flow" [thousand]="1,000 flows" [new]="a new flow per packet")

txcount() { ip netns exec "$NA" cat "/sys/class/net/$IA/statistics/tx_packets"; }

# start TOOL: the capture command in namespace B, under /usr/bin/time
start() {
    local tool=$1
    local -a cmd
    case $tool in
    tcpdump) cmd=(tcpdump -i "$IB" -n -w /dev/null) ;;
    wp-j1) cmd=("$WP" -i "$IB" -T json --no-flows --no-process -j 1) ;;
    wp-j2) cmd=("$WP" -i "$IB" -T json --no-flows --no-process -j 2) ;;
    wp-ipfix)
        mkdir -p "$TMP/nfc"
        ip netns exec "$NB" nfcapd -b 127.0.0.1 -p 9995 -w "$TMP/nfc" > /dev/null 2>&1 &
        NFC=$!
        cmd=("$WP" -i "$IB" -T json --no-flows --no-process -j 1 --ipfix 127.0.0.1:9995) ;;
    wp-proc) cmd=("$WP" -i "$IB" -T json --no-flows -j 1) ;;
    softflowd) mkdir -p "$TMP/sf"; cmd=(softflowd -d -i "$IB" -n 127.0.0.1:9 -c "$TMP/sf/ctl") ;;
    nfpcapd) mkdir -p "$TMP/nf"; cmd=(nfpcapd -i "$IB" -w "$TMP/nf" -v) ;;
    ndpiReader) cmd=(ndpiReader -i "$IB" -s 3600) ;;
    esac
    ip netns exec "$NB" /usr/bin/time -f "%U %S" -o "$TMP/time" "${cmd[@]}" > "$TMP/out" 2> "$TMP/err" &
    TPID=$!
    for _ in $(seq 30); do grep -q "listening on" "$TMP/err" 2>/dev/null && break; sleep 0.1; done
    sleep 1
}

stop() {
    local tool=$1 child
    child=$(pgrep -P "$TPID" | head -1 || true)
    if [ "$tool" = softflowd ]; then
        ip netns exec "$NB" softflowctl -c "$TMP/sf/ctl" statistics > "$TMP/sfstats" 2>&1 || true
    fi
    [ -n "$child" ] && { kill -INT "$child" 2>/dev/null || true; }
    for _ in $(seq 100); do kill -0 "$child" 2>/dev/null || break; sleep 0.1; done
    [ -n "$child" ] && kill -TERM "$child" 2>/dev/null || true
    wait "$TPID" || true
    if [ "$tool" = wp-ipfix ] && [ -n "${NFC:-}" ]; then
        kill -TERM "$NFC" 2>/dev/null || true
        wait "$NFC" 2>/dev/null || true
        NFC=
    fi
}

# parse TOOL: "captured dropped" (dropped: the tool's pcap_stats drops)
parse() {
    python3 - "$1" "$TMP" <<'EOP'
import json, re, sys, os
tool, tmp = sys.argv[1], sys.argv[2]
def rd(n):
    p = os.path.join(tmp, n)
    return open(p, errors="replace").read() if os.path.exists(p) else ""
out, err = rd("out"), rd("err")
cap = drop = None
def num(pat, text):
    m = re.search(pat, text)
    return int(m.group(1)) if m else None
if tool == "tcpdump":
    cap = num(r"(\d+) packets captured", err); drop = num(r"(\d+) packets dropped by kernel", err)
elif tool.startswith("wp"):
    lines = [l for l in out.splitlines() if l.strip()]
    if lines:
        t = json.loads(lines[-1])["totals"]
        cap = t["packets"]; drop = (t.get("dropped") or 0) + (t.get("dropped_interface") or 0)
elif tool == "softflowd":
    s = rd("sfstats")
    cap = num(r"Packets received by libpcap:\s*(\d+)", s)
    drop = num(r"Packets dropped by libpcap:\s*(\d+)", s)
    if cap is not None and drop is not None:
        cap -= drop  # ps_recv counts the dropped ones too
elif tool == "nfpcapd":
    cap = num(r"Processed:\s*(\d+)", out + err)
    drop = num(r"dropped by OS/Buffer:\s*(\d+)", out + err)
elif tool == "ndpiReader":
    cap = num(r"of\s+(\d+)\s+packets total", out + err)
    drop = num(r"[Dd]ropped[^0-9\n]*(\d+)", out + err)
t = rd("time").split()
cpu = float(t[-2]) + float(t[-1]) if len(t) >= 2 else None
print(cap if cap is not None else "-", drop if drop is not None else "-",
      f"{cpu:.2f}" if cpu is not None else "-")
EOP
}

echo "# $(date -u +%Y-%m-%dT%H:%MZ) $(uname -srm), $(nproc) cores: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')" >&2
: > "$TMP/results"
for round in $(seq "$ROUNDS"); do
    for shape in "${SHAPES[@]}"; do
        for tool in "${TOOLS[@]}"; do
            command -v "${tool%%-*}" >/dev/null 2>&1 || [ "${tool%%-*}" = wp ] || continue
            start "$tool"
            tx0=$(txcount)
            t0=$(date +%s.%N)
            ip netns exec "$NA" taskset -c "$GENCPU" trafgen -o "$IA" -c "$TMP/$shape.cfg" \
                -P 1 -n "$N" -q > /dev/null 2>&1 || true
            t1=$(date +%s.%N)
            sent=$(( $(txcount) - tx0 ))
            sleep 1
            stop "$tool"
            read -r cap drop cpu < <(parse "$tool")
            pps=$(python3 -c "print(int($sent / ($t1 - $t0)))")
            echo "$round $shape $tool $sent $pps $cap $drop $cpu" | tee -a "$TMP/results" >&2
        done
    done
done

python3 - "$TMP/results" <<'EOP'
import statistics, sys
rows = {}
order = []
for line in open(sys.argv[1]):
    rnd, shape, tool, sent, pps, cap, drop, cpu = line.split()
    key = (shape, tool)
    if key not in rows:
        rows[key] = []
        order.append(key)
    rows[key].append((int(sent), int(pps), cap, drop, cpu))
names = {"one": "one flow", "thousand": "1,000 flows", "new": "a new flow per packet"}
tools = {"tcpdump": "tcpdump -w /dev/null", "wp-j1": "whichports -j 1", "wp-j2": "whichports -j 2",
         "wp-ipfix": "whichports -j 1 --ipfix (to nfcapd)",
         "wp-proc": "whichports -j 1, process attribution on",
         "softflowd": "softflowd -i", "nfpcapd": "nfpcapd -i", "ndpiReader": "ndpiReader -i"}
print("| traffic | tool | sent pps | lost % (median) | of which pcap drops % | CPU s per M packets | runs |")
print("|---|---|---:|---:|---:|---:|---|")
for key in order:
    shape, tool = key
    runs = rows[key]
    lost, drops, cpus, ppss, detail = [], [], [], [], []
    for sent, pps, cap, drop, cpu in runs:
        ppss.append(pps)
        if cap != "-" and sent:
            lost.append(100.0 * max(0, sent - int(cap)) / sent)
        if drop != "-" and sent:
            drops.append(100.0 * int(drop) / sent)
        if cpu != "-" and sent:
            cpus.append(float(cpu) / (sent / 1e6))
        detail.append(f"{sent}/{cap}/{drop}")
    med = lambda v, f: (f % statistics.median(v)) if v else "n/a"
    print(f"| {names[shape]} | {tools[tool]} | {med(ppss, '%d')} | {med(lost, '%.2f')} | "
          f"{med(drops, '%.2f')} | {med(cpus, '%.3f')} | {'; '.join(detail)} |")
EOP
