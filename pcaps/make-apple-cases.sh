#!/usr/bin/env bash
# make-apple-cases.sh -- build pcaps/apple-cases.pcap: the cases that decide a
# flow's Apple service (docs/apple.md), made by REAL programs talking across
# two network namespaces.
#
#   sudo bash pcaps/make-apple-cases.sh
#
# Topology (all traffic stays inside the two namespaces created here):
#
#   netns wpac-cli                        netns wpac-srv
#   wpac-cli0 (02:00:0a:62:00:0a) <veth>  wpac-srv0 (02:00:0a:62:00:01)
#   10.98.0.10  client                    10.98.0.53  dnsmasq :53
#   10.98.0.11  "lab" client              10.98.0.20  "courier": UDP echo 3478 3497
#   10.98.0.13  client that gets no reply              16384 16402, TLS :5223
#                                         10.98.0.21  "identity": TLS :443
#                                         10.98.0.22  "push range": TLS :443
#                                         10.98.0.23  "CDN": TLS :443
#                                         10.98.0.12  "lab" server: TCP echo :1720,
#                                                     UDP echo :1719, TLS :443
#                                         10.98.0.40  UDP sink :19000 (never answers)
#                                         10.98.0.60  "mail": TLS :993, banner :587
#                                         10.98.0.70  "names": TLS :443
#
# tcpdump runs on wpac-cli0 inside wpac-cli; afterwards tcprewrite --pnat moves
# the addresses into the spaces the cases need (README.md has the table).
# The DNS answers already hold the rewritten addresses. Clients are python3
# (ssl, socket) with a chosen source address and TLS server name (or none);
# names are never looked up except with dig against the namespace's dnsmasq.
#
# Nothing is sent anywhere except between these two namespaces.

set -euo pipefail

if [[ ${EUID} -ne 0 ]]; then
    echo "make-apple-cases.sh: must run as root (sudo bash $0)" >&2
    exit 1
fi

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
OUT="${HERE}/apple-cases.pcap"

NS="${WP_NETNS_PREFIX:-wpac}"   # namespace and interface prefix (at most 9 characters)
CLI_NS=$NS-cli
SRV_NS=$NS-srv
CLI_IF=$NS-cli0
SRV_IF=$NS-srv0
CLI_MAC=02:00:0a:62:00:0a
SRV_MAC=02:00:0a:62:00:01

CLI=10.98.0.10
LABC=10.98.0.11;    LABC_R=17.2.0.11
LONE=10.98.0.13;    LONE_R=17.99.0.13
DNS=10.98.0.53
COURIER=10.98.0.20; COURIER_R=17.57.144.30
IDS=10.98.0.21;     IDS_R=17.173.67.30
PUSH=10.98.0.22;    PUSH_R=17.57.144.31
CDN=10.98.0.23;     CDN_R=23.50.158.88
LABS=10.98.0.12;    LABS_R=17.2.0.12
SINK=10.98.0.40;    SINK_R=198.51.100.40
MAIL=10.98.0.60;    MAIL_R=17.42.251.60
NAMES=10.98.0.70;   NAMES_R=17.253.144.70

CLI_ALL=("$CLI" "$LABC" "$LONE")
SRV_ALL=("$DNS" "$COURIER" "$IDS" "$PUSH" "$CDN" "$LABS" "$SINK" "$MAIL" "$NAMES")
PNAT=""
for pair in "$LABC:$LABC_R" "$LONE:$LONE_R" "$COURIER:$COURIER_R" "$IDS:$IDS_R" \
            "$PUSH:$PUSH_R" "$CDN:$CDN_R" "$LABS:$LABS_R" "$SINK:$SINK_R" \
            "$MAIL:$MAIL_R" "$NAMES:$NAMES_R"; do
    PNAT+="${PNAT:+,}${pair%%:*}/32:${pair#*:}/32"
done

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'make-apple-cases.sh: ERROR: %s\n' "$*" >&2; exit 1; }

need_pkgs=()
command -v tcpdump    >/dev/null || need_pkgs+=(tcpdump)
command -v tcprewrite >/dev/null || need_pkgs+=(tcpreplay)
command -v tshark     >/dev/null || need_pkgs+=(tshark)
command -v openssl    >/dev/null || need_pkgs+=(openssl)
command -v dig        >/dev/null || need_pkgs+=(bind9-dnsutils)
command -v ethtool    >/dev/null || need_pkgs+=(ethtool)
command -v ss         >/dev/null || need_pkgs+=(iproute2)
[[ -x /usr/sbin/dnsmasq ]] || command -v dnsmasq >/dev/null || need_pkgs+=(dnsmasq-base)
command -v python3    >/dev/null || need_pkgs+=(python3)
if ((${#need_pkgs[@]})); then
    log "installing missing packages: ${need_pkgs[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y --no-install-recommends "${need_pkgs[@]}" \
        || { apt-get update && apt-get install -y --no-install-recommends "${need_pkgs[@]}"; }
fi
DNSMASQ="$(command -v dnsmasq || echo /usr/sbin/dnsmasq)"
PYTHON="$(command -v python3)"
[[ -x /usr/bin/python3 ]] && PYTHON=/usr/bin/python3

TMP="$(mktemp -d /tmp/wp-apple-cases.XXXXXX)"
chmod 755 "$TMP"          # dnsmasq drops to "nobody"
PIDS=()

cleanup() {
    local rc=$?
    set +e
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
    for pid in "${PIDS[@]}"; do
        for _ in $(seq 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
    ip netns del "$CLI_NS" 2>/dev/null
    ip netns del "$SRV_NS" 2>/dev/null
    if [[ $rc -ne 0 ]]; then
        echo "make-apple-cases.sh: failed (rc=$rc); logs follow" >&2
        for f in "$TMP"/*.log; do
            [[ -s $f ]] || continue
            echo "----- $(basename "$f")" >&2
            tail -n 20 "$f" >&2
        done
    fi
    if [[ -n ${WP_KEEP_TMP:-} ]]; then
        echo "make-apple-cases.sh: WP_KEEP_TMP set, temp files kept in $TMP" >&2
    else
        rm -rf "$TMP"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cli() { ip netns exec "$CLI_NS" "$@"; }
srv() { ip netns exec "$SRV_NS" "$@"; }
srv_bg() {
    local logf="$1"; shift
    ip netns exec "$SRV_NS" "$@" </dev/null >"$TMP/$logf" 2>&1 &
    PIDS+=("$!")
}
wait_listen() {   # wait_listen tcp|udp ADDR PORT
    local flag
    [[ $1 == tcp ]] && flag=-Hltn || flag=-Hlun
    for _ in $(seq 100); do
        if srv ss "$flag" | grep -qF "$2:$3 "; then return 0; fi
        sleep 0.1
    done
    die "timeout waiting for $1 $2:$3 to listen"
}

# ---------------------------------------------------------------- namespaces
log "creating namespaces $CLI_NS / $SRV_NS"
ip netns del "$CLI_NS" 2>/dev/null || true
ip netns del "$SRV_NS" 2>/dev/null || true
ip netns add "$CLI_NS"
ip netns add "$SRV_NS"
for ns in "$CLI_NS" "$SRV_NS"; do
    ip netns exec "$ns" ip link set lo up
    for k in all default; do
        ip netns exec "$ns" sysctl -qw "net.ipv6.conf.$k.disable_ipv6=1"
    done
done
ip link add "$CLI_IF" netns "$CLI_NS" address "$CLI_MAC" type veth \
    peer name "$SRV_IF" netns "$SRV_NS" address "$SRV_MAC"
for pair in "$CLI_NS:$CLI_IF" "$SRV_NS:$SRV_IF"; do
    ip netns exec "${pair%%:*}" ethtool -K "${pair#*:}" \
        tx off rx off tso off gso off gro off >/dev/null 2>&1 || true
done
for a in "${CLI_ALL[@]}"; do cli ip addr add "$a/24" dev "$CLI_IF"; done
for a in "${SRV_ALL[@]}"; do srv ip addr add "$a/24" dev "$SRV_IF"; done
# static neighbours: no ARP (its payload would keep the pre-rewrite addresses)
for a in "${SRV_ALL[@]}"; do cli ip neigh replace "$a" lladdr "$SRV_MAC" dev "$CLI_IF" nud permanent; done
for a in "${CLI_ALL[@]}"; do srv ip neigh replace "$a" lladdr "$CLI_MAC" dev "$SRV_IF" nud permanent; done
cli ip link set "$CLI_IF" up
srv ip link set "$SRV_IF" up

# ---------------------------------------------------------------- servers
log "generating a self-signed certificate in $TMP"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30 \
    -subj "/CN=whichports apple cases" -keyout "$TMP/srv.key" -out "$TMP/srv.crt" 2>/dev/null

cat >"$TMP/servers.py" <<'EOF'
# Servers for the cases: "tls ADDR PORT" (TLS, answers each line with its
# length), "tcp ADDR PORT" (echo), "banner ADDR PORT" (SMTP-like greeting,
# then echo), "udp ADDR PORT" (echo), "sink ADDR PORT" (UDP, never answers).
import socket, ssl, sys, threading
crt, key = sys.argv[1], sys.argv[2]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(crt, key)

def serve_conn(c, kind):
    try:
        if kind == "tls":
            c = ctx.wrap_socket(c, server_side=True)
        if kind == "banner":
            c.sendall(b"220 mail.example ESMTP\r\n")
        while True:
            data = c.recv(4096)
            if not data:
                break
            c.sendall(b"%d\r\n" % len(data) if kind == "tls" else data)
    except (OSError, ssl.SSLError):
        pass
    finally:
        c.close()

def tcp_server(kind, addr, port):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port))
    s.listen(16)
    while True:
        c, _ = s.accept()
        threading.Thread(target=serve_conn, args=(c, kind), daemon=True).start()

def udp_server(kind, addr, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((addr, port))
    while True:
        data, peer = s.recvfrom(65535)
        if kind == "udp":
            s.sendto(data, peer)

specs = sys.argv[3:]
threads = []
for i in range(0, len(specs), 3):
    kind, addr, port = specs[i], specs[i + 1], int(specs[i + 2])
    fn = udp_server if kind in ("udp", "sink") else tcp_server
    t = threading.Thread(target=fn, args=(kind, addr, port), daemon=True)
    t.start()
    threads.append(t)
print("listening", flush=True)
for t in threads:
    t.join()
EOF

cat >"$TMP/client.py" <<'EOF'
# One client connection: client.py KIND SRC DST PORT [SNI]
#   tls    TLS handshake (SNI given, or "-" for none), 2 lines, read answers
#   tcp    2 lines over plain TCP, read the echoes
#   banner read a greeting, send EHLO, read the echo
#   udp    3 datagrams, each echoed (STUN-like below 16384, RTP-like above)
#   sink   3 datagrams, no answer expected
import socket, ssl, struct, sys, time
kind, src, dst, port = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
sni = sys.argv[5] if len(sys.argv) > 5 and sys.argv[5] != "-" else None
if kind in ("udp", "sink"):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((src, 0))
    s.settimeout(2.0)
    s.connect((dst, port))
    for i, size in enumerate((64, 172, 980)):
        if port < 16384:
            body = b"whichports-apple-cases".ljust(size - 24, b" ")[: ((size - 24) // 4) * 4]
            msg = struct.pack("!HHI", 1, len(body) + 4, 0x2112A442) + bytes(12) \
                + struct.pack("!HH", 0x8022, len(body)) + body
        else:
            hdr = struct.pack("!BBHII", 0x80, 100, 1000 + i, 160 * i, 0x5a17)
            msg = hdr + bytes(size - len(hdr))
        s.send(msg)
        if kind == "udp" and s.recv(65535) != msg:
            sys.exit("bad echo")
        time.sleep(0.02)
    sys.exit(0)
c = socket.socket()
c.bind((src, 0))
c.settimeout(5.0)
c.connect((dst, port))
if kind == "tls":
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    c = ctx.wrap_socket(c, server_hostname=sni)
if kind == "banner":
    c.recv(4096)
    c.sendall(b"EHLO client.example\r\n")
    c.recv(4096)
else:
    for line in (b"hello\r\n", b"goodbye\r\n"):
        c.sendall(line)
        c.recv(4096)
        time.sleep(0.05)
c.close()
EOF

log "starting servers"
srv_bg dnsmasq.log "$DNSMASQ" --keep-in-foreground --conf-file=/dev/null --no-resolv \
    --no-hosts --bind-interfaces --listen-address="$DNS" --local-ttl=300 --user=nobody \
    --host-record="courier.push.apple.com,$COURIER_R" \
    --host-record="query.ess.apple.com,$IDS_R" \
    --host-record="captive.apple.com.edgekey.net,$CDN_R" \
    --log-facility="$TMP/dnsmasq-queries.log"
srv_bg servers.log "$PYTHON" "$TMP/servers.py" "$TMP/srv.crt" "$TMP/srv.key" \
    udp "$COURIER" 3478 udp "$COURIER" 3497 udp "$COURIER" 16384 udp "$COURIER" 16402 \
    tls "$COURIER" 5223 tls "$IDS" 443 tls "$PUSH" 443 tls "$CDN" 443 \
    tcp "$LABS" 1720 udp "$LABS" 1719 tls "$LABS" 443 sink "$SINK" 19000 \
    tls "$MAIL" 993 banner "$MAIL" 587 tls "$NAMES" 443
wait_listen udp "$DNS" 53
for p in 5223; do wait_listen tcp "$COURIER" $p; done
for p in 3478 3497 16384 16402; do wait_listen udp "$COURIER" $p; done
wait_listen tcp "$IDS" 443; wait_listen tcp "$PUSH" 443; wait_listen tcp "$CDN" 443
wait_listen tcp "$LABS" 1720; wait_listen udp "$LABS" 1719; wait_listen tcp "$LABS" 443
wait_listen udp "$SINK" 19000; wait_listen tcp "$MAIL" 993; wait_listen tcp "$MAIL" 587
wait_listen tcp "$NAMES" 443

# ---------------------------------------------------------------- capture
log "capturing"
# started directly (not through a shell function) so that $! is tcpdump itself
ip netns exec "$CLI_NS" tcpdump -i "$CLI_IF" -s 0 -U -n -Z root -w "$TMP/raw.pcap" \
    2>"$TMP/tcpdump.log" &
TCPDUMP=$!
PIDS+=("$TCPDUMP")
for _ in $(seq 100); do grep -q "listening on" "$TMP/tcpdump.log" && break; sleep 0.1; done
grep -q "listening on" "$TMP/tcpdump.log" || die "tcpdump did not start"

c() { cli timeout 10 "$PYTHON" "$TMP/client.py" "$@"; }
q() { cli timeout 10 dig +short +tries=1 +time=2 -b "$CLI" "@$DNS" "$1" A >/dev/null; }

# part 2: a DNS name for the address, FaceTime's ports on it (port decides)
q courier.push.apple.com
for p in 3478 3497 16384 16402; do c udp "$CLI" "$COURIER" "$p"; done
# part 2, the opposite: a DNS name whose service uses the port (DNS decides)
c tls "$CLI" "$COURIER" 5223 -
q query.ess.apple.com
c tls "$CLI" "$IDS" 443 -
# unnamed TCP 443 to a push range (the prefix's apns tag)
c tls "$CLI" "$PUSH" 443 -
# a CDN name for a CDN address
q captive.apple.com.edgekey.net
c tls "$CLI" "$CDN" 443 -
c tls "$CLI" "$CDN" 443 tether.edge.apple
# both ends in Apple's space: without a name, and with one
c tcp "$LABC" "$LABS" 1720
c udp "$LABC" "$LABS" 1719
c tls "$LABC" "$LABS" 443 gateway.icloud.com
# an Apple client whose datagrams are never answered
c sink "$LONE" "$SINK" 19000
# iCloud Mail ports on an Apple address, no name
c tls "$CLI" "$MAIL" 993 -
c banner "$CLI" "$MAIL" 587
# names of the new labels
for n in gs-loc.apple.com amp-api.music.apple.com configuration.apple.com gsas.apple.com \
         tv.v.aaplimg.com; do
    c tls "$CLI" "$NAMES" 443 "$n"
done

sleep 1
kill -INT "$TCPDUMP"
wait "$TCPDUMP" 2>/dev/null || true

# ---------------------------------------------------------------- rewrite
log "rewriting addresses"
tcprewrite --pnat="$PNAT" --fixcsum -i "$TMP/raw.pcap" -o "$TMP/rewritten.pcap"

# checks: every conversation present, nothing left in the pre-rewrite servers
# except the resolver, no ARP, every DNS query answered
n_arp=$(tshark -r "$TMP/rewritten.pcap" -Y arp 2>/dev/null | wc -l)
[[ $n_arp -eq 0 ]] || die "ARP in the capture"
left=$(tshark -r "$TMP/rewritten.pcap" -T fields -e ip.src -e ip.dst 2>/dev/null \
       | tr '\t' '\n' | sort -u | grep -v -e '^10\.98\.0\.10$' -e '^10\.98\.0\.53$' || true)
for a in $left; do
    case "$a" in
        "$LABC_R"|"$LONE_R"|"$COURIER_R"|"$IDS_R"|"$PUSH_R"|"$CDN_R"|"$LABS_R"|"$SINK_R"|"$MAIL_R"|"$NAMES_R") ;;
        *) die "unexpected address $a in the capture" ;;
    esac
done
n_q=$(tshark -r "$TMP/rewritten.pcap" -Y 'dns.flags.response==0' 2>/dev/null | wc -l)
n_r=$(tshark -r "$TMP/rewritten.pcap" -Y 'dns.flags.response==1' 2>/dev/null | wc -l)
[[ $n_q -eq 3 && $n_r -eq 3 ]] || die "expected 3 DNS queries and answers, got $n_q / $n_r"
n_syn=$(tshark -r "$TMP/rewritten.pcap" -Y 'tcp.flags.syn==1 && tcp.flags.ack==0' 2>/dev/null | wc -l)
[[ $n_syn -eq 14 ]] || die "expected 14 TCP connections, got $n_syn"
cp "$TMP/rewritten.pcap" "$OUT"
log "wrote $OUT ($(tshark -r "$OUT" 2>/dev/null | wc -l) packets)"
