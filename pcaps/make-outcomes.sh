#!/usr/bin/env bash
# make-outcomes.sh -- build pcaps/outcomes.pcap: one capture holding every
# connection outcome whichports tells apart, each made by real programs and
# real nftables rules across three network namespaces.
#
#   sudo bash pcaps/make-outcomes.sh
#
# Topology (nothing leaves these namespaces):
#
#   netns i11o-cli            netns i11o-rtr (forwards)          netns i11o-srv
#   i11oc0 10.111.1.10 <veth> i11or0 10.111.1.1  i11or1 10.111.2.1 <veth> i11os0 10.111.2.20
#          fd11:1::10               fd11:1::1           fd11:2::1             fd11:2::20
#
# tcpdump runs on i11oc0 inside the client namespace. The servers are python3
# programs in i11o-srv; the firewall rules are nftables rules in i11o-rtr (a
# firewall on the path) and in i11o-srv (the server's own firewall).
#
#   port  what the capture shows                         rule / program                   outcome
#   8001  TCP connect, data, close (v4, v6)               python3 echo server              closed
#   8002  TCP to a port nobody listens on (v4, v6)        -- (the kernel answers RST)       refused
#   8003  TCP, SYNs dropped (v4, v6)                      srv: tcp dport 8003 drop         unanswered
#   8004  TCP rejected on the path (v4, v6)               rtr: reject with icmp type
#                                                         admin-prohibited / icmpv6 type
#                                                         admin-prohibited                 blocked (3/13, 1/1)
#   8005  TCP rejected by the server (v4, v6)             srv: reject with icmpx type
#                                                         port-unreachable                 blocked (3/3, 1/4)
#   8006  UDP to a closed port (v4, v6)                   -- (the kernel answers ICMP)      blocked (3/3, 1/4)
#   8007  UDP echo (v4, v6)                               python3 UDP echo server          answered
#   8008  TCP established, then reset by the client (v4)  SO_LINGER 0 close               reset
#   8009  TCP connection opened before the capture (v4)   python3 echo server              mid-stream
#   8010  UDP dropped (v4)                                srv: udp dport 8010 drop         unanswered
#   ping  echo with TTL 1 (v4): the router answers time exceeded (not a block)
#
# Nothing is sent anywhere except between these namespaces.

set -euo pipefail

if [[ ${EUID} -ne 0 ]]; then
    echo "make-outcomes.sh: must run as root (sudo bash $0)" >&2
    exit 1
fi

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
OUT="${WP_OUTCOMES_OUT:-${HERE}/outcomes.pcap}"

CLI=i11o-cli
RTR=i11o-rtr
SRV=i11o-srv
CLI4=10.111.1.10;  CLI6=fd11:1::10
RTR4A=10.111.1.1;  RTR6A=fd11:1::1
RTR4B=10.111.2.1;  RTR6B=fd11:2::1
SRV4=10.111.2.20;  SRV6=fd11:2::20

log() { printf '==> %s\n' "$*" >&2; }
die() {
    printf 'make-outcomes.sh: ERROR: %s\n' "$*" >&2
    [[ -s "${TMP:-/nonexistent}/tshark.err" ]] && cat "$TMP/tshark.err" >&2
    exit 1
}

for c in ip nft tcpdump tshark python3 ethtool; do
    command -v "$c" >/dev/null || die "$c is needed"
done
PYTHON=python3
[[ -x /usr/bin/python3 ]] && PYTHON=/usr/bin/python3

TMP="$(mktemp -d /tmp/wp-outcomes.XXXXXX)"
PIDS=()
cleanup() {
    set +e
    for p in "${PIDS[@]:-}"; do [[ -n "$p" ]] && kill "$p" 2>/dev/null; done
    sleep 0.2
    for ns in "$CLI" "$RTR" "$SRV"; do ip netns del "$ns" 2>/dev/null; done
    [[ "${WP_KEEP_TMP:-0}" == 1 ]] || rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

in_cli() { ip netns exec "$CLI" "$@"; }
in_rtr() { ip netns exec "$RTR" "$@"; }
in_srv() { ip netns exec "$SRV" "$@"; }

# ---------------------------------------------------------------- network
log "namespaces"
for ns in "$CLI" "$RTR" "$SRV"; do
    ip netns del "$ns" 2>/dev/null || true
    ip netns add "$ns"
    ip netns exec "$ns" ip link set lo up
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 \
        net.ipv6.conf.all.accept_ra=0 net.ipv6.conf.default.accept_ra=0
    # no ICMP rate limit: every unreachable the kernel decides to send is sent
    ip netns exec "$ns" sysctl -qw net.ipv4.icmp_ratelimit=0 net.ipv6.icmp.ratelimit=0
done
ip link add i11oc0 netns "$CLI" type veth peer name i11or0 netns "$RTR"
ip link add i11or1 netns "$RTR" type veth peer name i11os0 netns "$SRV"
in_cli ip addr add "$CLI4/24" dev i11oc0
in_cli ip addr add "$CLI6/64" dev i11oc0 nodad
in_rtr ip addr add "$RTR4A/24" dev i11or0
in_rtr ip addr add "$RTR6A/64" dev i11or0 nodad
in_rtr ip addr add "$RTR4B/24" dev i11or1
in_rtr ip addr add "$RTR6B/64" dev i11or1 nodad
in_srv ip addr add "$SRV4/24" dev i11os0
in_srv ip addr add "$SRV6/64" dev i11os0 nodad
for x in "$CLI i11oc0" "$RTR i11or0" "$RTR i11or1" "$SRV i11os0"; do
    set -- $x
    ip netns exec "$1" ip link set "$2" up
    ip netns exec "$1" ethtool -K "$2" tx off rx off tso off gso off gro off >/dev/null 2>&1 || true
done
in_rtr sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
in_cli ip route add default via "$RTR4A"
in_cli ip -6 route add default via "$RTR6A"
in_srv ip route add default via "$RTR4B"
in_srv ip -6 route add default via "$RTR6B"

# ---------------------------------------------------------------- firewalls
log "nftables rules"
in_rtr nft -f - <<EOF
table inet pathfw {
    chain forward {
        type filter hook forward priority 0; policy accept;
        meta nfproto ipv4 tcp dport 8004 reject with icmp type admin-prohibited
        meta nfproto ipv6 tcp dport 8004 reject with icmpv6 type admin-prohibited
    }
}
EOF
in_srv nft -f - <<EOF
table inet hostfw {
    chain input {
        type filter hook input priority 0; policy accept;
        tcp dport 8003 drop
        udp dport 8010 drop
        tcp dport 8005 reject with icmpx type port-unreachable
    }
}
EOF

# ---------------------------------------------------------------- servers
cat >"$TMP/server.py" <<'EOF'
import socket, sys, threading
def tcp_echo(fam, addr, port):
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port)); s.listen(16)
    while True:
        c, _ = s.accept()
        threading.Thread(target=serve, args=(c,), daemon=True).start()
def serve(c):
    try:
        while True:
            d = c.recv(4096)
            if not d:
                break
            c.sendall(d[::-1])
    except OSError:
        pass
    c.close()
def udp_echo(fam, addr, port):
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.bind((addr, port))
    while True:
        d, a = s.recvfrom(4096)
        s.sendto(d[::-1], a)
v4, v6 = sys.argv[1], sys.argv[2]
for fam, a in ((socket.AF_INET, v4), (socket.AF_INET6, v6)):
    for p in (8001, 8008, 8009):
        threading.Thread(target=tcp_echo, args=(fam, a, p), daemon=True).start()
    threading.Thread(target=udp_echo, args=(fam, a, 8007), daemon=True).start()
print("ready", flush=True)
threading.Event().wait()
EOF
ip netns exec "$SRV" "$PYTHON" "$TMP/server.py" "$SRV4" "$SRV6" >"$TMP/server.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 50); do grep -q ready "$TMP/server.log" 2>/dev/null && break; sleep 0.1; done
grep -q ready "$TMP/server.log" || die "server did not start"

# ---------------------------------------------------------------- clients
cat >"$TMP/client.py" <<'EOF'
import socket, struct, sys, time
def tcp(addr, port, fam, lines=2, rst=False, timeout=3.5):
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect((addr, port))
    except OSError as e:
        print(f"tcp {addr} {port}: {e.__class__.__name__} {e}", flush=True)
        s.close(); return
    for i in range(lines):
        s.sendall(b"hello %d\n" % i)
        s.recv(100)
    if rst:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
    print(f"tcp {addr} {port}: ok{' (reset)' if rst else ''}", flush=True)
def udp(addr, port, fam, n=2, wait=1.0):
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.settimeout(wait)
    s.connect((addr, port))
    got = 0
    for i in range(n):
        try:
            s.send(b"datagram %d" % i)
            s.recv(100); got += 1
        except OSError as e:
            print(f"udp {addr} {port}: {e.__class__.__name__}", flush=True)
    s.close()
    print(f"udp {addr} {port}: {got}/{n} answered", flush=True)
v4, v6 = sys.argv[1], sys.argv[2]
for fam, a in ((socket.AF_INET, v4), (socket.AF_INET6, v6)):
    tcp(a, 8001, fam); time.sleep(0.3)
    tcp(a, 8002, fam); time.sleep(0.3)
    tcp(a, 8003, fam, timeout=3.5); time.sleep(0.3)
    tcp(a, 8004, fam); time.sleep(0.3)
    tcp(a, 8005, fam); time.sleep(0.3)
    udp(a, 8006, fam, n=1); time.sleep(0.3)
    udp(a, 8007, fam); time.sleep(0.3)
tcp(v4, 8008, socket.AF_INET, rst=True); time.sleep(0.3)
udp(v4, 8010, socket.AF_INET, n=1, wait=2.0); time.sleep(0.3)
EOF
cat >"$TMP/midstream.py" <<'EOF'
import socket, sys, time
s = socket.create_connection((sys.argv[1], 8009))
print("connected", flush=True)
time.sleep(2.0)          # the capture starts meanwhile
for i in range(4):
    s.sendall(b"mid %d\n" % i)
    s.recv(100)
    time.sleep(0.3)
s.close()
print("done", flush=True)
EOF

log "mid-stream connection opened before the capture"
ip netns exec "$CLI" "$PYTHON" "$TMP/midstream.py" "$SRV4" >"$TMP/mid.log" 2>&1 &
MIDPID=$!
PIDS+=($MIDPID)
for _ in $(seq 50); do grep -q connected "$TMP/mid.log" 2>/dev/null && break; sleep 0.1; done
grep -q connected "$TMP/mid.log" || die "mid-stream client did not connect"
sleep 0.5

log "capture"
ip netns exec "$CLI" tcpdump -i i11oc0 -s 0 -U -n -w "$TMP/raw.pcap" >"$TMP/tcpdump.log" 2>&1 &
TCPDUMP=$!
PIDS+=($TCPDUMP)
for _ in $(seq 50); do grep -q "listening on" "$TMP/tcpdump.log" 2>/dev/null && break; sleep 0.1; done
grep -q "listening on" "$TMP/tcpdump.log" || die "tcpdump did not start"

wait "$MIDPID" || die "mid-stream client failed"
in_cli "$PYTHON" "$TMP/client.py" "$SRV4" "$SRV6" | tee "$TMP/client.log" >&2
in_cli ping -c 1 -t 1 -W 1 "$SRV4" >/dev/null 2>&1 || true
sleep 1
kill -INT "$TCPDUMP"
wait "$TCPDUMP" || true

# ---------------------------------------------------------------- checks
log "checks"
n() { tshark -n -r "$TMP/raw.pcap" -Y "$1" 2>"$TMP/tshark.err" | wc -l; }
[[ $(n "tcp.dstport==8001 && tcp.flags.syn==1 && tcp.flags.ack==0") -ge 2 ]] || die "8001 SYNs"
[[ $(n "tcp.srcport==8002 && tcp.flags.reset==1") -ge 2 ]] || die "8002 RSTs"
[[ $(n "tcp.srcport==8003") -eq 0 ]] || die "8003 answered"
[[ $(n "icmp.type==3 && icmp.code==13 && tcp.dstport==8004") -ge 1 ]] || die "8004 icmp 3/13"
[[ $(n "icmpv6.type==1 && icmpv6.code==1 && tcp.dstport==8004") -ge 1 ]] || die "8004 icmp6 1/1"
[[ $(n "icmp.type==3 && icmp.code==3 && tcp.dstport==8005") -ge 1 ]] || die "8005 icmp 3/3"
[[ $(n "icmpv6.type==1 && icmpv6.code==4 && tcp.dstport==8005") -ge 1 ]] || die "8005 icmp6 1/4"
[[ $(n "icmp.type==3 && icmp.code==3 && udp.dstport==8006") -ge 1 ]] || die "8006 icmp 3/3"
[[ $(n "icmpv6.type==1 && icmpv6.code==4 && udp.dstport==8006") -ge 1 ]] || die "8006 icmp6 1/4"
[[ $(n "tcp.port==8008 && tcp.flags.reset==1") -ge 1 ]] || die "8008 RST"
[[ $(n "tcp.port==8009 && tcp.flags.syn==1") -eq 0 ]] || die "8009 SYN captured"
[[ $(n "tcp.port==8009 && tcp.len>0") -ge 4 ]] || die "8009 data"
[[ $(n "icmp.type==11") -ge 1 ]] || die "time exceeded"
cp "$TMP/raw.pcap" "$OUT"
log "wrote $OUT ($(tshark -r "$OUT" 2>/dev/null | wc -l) packets)"
