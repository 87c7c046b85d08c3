#!/usr/bin/env bash
# make-hostile-names.sh -- build pcaps/hostile-names.pcap: real DNS, TLS and
# HTTP traffic between two network namespaces whose names (DNS question,
# TLS ClientHello SNI, HTTP Host) hold markup and script: <script>, quotes,
# </svg>, javascript:, and long UTF-8 runs. The HTML report must show them
# as text and run nothing (tests/cli/test_html.py).
#
#   sudo bash pcaps/make-hostile-names.sh
#
#   netns whp-cli  whpc0 10.114.0.10 <veth> whps0 10.114.0.53, 10.114.1.1-6  netns whp-srv
#
# In whp-srv, python3 servers: a DNS responder on 10.114.0.53:53 that answers
# every A question for the i-th hostile name with 10.114.1.i, a TCP sink on
# port 443 (reads the ClientHello, closes) and an HTTP server on port 80.
# In whp-cli, python3 clients (tcpdump on whpc0 meanwhile), for each name:
# a DNS query with the name's raw bytes as labels, a TLS ClientHello built
# byte by byte (clients such as openssl refuse these bytes in an SNI) with
# the name as SNI, and an HTTP GET with the name as Host. Nothing leaves
# these namespaces. WP_HOSTILE_OUT=FILE writes elsewhere.

set -euo pipefail

if [[ ${EUID} -ne 0 ]]; then
    echo "make-hostile-names.sh: must run as root (sudo bash $0)" >&2
    exit 1
fi
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
OUT="${WP_HOSTILE_OUT:-${HERE}/hostile-names.pcap}"
CLI=whp-cli
SRV=whp-srv
for c in ip tcpdump tshark python3 ethtool; do
    command -v "$c" >/dev/null || { echo "make-hostile-names.sh: $c is needed" >&2; exit 1; }
done

TMP="$(mktemp -d /tmp/wp-hostile.XXXXXX)"
PIDS=()
cleanup() {
    set +e
    for p in "${PIDS[@]:-}"; do [[ -n "$p" ]] && kill "$p" 2>/dev/null; done
    sleep 0.2
    ip netns del "$CLI" 2>/dev/null
    ip netns del "$SRV" 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

ip netns add "$CLI"
ip netns add "$SRV"
ip link add whpc0 netns "$CLI" address 02:00:0a:72:00:0a type veth peer name whps0 netns "$SRV" \
    address 02:00:0a:72:00:01
for ns in "$CLI" "$SRV"; do
    ip -n "$ns" link set lo up
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
done
ip netns exec "$CLI" sysctl -qw net.ipv6.conf.whpc0.disable_ipv6=1
ip netns exec "$SRV" sysctl -qw net.ipv6.conf.whps0.disable_ipv6=1
ip -n "$CLI" addr add 10.114.0.10/16 dev whpc0
ip -n "$SRV" addr add 10.114.0.53/16 dev whps0
for i in 1 2 3 4 5 6; do ip -n "$SRV" addr add "10.114.1.$i/16" dev whps0; done
ip netns exec "$CLI" ethtool -K whpc0 tx off rx off tso off gso off gro off >/dev/null 2>&1 || true
ip netns exec "$SRV" ethtool -K whps0 tx off rx off tso off gso off gro off >/dev/null 2>&1 || true
ip -n "$CLI" link set whpc0 up
ip -n "$SRV" link set whps0 up
for a in 10.114.0.53 10.114.1.1 10.114.1.2 10.114.1.3 10.114.1.4 10.114.1.5 10.114.1.6; do
    ip -n "$CLI" neigh replace "$a" lladdr 02:00:0a:72:00:01 dev whpc0 nud permanent
done
ip -n "$SRV" neigh replace 10.114.0.10 lladdr 02:00:0a:72:00:0a dev whps0 nud permanent

# The hostile names, shared by the servers and the clients (raw bytes,
# written as Python bytes literals).
cat > "$TMP/names.py" <<'EOF'
NAMES = [
    b"<script>document.documentElement.setAttribute('data-pwned','1')</script>.example",
    b"\"><img src=x onerror=alert(1)>.example",
    b"</svg><svg onload=alert(2)>.example",
    b"javascript:alert(document.domain).example",
    ("\u65e5\u672c\u8a9e\u306e\u540d\u524d" * 3 + "." + "\u00e9\u00e8\u00ea\u00eb" * 7
     + ".example").encode(),
    b"'single' \"double\" `back` &amp; &lt;x&gt;.example",
]
EOF

cat > "$TMP/server.py" <<'EOF'
import socket, struct, sys, threading
sys.path.insert(0, sys.argv[1])
from names import NAMES

def wire(name):
    return b"".join(bytes([len(l)]) + l for l in name.split(b".")) + b"\0"

def dns():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("10.114.0.53", 53))
    while True:
        q, peer = s.recvfrom(2048)
        qid = q[:2]
        end = 12
        while q[end] != 0:
            end += 1 + q[end]
        question = q[12:end + 5]
        qname = q[12:end + 1]
        idx = [wire(n) for n in NAMES].index(qname) + 1
        ans = b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 300, 4) + bytes([10, 114, 1, idx])
        s.sendto(qid + b"\x81\x80" + struct.pack(">HHHH", 1, 1, 0, 0) + question + ans, peer)

def tcp(port, reply):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port))
    s.listen(16)
    while True:
        c, _ = s.accept()
        c.settimeout(2)
        try:
            c.recv(65536)
            if reply:
                c.sendall(reply)
        except OSError:
            pass
        c.close()

threading.Thread(target=dns, daemon=True).start()
threading.Thread(target=tcp, args=(443, b""), daemon=True).start()
threading.Thread(target=tcp, args=(80, b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n"
                                      b"Connection: close\r\n\r\nok\n"), daemon=True).start()
print("ready", flush=True)
threading.Event().wait()
EOF

cat > "$TMP/client.py" <<'EOF'
import os, socket, struct, sys, time
sys.path.insert(0, sys.argv[1])
from names import NAMES

def wire(name):
    return b"".join(bytes([len(l)]) + l for l in name.split(b".")) + b"\0"

def client_hello(sni):
    ext_sni = struct.pack(">HB H", len(sni) + 3, 0, len(sni)) + sni
    exts = struct.pack(">HH", 0, len(ext_sni)) + ext_sni
    exts += struct.pack(">HHH", 10, 4, 2) + b"\x00\x17"              # groups: secp256r1
    exts += struct.pack(">HHB", 11, 2, 1) + b"\x00"                  # point formats
    exts += struct.pack(">HHH", 13, 4, 2) + b"\x04\x03"              # ecdsa_secp256r1_sha256
    body = b"\x03\x03" + os.urandom(32) + b"\x00" + struct.pack(">H", 4) + b"\xc0\x2b\x00\xff"
    body += b"\x01\x00" + struct.pack(">H", len(exts)) + exts
    hs = b"\x01" + struct.pack(">I", len(body))[1:] + body
    return b"\x16\x03\x01" + struct.pack(">H", len(hs)) + hs

for i, name in enumerate(NAMES, 1):
    d = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    d.settimeout(2)
    d.sendto(struct.pack(">HHHHHH", 0x4000 + i, 0x0100, 1, 0, 0, 0) + wire(name) + b"\0\x01\0\x01",
             ("10.114.0.53", 53))
    r, _ = d.recvfrom(2048)
    addr = socket.inet_ntoa(r[-4:])
    assert addr == "10.114.1.%d" % i, addr
    d.close()
    t = socket.create_connection((addr, 443), timeout=2)
    t.sendall(client_hello(name))
    time.sleep(0.1)
    t.close()
    h = socket.create_connection((addr, 80), timeout=2)
    h.sendall(b"GET /index.html HTTP/1.1\r\nHost: " + name + b"\r\nUser-Agent: wp-hostile\r\n"
              b"Accept: */*\r\nConnection: close\r\n\r\n")
    while h.recv(4096):
        pass
    h.close()
    time.sleep(0.2)
EOF

ip netns exec "$SRV" python3 "$TMP/server.py" "$TMP" > "$TMP/server.out" 2>&1 &
PIDS+=($!)
for _ in $(seq 50); do grep -q ready "$TMP/server.out" 2>/dev/null && break; sleep 0.1; done
grep -q ready "$TMP/server.out" || { cat "$TMP/server.out" >&2; exit 1; }

ip netns exec "$CLI" tcpdump -i whpc0 -s 0 -U -n -Z root -w "$TMP/raw.pcap" 2> "$TMP/tcpdump.err" &
TCPDUMP=$!
PIDS+=("$TCPDUMP")
for _ in $(seq 50); do grep -q "listening on" "$TMP/tcpdump.err" && break; sleep 0.1; done
ip netns exec "$CLI" timeout 60 python3 "$TMP/client.py" "$TMP"
sleep 1
kill -INT "$TCPDUMP"
wait "$TCPDUMP" || true

# Checks against tshark before the file is replaced: 6 DNS answers, 6 SNIs,
# 6 Hosts, 12 TCP connections.
n_dns=$(tshark -r "$TMP/raw.pcap" -Y "dns.flags.response == 1 && dns.a" -T fields -e dns.a | wc -l)
n_sni=$(tshark -r "$TMP/raw.pcap" -Y "tls.handshake.extensions_server_name" -T fields \
    -e tls.handshake.extensions_server_name | wc -l)
n_host=$(tshark -r "$TMP/raw.pcap" -Y "http.host" -T fields -e http.host | wc -l)
n_syn=$(tshark -r "$TMP/raw.pcap" -Y "tcp.flags.syn == 1 && tcp.flags.ack == 0" | wc -l)
echo "dns answers $n_dns, SNIs $n_sni, Hosts $n_host, TCP connections $n_syn" >&2
[[ $n_dns == 6 && $n_sni == 6 && $n_host == 6 && $n_syn == 12 ]] || {
    echo "make-hostile-names.sh: unexpected capture" >&2
    exit 1
}
cp "$TMP/raw.pcap" "$OUT"
echo "wrote $OUT ($(tshark -r "$OUT" | wc -l) packets)" >&2
