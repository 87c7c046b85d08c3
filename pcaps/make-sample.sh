#!/usr/bin/env bash
# make-sample.sh -- build pcaps/apple-session.pcap, an "Apple-like session"
# captured from REAL programs talking across two network namespaces.
#
#   sudo bash pcaps/make-sample.sh
#
# Topology (all traffic stays inside two namespaces created here):
#
#   netns wpcli                         netns wpsrv
#   wpcli0 (02:00:0a:63:00:0a)  <veth>  wpsrv0 (02:00:0a:63:00:01)
#   10.99.0.10/24                       10.99.0.7   fd00:99::7    XMPP-like TLS :5223
#   fd00:99::10/64                      10.99.0.20  fd00:99::20   "APNs" TLS :5223
#                                       10.99.0.53  fd00:99::53   dnsmasq :53 udp+tcp
#                                       10.99.0.100 fd00:99::100  UDP echo 3478-3497,16384-16402
#                                       10.99.0.110 fd00:99::110  "HTTPS" TLS :443 (s_server -www)
#                                                                 + QUIC udp/443 (gtlsserver, HTTP/3)
#                                       10.99.0.111 fd00:99::111  HTTP :80 (python3 http.server)
#                                       10.99.0.112 fd00:99::112  "identity" TLS :443 (s_server -www)
#
# tcpdump runs on wpcli0 inside wpcli; afterwards tcprewrite --pnat moves the
# server addresses into Apple's address space (17.0.0.0/8, 2620:149::/32,
# 2403:300::/32, 2a01:b740::/32), except the DNS resolver (stays private) and
# the XMPP negative control (moves to documentation ranges).  See README.md.
#
# The QUIC client (gtlsclient) connects by NAME (mask.icloud.com), so the
# name is its TLS SNI; the name resolves inside wpcli through
# /etc/netns/wpcli/hosts (ip netns exec bind-mounts /etc/netns/wpcli/* over
# /etc), written per address family and removed on exit.
#
# Nothing is sent anywhere except between these two namespaces.

set -euo pipefail

if [[ ${EUID} -ne 0 ]]; then
    echo "make-sample.sh: must run as root (sudo bash $0)" >&2
    exit 1
fi

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
OUT="${HERE}/apple-session.pcap"

CLI_NS=wpcli
SRV_NS=wpsrv
CLI_IF=wpcli0
SRV_IF=wpsrv0
CLI_MAC=02:00:0a:63:00:0a
SRV_MAC=02:00:0a:63:00:01

CLI4=10.99.0.10
CLI6=fd00:99::10

# role          pre-rewrite v4 / v6           post-rewrite v4 / v6
APNS4=10.99.0.20;   APNS6=fd00:99::20;   APNS4_R=17.57.144.20;   APNS6_R=2620:149:a44::20
IDS4=10.99.0.112;   IDS6=fd00:99::112;   IDS4_R=17.173.67.12;    IDS6_R=2620:149:a43::112
HTTPS4=10.99.0.110; HTTPS6=fd00:99::110; HTTPS4_R=17.253.144.10; HTTPS6_R=2403:300:a42::10
HTTP4=10.99.0.111;  HTTP6=fd00:99::111;  HTTP4_R=17.253.144.11;  HTTP6_R=2620:149:a42::11
DNS4=10.99.0.53;    DNS6=fd00:99::53     # not rewritten (local resolver)
MEDIA4=10.99.0.100; MEDIA6=fd00:99::100; MEDIA4_R=17.173.66.100; MEDIA6_R=2a01:b740:a42::100
XMPP4=10.99.0.7;    XMPP6=fd00:99::7;    XMPP4_R=198.51.100.7;   XMPP6_R=2001:db8::7

SRV4_ALL=("$XMPP4" "$APNS4" "$DNS4" "$MEDIA4" "$HTTPS4" "$HTTP4" "$IDS4")
SRV6_ALL=("$XMPP6" "$APNS6" "$DNS6" "$MEDIA6" "$HTTPS6" "$HTTP6" "$IDS6")

PNAT="${APNS4}/32:${APNS4_R}/32"
PNAT+=",${HTTPS4}/32:${HTTPS4_R}/32"
PNAT+=",${HTTP4}/32:${HTTP4_R}/32"
PNAT+=",${MEDIA4}/32:${MEDIA4_R}/32"
PNAT+=",${XMPP4}/32:${XMPP4_R}/32"
PNAT+=",${IDS4}/32:${IDS4_R}/32"
PNAT+=",[${APNS6}/128]:[${APNS6_R}/128]"
PNAT+=",[${HTTPS6}/128]:[${HTTPS6_R}/128]"
PNAT+=",[${HTTP6}/128]:[${HTTP6_R}/128]"
PNAT+=",[${MEDIA6}/128]:[${MEDIA6_R}/128]"
PNAT+=",[${XMPP6}/128]:[${XMPP6_R}/128]"
PNAT+=",[${IDS6}/128]:[${IDS6_R}/128]"

MEDIA_PORTS_LO=(3478 3497)
MEDIA_PORTS_HI=(16384 16402)
MEDIA_PROBE_PORTS="3478 3480 3497 16384 16387 16393 16402"

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'make-sample.sh: ERROR: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------- packages
need_pkgs=()
command -v tcpdump    >/dev/null || need_pkgs+=(tcpdump)
command -v tcprewrite >/dev/null || need_pkgs+=(tcpreplay)
command -v tshark     >/dev/null || need_pkgs+=(tshark)
command -v capinfos   >/dev/null || need_pkgs+=(wireshark-common)
command -v openssl    >/dev/null || need_pkgs+=(openssl)
command -v curl       >/dev/null || need_pkgs+=(curl)
command -v dig        >/dev/null || need_pkgs+=(bind9-dnsutils)
command -v ping       >/dev/null || need_pkgs+=(iputils-ping)
command -v ethtool    >/dev/null || need_pkgs+=(ethtool)
command -v ss         >/dev/null || need_pkgs+=(iproute2)
command -v ip         >/dev/null || need_pkgs+=(iproute2)
[[ -x /usr/sbin/dnsmasq ]] || command -v dnsmasq >/dev/null || need_pkgs+=(dnsmasq-base)
command -v python3    >/dev/null || need_pkgs+=(python3)
command -v gtlsclient >/dev/null || need_pkgs+=(ngtcp2-client)
[[ -x /usr/sbin/gtlsserver ]] || command -v gtlsserver >/dev/null || need_pkgs+=(ngtcp2-server)
if ((${#need_pkgs[@]})); then
    log "installing missing packages: ${need_pkgs[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y --no-install-recommends "${need_pkgs[@]}" \
        || { apt-get update && apt-get install -y --no-install-recommends "${need_pkgs[@]}"; }
fi
DNSMASQ="$(command -v dnsmasq || echo /usr/sbin/dnsmasq)"
GTLSSERVER="$(command -v gtlsserver || echo /usr/sbin/gtlsserver)"
GTLSCLIENT="$(command -v gtlsclient)"
PYTHON="$(command -v python3)"
[[ -x /usr/bin/python3 ]] && PYTHON=/usr/bin/python3

# ---------------------------------------------------------------- cleanup
TMP="$(mktemp -d /tmp/wp-sample.XXXXXX)"
chmod 755 "$TMP"          # dnsmasq drops to "nobody"; let it read its files
PIDS=()

# Names for the QUIC client, seen only inside wpcli: `ip netns exec` bind-
# mounts every file of /etc/netns/wpcli over /etc.  resolv.conf points at the
# namespace's own dnsmasq, so that no lookup could ever leave (and any stray
# one would show up in the capture and fail the checks below).
NETNS_ETC=/etc/netns/wpcli
NETNS_ETC_MADE=

cleanup() {
    local rc=$?
    set +e
    for pid in "${PIDS[@]}"; do
        kill -TERM "$pid" 2>/dev/null
    done
    for pid in "${PIDS[@]}"; do
        for _ in $(seq 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
    ip netns del "$CLI_NS" 2>/dev/null
    ip netns del "$SRV_NS" 2>/dev/null
    if [[ -n $NETNS_ETC_MADE ]]; then
        rm -f "$NETNS_ETC/hosts" "$NETNS_ETC/resolv.conf"
        rmdir "$NETNS_ETC" 2>/dev/null
        rmdir /etc/netns 2>/dev/null
    fi
    if [[ $rc -ne 0 ]]; then
        echo "make-sample.sh: failed (rc=$rc); server logs follow" >&2
        for f in "$TMP"/*.log; do
            [[ -s $f ]] || continue
            echo "----- $(basename "$f")" >&2
            tail -n 20 "$f" >&2
        done
    fi
    if [[ -n ${WP_KEEP_TMP:-} ]]; then
        echo "make-sample.sh: WP_KEEP_TMP set, temp files kept in $TMP" >&2
    else
        rm -rf "$TMP"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cli() { ip netns exec "$CLI_NS" "$@"; }
srv() { ip netns exec "$SRV_NS" "$@"; }

# start a background server inside wpsrv, remember its pid
srv_bg() {
    local logf="$1"; shift
    ip netns exec "$SRV_NS" "$@" </dev/null >"$TMP/$logf" 2>&1 &
    PIDS+=("$!")
}

# wait_listen tcp|udp ADDR PORT [PID]
wait_listen() {
    local proto="$1" addr="$2" port="$3" pid="${4:-}" flag pat
    [[ $proto == tcp ]] && flag=-Hltn || flag=-Hlun
    if [[ $addr == *:* ]]; then pat="[${addr}]:${port} "; else pat="${addr}:${port} "; fi
    for _ in $(seq 100); do
        if srv ss "$flag" | grep -qF "$pat"; then return 0; fi
        if [[ -n $pid ]] && ! kill -0 "$pid" 2>/dev/null; then
            die "server for $proto $addr:$port exited early"
        fi
        sleep 0.1
    done
    die "timeout waiting for $proto $addr:$port to listen"
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
        ip netns exec "$ns" sysctl -qw \
            "net.ipv6.conf.$k.accept_ra=0" \
            "net.ipv6.conf.$k.router_solicitations=0" \
            "net.ipv6.conf.$k.accept_dad=0" \
            "net.ipv6.conf.$k.dad_transmits=0"
    done
done

ip link add "$CLI_IF" netns "$CLI_NS" address "$CLI_MAC" type veth \
    peer name "$SRV_IF" netns "$SRV_NS" address "$SRV_MAC"

# Real NICs deliver MTU-sized frames with valid checksums; a veth would
# otherwise show GSO super-frames and partial checksums in the capture.
for pair in "$CLI_NS:$CLI_IF" "$SRV_NS:$SRV_IF"; do
    ip netns exec "${pair%%:*}" ethtool -K "${pair#*:}" \
        tx off rx off tso off gso off gro off >/dev/null 2>&1 || true
done

cli ip addr add "$CLI4/24" dev "$CLI_IF"
cli ip -6 addr add "$CLI6/64" dev "$CLI_IF" nodad
for a in "${SRV4_ALL[@]}"; do srv ip addr add "$a/24" dev "$SRV_IF"; done
for a in "${SRV6_ALL[@]}"; do srv ip -6 addr add "$a/64" dev "$SRV_IF" nodad; done

# Static neighbour entries: no ARP / neighbour solicitations in the capture.
# (Their payloads -- ARP target, NS target, solicited-node multicast group --
# would carry the pre-rewrite addresses, which tcprewrite does not touch.)
for a in "${SRV4_ALL[@]}" "${SRV6_ALL[@]}"; do
    cli ip neigh replace "$a" lladdr "$SRV_MAC" dev "$CLI_IF" nud permanent
done
srv ip neigh replace "$CLI4" lladdr "$CLI_MAC" dev "$SRV_IF" nud permanent
srv ip neigh replace "$CLI6" lladdr "$CLI_MAC" dev "$SRV_IF" nud permanent

cli ip link set "$CLI_IF" up
srv ip link set "$SRV_IF" up

# /etc/netns/wpcli/{hosts,resolv.conf}: ours only (marked); never clobber
# files someone else put there.
NETNS_MARK="# made by whichports pcaps/make-sample.sh; removed when it exits"
for f in hosts resolv.conf; do
    if [[ -e $NETNS_ETC/$f ]] && ! grep -qxF "$NETNS_MARK" "$NETNS_ETC/$f"; then
        die "$NETNS_ETC/$f exists and was not made by this script; move it away first"
    fi
done
mkdir -p "$NETNS_ETC"
NETNS_ETC_MADE=1
printf '%s\nnameserver %s\nnameserver %s\noptions timeout:1 attempts:1\n' \
    "$NETNS_MARK" "$DNS4" "$DNS6" >"$NETNS_ETC/resolv.conf"
cli_hosts() {   # cli_hosts ADDR NAME: the only name wpcli's /etc/hosts knows
    printf '%s\n127.0.0.1 localhost\n::1 localhost\n%s %s\n' "$NETNS_MARK" "$1" "$2" \
        >"$NETNS_ETC/hosts"
}

# ---------------------------------------------------------------- server files
log "generating self-signed certificates in $TMP"
mkcert() {   # mkcert NAME CN
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
        -days 30 -subj "/CN=$2" -addext "subjectAltName=DNS:$2" \
        -keyout "$TMP/$1.key" -out "$TMP/$1.crt" 2>/dev/null
}
mkcert apns  courier.push.apple.com
mkcert ids   query.ess.apple.com
mkcert https gateway.icloud.com
mkcert xmpp  xmpp.example.net
mkcert quic  mask.icloud.com

mkdir -p "$TMP/www"
cat >"$TMP/www/bag.xml" <<'EOF'
<?xml version="1.0" encoding="UTF-8"?>
<plist version="1.0"><dict><key>sample</key><string>whichports test bag</string></dict></plist>
EOF
echo '<html><body>whichports sample</body></html>' >"$TMP/www/index.html"
mkdir -p "$TMP/h3"
echo 'whichports sample over HTTP/3' >"$TMP/h3/relay.txt"

cat >"$TMP/udp_echo.py" <<'EOF'
# UDP echo server: every port of the given ranges on the given addresses.
import selectors, socket, sys
addrs = sys.argv[1].split(",")
ranges = [tuple(map(int, r.split("-"))) for r in sys.argv[2].split(",")]
sel = selectors.DefaultSelector()
for a in addrs:
    fam = socket.AF_INET6 if ":" in a else socket.AF_INET
    for lo, hi in ranges:
        for p in range(lo, hi + 1):
            s = socket.socket(fam, socket.SOCK_DGRAM)
            s.bind((a, p))
            s.setblocking(False)
            sel.register(s, selectors.EVENT_READ)
print("listening", flush=True)
while True:
    for key, _ in sel.select():
        s = key.fileobj
        try:
            data, peer = s.recvfrom(65535)
        except BlockingIOError:
            continue
        s.sendto(data, peer)
EOF

cat >"$TMP/udp_client.py" <<'EOF'
# FaceTime-like UDP client: per destination port a fresh socket (ephemeral
# source port), 3 datagrams of varying size, wait for each echo.
# 3478-3497 get STUN Binding Requests, 16384-16402 get RTP-looking packets.
import random, socket, struct, sys, time
server = sys.argv[1]
ports = [int(p) for p in sys.argv[2].split()]
rng = random.Random(0x5a17)
fam = socket.AF_INET6 if ":" in server else socket.AF_INET
sizes = [64, 172, 980]
ok = 0
for port in ports:
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.settimeout(2.0)
    s.connect((server, port))
    ssrc = rng.getrandbits(32)
    for i, size in enumerate(sizes):
        if port < 16384:
            # STUN Binding Request, padded with a SOFTWARE attribute
            soft = b"whichports-sample".ljust(size - 24, b" ")
            soft = soft[: (len(soft) // 4) * 4]
            attr = struct.pack("!HH", 0x8022, len(soft)) + soft
            msg = struct.pack("!HHI", 0x0001, len(attr), 0x2112A442) \
                + rng.randbytes(12) + attr
        else:
            hdr = struct.pack("!BBHII", 0x80, 100, 1000 + i, 160 * i, ssrc)
            msg = hdr + rng.randbytes(size - len(hdr))
        s.send(msg)
        echo = s.recv(65535)
        if echo != msg:
            sys.exit("bad echo from port %d" % port)
        ok += 1
        time.sleep(0.02)
    s.close()
print("udp ok: %d datagrams echoed" % ok)
EOF

cat >"$TMP/restore_mac.py" <<'EOF'
# restore_mac.py RAW REWRITTEN OUT: copy dst+src MAC of frame i of RAW into
# frame i of REWRITTEN.  Both must be classic little-endian pcap with the
# same number of frames and the same frame lengths.
import struct, sys
def frames(path):
    d = open(path, "rb").read()
    magic, = struct.unpack_from("<I", d, 0)
    if magic not in (0xA1B2C3D4, 0xA1B23C4D):
        sys.exit("%s: not a little-endian classic pcap" % path)
    hdr, off, out = d[:24], 24, []
    while off < len(d):
        incl, = struct.unpack_from("<I", d, off + 8)
        out.append((d[off:off + 16], bytearray(d[off + 16:off + 16 + incl])))
        off += 16 + incl
    return hdr, out
_, raw = frames(sys.argv[1])
hdr, rew = frames(sys.argv[2])
if len(raw) != len(rew):
    sys.exit("frame count differs: %d vs %d" % (len(raw), len(rew)))
fixed = 0
with open(sys.argv[3], "wb") as f:
    f.write(hdr)
    for (rh, rb), (wh, wb) in zip(raw, rew):
        if len(rb) != len(wb):
            sys.exit("frame length differs")
        if wb[:12] != rb[:12]:
            wb[:12] = rb[:12]
            fixed += 1
        f.write(wh + bytes(wb))
print("restore_mac: %d frames, %d MAC headers restored" % (len(rew), fixed), file=sys.stderr)
EOF

# ---------------------------------------------------------------- servers
log "starting servers in $SRV_NS"

# HTTPS (type 65, RFC 9460) record for mask.icloud.com: priority 1, target
# ".", alpn "h3", ipv4hint and ipv6hint = the QUIC server's FINAL addresses.
hexaddr() { "$PYTHON" -c 'import ipaddress,sys; print(ipaddress.ip_address(sys.argv[1]).packed.hex())' "$1"; }
HTTPS_RR="0001""00""0001""0003""026833"
HTTPS_RR+="0004""0004$(hexaddr "$HTTPS4_R")"
HTTPS_RR+="0006""0010$(hexaddr "$HTTPS6_R")"

# DNS: dnsmasq, no upstream, answers are the FINAL (post-rewrite) addresses.
srv_bg dnsmasq.log "$DNSMASQ" --keep-in-foreground --conf-file=/dev/null \
    --no-resolv --no-hosts --no-poll --bind-interfaces \
    --listen-address="$DNS4" --listen-address="$DNS6" \
    --pid-file="$TMP/dnsmasq.pid" --local-ttl=300 \
    --log-queries --log-facility=- \
    --host-record="courier.push.apple.com,$APNS4_R,$APNS6_R" \
    --host-record="query.ess.apple.com,$IDS4_R,$IDS6_R" \
    --host-record="gateway.fe2.apple-dns.net,$HTTPS4_R,$HTTPS6_R" \
    --cname="gateway.icloud.com,gateway.fe2.apple-dns.net" \
    --host-record="init.itunes.apple.com,$HTTP4_R,$HTTP6_R" \
    --host-record="xmpp.example.net,$XMPP4_R,$XMPP6_R" \
    --dns-rr="mask.icloud.com,65,$HTTPS_RR"
DNSMASQ_PID=$!

# TLS 5223: "APNs" and the non-Apple XMPP-like control (-rev: echo reversed);
# TLS 443: "HTTPS" and "identity" (-www: answers any GET with an HTML status page)
tls_srv() {   # tls_srv LOG MODE ADDR:PORT CERTNAME
    srv_bg "$1" openssl s_server "$2" -accept "$3" -cert "$TMP/$4.crt" -key "$TMP/$4.key"
}
tls_srv apns4.log  -rev "$APNS4:5223"     apns;  APNS_PID4=$!
tls_srv apns6.log  -rev "[$APNS6]:5223"   apns;  APNS_PID6=$!
tls_srv xmpp4.log  -rev "$XMPP4:5223"     xmpp;  XMPP_PID4=$!
tls_srv xmpp6.log  -rev "[$XMPP6]:5223"   xmpp;  XMPP_PID6=$!
tls_srv https4.log -www "$HTTPS4:443"     https; HTTPS_PID4=$!
tls_srv https6.log -www "[$HTTPS6]:443"   https; HTTPS_PID6=$!
tls_srv ids4.log   -www "$IDS4:443"       ids;   IDS_PID4=$!
tls_srv ids6.log   -www "[$IDS6]:443"     ids;   IDS_PID6=$!

# QUIC 443 (HTTP/3 over QUIC v1, ngtcp2 + GnuTLS) on the HTTPS addresses.
# One datagram per sendmsg (no UDP GSO super-frames), no PMTU probes.
quic_srv() {  # quic_srv LOG ADDR
    srv_bg "$1" "$GTLSSERVER" -q --no-quic-dump --no-http-dump --no-pmtud \
        --max-gso-dgrams=1 --timeout=5s -d "$TMP/h3" "$2" 443 "$TMP/quic.key" "$TMP/quic.crt"
}
quic_srv quic4.log "$HTTPS4"; QUIC_PID4=$!
quic_srv quic6.log "$HTTPS6"; QUIC_PID6=$!

# HTTP 80
srv_bg http4.log "$PYTHON" -m http.server 80 --bind "$HTTP4" --directory "$TMP/www"
HTTP_PID4=$!
srv_bg http6.log "$PYTHON" -m http.server 80 --bind "$HTTP6" --directory "$TMP/www"
HTTP_PID6=$!

# UDP media
srv_bg udp_echo.log "$PYTHON" "$TMP/udp_echo.py" "$MEDIA4,$MEDIA6" \
    "${MEDIA_PORTS_LO[0]}-${MEDIA_PORTS_LO[1]},${MEDIA_PORTS_HI[0]}-${MEDIA_PORTS_HI[1]}"
UDP_PID=$!

wait_listen tcp "$DNS4" 53 "$DNSMASQ_PID"
wait_listen tcp "$DNS6" 53 "$DNSMASQ_PID"
wait_listen udp "$DNS4" 53 "$DNSMASQ_PID"
wait_listen udp "$DNS6" 53 "$DNSMASQ_PID"
wait_listen tcp "$APNS4" 5223 "$APNS_PID4"
wait_listen tcp "$APNS6" 5223 "$APNS_PID6"
wait_listen tcp "$XMPP4" 5223 "$XMPP_PID4"
wait_listen tcp "$XMPP6" 5223 "$XMPP_PID6"
wait_listen tcp "$HTTPS4" 443 "$HTTPS_PID4"
wait_listen tcp "$HTTPS6" 443 "$HTTPS_PID6"
wait_listen tcp "$IDS4" 443 "$IDS_PID4"
wait_listen tcp "$IDS6" 443 "$IDS_PID6"
wait_listen udp "$HTTPS4" 443 "$QUIC_PID4"
wait_listen udp "$HTTPS6" 443 "$QUIC_PID6"
wait_listen tcp "$HTTP4" 80 "$HTTP_PID4"
wait_listen tcp "$HTTP6" 80 "$HTTP_PID6"
for p in "${MEDIA_PORTS_LO[@]}" "${MEDIA_PORTS_HI[@]}"; do
    wait_listen udp "$MEDIA4" "$p" "$UDP_PID"
    wait_listen udp "$MEDIA6" "$p" "$UDP_PID"
done

# Let the kernel's one-off IPv6 chatter (MLD reports after link-up) pass
# before the capture starts.
sleep 3

# ---------------------------------------------------------------- capture
RAW="$TMP/raw.pcap"
log "starting tcpdump on $CLI_IF in $CLI_NS"
ip netns exec "$CLI_NS" tcpdump -i "$CLI_IF" -s 0 -U -n -Z root -w "$RAW" \
    </dev/null >"$TMP/tcpdump.log" 2>&1 &
TCPDUMP_PID=$!
PIDS+=("$TCPDUMP_PID")
for _ in $(seq 100); do
    grep -q 'listening on' "$TMP/tcpdump.log" && break
    kill -0 "$TCPDUMP_PID" 2>/dev/null || die "tcpdump exited: $(cat "$TMP/tcpdump.log")"
    sleep 0.1
done
grep -q 'listening on' "$TMP/tcpdump.log" || die "tcpdump did not start"
sleep 0.5

T=(timeout 10)
DIG=(dig +tries=1 +time=3 +noall +answer +comments)

tls_lines() {   # a few lines with pauses, then EOF -> s_client closes
    local tag="$1"
    printf '%s hello\n' "$tag"; sleep 0.3
    printf '%s ping 1\n' "$tag"; sleep 0.3
    printf '%s ping 2\n' "$tag"; sleep 0.5
}

session() {     # session 4|6
    local fam="$1" dns apns ids xmpp https http media rs
    if [[ $fam == 4 ]]; then
        dns=$DNS4 apns=$APNS4 ids=$IDS4 xmpp=$XMPP4 https=$HTTPS4 http=$HTTP4 media=$MEDIA4
        rs=(A AAAA)
    else
        dns=$DNS6 apns="[$APNS6]" ids="[$IDS6]" xmpp="[$XMPP6]" https="[$HTTPS6]" http="[$HTTP6]"
        media=$MEDIA6
        rs=(AAAA A)
    fi
    log "IPv$fam: DNS + APNs TLS 5223 (courier.push.apple.com)"
    for r in "${rs[@]}"; do cli "${T[@]}" "${DIG[@]}" "@$dns" courier.push.apple.com "$r"; done
    tls_lines "apns-v$fam" | cli "${T[@]}" openssl s_client -brief \
        -connect "$apns:5223" -servername courier.push.apple.com
    sleep 0.3

    # Messages and FaceTime look up the handles they talk to with Apple
    # Identity Services (*.ess.apple.com) over HTTPS.
    log "IPv$fam: DNS + identity HTTPS 443 (query.ess.apple.com)"
    for r in "${rs[@]}"; do cli "${T[@]}" "${DIG[@]}" "@$dns" query.ess.apple.com "$r"; done
    cli "${T[@]}" curl -sS -k -o /dev/null -w "ids v$fam: %{http_code} %{size_download}B\n" \
        --resolve "query.ess.apple.com:443:$ids" \
        https://query.ess.apple.com/WebObjects/QueryService.woa/wa/query
    sleep 0.3

    log "IPv$fam: DNS (incl. one TCP query) + HTTPS 443 (gateway.icloud.com)"
    cli "${T[@]}" "${DIG[@]}" +tcp "@$dns" gateway.icloud.com "${rs[0]}"
    cli "${T[@]}" "${DIG[@]}" "@$dns" gateway.icloud.com "${rs[1]}"
    cli "${T[@]}" curl -sS -k -o /dev/null -w "https v$fam: %{http_code} %{size_download}B\n" \
        --resolve "gateway.icloud.com:443:$https" https://gateway.icloud.com/
    sleep 0.3

    log "IPv$fam: DNS + HTTP 80 (init.itunes.apple.com)"
    for r in "${rs[@]}"; do cli "${T[@]}" "${DIG[@]}" "@$dns" init.itunes.apple.com "$r"; done
    cli "${T[@]}" curl -sS -o /dev/null -w "http v$fam: %{http_code} %{size_download}B\n" \
        --resolve "init.itunes.apple.com:80:$http" http://init.itunes.apple.com/bag.xml
    sleep 0.3

    log "IPv$fam: negative control, TLS 5223 to xmpp.example.net"
    for r in "${rs[@]}"; do cli "${T[@]}" "${DIG[@]}" "@$dns" xmpp.example.net "$r"; done
    tls_lines "xmpp-v$fam" | cli "${T[@]}" openssl s_client -brief \
        -connect "$xmpp:5223" -servername xmpp.example.net
    sleep 0.3

    log "IPv$fam: FaceTime-like UDP to $media"
    cli "${T[@]}" "$PYTHON" "$TMP/udp_client.py" "$media" "$MEDIA_PROBE_PORTS"
    sleep 0.3

    log "IPv$fam: ping"
    if [[ $fam == 4 ]]; then
        cli "${T[@]}" ping -n -c 3 "$HTTPS4"
    else
        cli "${T[@]}" ping -6 -n -c 3 "$HTTPS6"
    fi
    sleep 0.3

    # Last, so that the ping above was named by the gateway.icloud.com
    # answers (the HTTPS record below maps the same addresses to mask).
    log "IPv$fam: DNS HTTPS record + QUIC 443 by name (mask.icloud.com)"
    cli "${T[@]}" "${DIG[@]}" "@$dns" mask.icloud.com HTTPS
    if [[ $fam == 4 ]]; then cli_hosts "$HTTPS4" mask.icloud.com
    else cli_hosts "$HTTPS6" mask.icloud.com; fi
    cli "${T[@]}" "$GTLSCLIENT" -q --no-quic-dump --no-http-dump --no-pmtud \
        --exit-on-all-streams-close --timeout=3s \
        mask.icloud.com 443 https://mask.icloud.com/relay.txt
    echo "quic v$fam: done"
}

session 4 2>&1 | sed 's/^/    /' >&2
session 6 2>&1 | sed 's/^/    /' >&2

sleep 1
log "stopping tcpdump"
kill -INT "$TCPDUMP_PID"
wait "$TCPDUMP_PID" || true
keep=()
for pid in "${PIDS[@]}"; do [[ $pid == "$TCPDUMP_PID" ]] || keep+=("$pid"); done
PIDS=("${keep[@]}")
cat "$TMP/tcpdump.log" >&2
grep -q 'packets captured' "$TMP/tcpdump.log" || die "tcpdump did not stop cleanly"

# ---------------------------------------------------------------- rewrite
log "rewriting server addresses with tcprewrite --pnat"
REW="$TMP/rewritten.pcap"
tcprewrite --infile="$RAW" --outfile="$REW" --pnat="$PNAT" --fixcsum
# tcprewrite 4.4.3 (Debian 12) replaces the MAC addresses of EVERY IPv6 frame
# it processes with 33:33:<low 32 bits of the IPv6 address> (even with only
# --fixcsum).  The MACs are not part of the rewrite, so copy the 12 MAC bytes
# of every frame back from the raw capture; the IP layer and above is left
# exactly as tcprewrite produced it.
"$PYTHON" "$TMP/restore_mac.py" "$RAW" "$REW" "$TMP/macfixed.pcap"
# keep classic pcap, microsecond timestamps
FINAL="$TMP/final.pcap"
editcap -F pcap "$TMP/macfixed.pcap" "$FINAL"

# ---------------------------------------------------------------- verify
log "verifying the rewritten capture with tshark"
TS=(tshark_q -n -r "$FINAL")
tshark_q() {    # tshark without its "Running as user root" warning
    local rc=0
    tshark "$@" 2>"$TMP/tshark.err" || rc=$?
    grep -v 'Running as user' "$TMP/tshark.err" >&2 || true
    return $rc
}
fail=0
check() { echo "  [FAIL] $*" >&2; fail=1; }

# NB: checksum.status is 0=Bad 1=Good 2=Unverified, so test for "Bad" (==0);
# "==2" would only match checksums that were not checked at all.
bad=$("${TS[@]}" -o ip.check_checksum:TRUE -o tcp.check_checksum:TRUE -o udp.check_checksum:TRUE \
    -Y 'ip.checksum.status=="Bad" || tcp.checksum.status=="Bad" || udp.checksum.status=="Bad"
        || icmp.checksum.status=="Bad" || icmpv6.checksum.status=="Bad"' | wc -l)
[[ $bad -eq 0 ]] || check "$bad packets with bad checksums"

# only the expected addresses may appear
want_addrs="$CLI4 $DNS4 $APNS4_R $IDS4_R $HTTPS4_R $HTTP4_R $MEDIA4_R $XMPP4_R"
want_addrs+=" $CLI6 $DNS6 $APNS6_R $IDS6_R $HTTPS6_R $HTTP6_R $MEDIA6_R $XMPP6_R"
while read -r a; do
    [[ -z $a ]] && continue
    [[ " $want_addrs " == *" $a "* ]] || check "unexpected address in capture: $a"
done < <("${TS[@]}" -T fields -e ip.src -e ip.dst -e ipv6.src -e ipv6.dst \
            | tr -s '\t,' '\n' | sort -u)

# only the two veth MACs (no multicast MACs left over from tcprewrite)
while read -r m; do
    [[ -z $m || $m == "$CLI_MAC" || $m == "$SRV_MAC" ]] || check "unexpected MAC in capture: $m"
done < <("${TS[@]}" -T fields -e eth.src -e eth.dst | tr '\t' '\n' | sort -u)
malformed=$("${TS[@]}" -Y '_ws.malformed || (_ws.expert.severity >= "warning" && !quic)' | wc -l)
[[ $malformed -eq 0 ]] || check "$malformed malformed packets / expert warnings"
# QUIC: tshark decrypts the Initials by itself (keys from the client's
# first DCID) but has no secrets for Handshake and 1-RTT packets; that
# warning is the only one allowed.
quic_warn=$("${TS[@]}" -Y 'quic && _ws.expert.severity >= "warning"' -T fields \
    -E occurrence=a -E aggregator='|' -e _ws.expert.message | tr '|' '\n' \
    | { grep -vxF 'Failed to create decryption context: Secrets are not available' || true; } \
    | sort -u)
[[ -z $quic_warn ]] || check "QUIC expert warnings: $quic_warn"

# expected conversations
conv_tcp=$("${TS[@]}" -q -z conv,tcp)
conv_udp=$("${TS[@]}" -q -z conv,udp)
for ep in "$APNS4_R:5223" "$APNS6_R:5223" "$XMPP4_R:5223" "$XMPP6_R:5223" \
          "$IDS4_R:443" "$IDS6_R:443" \
          "$HTTPS4_R:443" "$HTTPS6_R:443" "$HTTP4_R:80" "$HTTP6_R:80" \
          "$DNS4:53" "$DNS6:53"; do
    grep -qF "$ep " <<<"$conv_tcp" || check "no TCP conversation with $ep"
done
grep -qF "$DNS4:53 " <<<"$conv_udp" || check "no UDP DNS over IPv4"
grep -qF "$DNS6:53 " <<<"$conv_udp" || check "no UDP DNS over IPv6"
for p in $MEDIA_PROBE_PORTS; do
    grep -qF "$MEDIA4_R:$p " <<<"$conv_udp" || check "no UDP conversation with $MEDIA4_R:$p"
    grep -qF "$MEDIA6_R:$p " <<<"$conv_udp" || check "no UDP conversation with $MEDIA6_R:$p"
done
for ep in "$HTTPS4_R:443" "$HTTPS6_R:443"; do
    [[ $(grep -cF "$ep " <<<"$conv_udp") -eq 1 ]] || check "not exactly one QUIC conversation with $ep"
done

# QUIC: the client's first Initial (v1) carries the ClientHello with the SNI
quic=$("${TS[@]}" -Y 'quic.long.packet_type==0 && tls.handshake.type==1' -T fields \
        -e ip.dst -e ipv6.dst -e quic.version -e tls.handshake.extensions_server_name)
for a in "$HTTPS4_R" "$HTTPS6_R"; do
    [[ $(awk -F'\t' -v a="$a" '($1==a || $2==a) && $3=="0x00000001" && $4=="mask.icloud.com"' \
        <<<"$quic" | wc -l) -eq 1 ]] || check "no QUIC v1 Initial with SNI mask.icloud.com to $a"
done
[[ $("${TS[@]}" -Y 'udp.port==443 && !quic' | wc -l) -eq 0 ]] || check "UDP 443 that is not QUIC"

# exactly the DNS queries the sessions make (no stray lookup from a client)
[[ $("${TS[@]}" -Y 'dns.flags.response==0' | wc -l) -eq 22 ]] || check "expected 22 DNS queries"
[[ $("${TS[@]}" -Y 'dns.flags.response==1 && dns.flags.rcode==0 && dns.count.answers>0' \
    | wc -l) -eq 22 ]] || check "expected 22 DNS answers"

sni=$("${TS[@]}" -Y tls.handshake.extensions_server_name \
        -T fields -e tls.handshake.extensions_server_name | sort | uniq -c)
# (tshark decrypts QUIC Initials itself: mask.icloud.com is the QUIC SNI)
for n in courier.push.apple.com query.ess.apple.com gateway.icloud.com xmpp.example.net \
         mask.icloud.com; do
    [[ $(grep -cw "$n" <<<"$sni") -eq 1 ]] || check "SNI $n missing"
    [[ $(awk -v n="$n" '$2==n{print $1}' <<<"$sni") -eq 2 ]] || check "SNI $n not seen twice"
done
hosts=$("${TS[@]}" -Y http.request -T fields -e http.host | sort | uniq -c)
[[ $(awk '$2=="init.itunes.apple.com"{print $1}' <<<"$hosts") -eq 2 ]] \
    || check "HTTP Host init.itunes.apple.com not seen twice"
dns_ans=$("${TS[@]}" -Y 'dns.flags.response==1' -T fields -e dns.a -e dns.aaaa \
            | tr -s '\t,' '\n' | sort -u)
for a in "$APNS4_R" "$APNS6_R" "$IDS4_R" "$IDS6_R" "$HTTPS4_R" "$HTTPS6_R" "$HTTP4_R" "$HTTP6_R" \
         "$XMPP4_R" "$XMPP6_R"; do
    grep -qxF "$a" <<<"$dns_ans" || check "DNS answer $a missing"
done
svcb=$("${TS[@]}" -Y 'dns.flags.response==1 && dns.qry.type==65' -T fields -e dns.qry.name \
        -e dns.svcb.svcparam.ipv4hint.ip -e dns.svcb.svcparam.ipv6hint.ip | sort | uniq -c)
[[ $(awk -v a="$HTTPS4_R" -v b="$HTTPS6_R" \
    '$2=="mask.icloud.com" && $3==a && $4==b {print $1}' <<<"$svcb") -eq 2 ]] \
    || check "HTTPS record of mask.icloud.com with both hints not answered twice"
[[ $("${TS[@]}" -Y 'icmp.type==0' | wc -l) -eq 3 ]] || check "expected 3 ICMP echo replies"
[[ $("${TS[@]}" -Y 'icmpv6.type==129' | wc -l) -eq 3 ]] || check "expected 3 ICMPv6 echo replies"

# only a verified capture replaces pcaps/apple-session.pcap
[[ $fail -eq 0 ]] || die "verification failed; $OUT left unchanged"
cp "$FINAL" "$OUT"
chmod 644 "$OUT"

# ---------------------------------------------------------------- summary
echo
echo "===== $OUT"
capinfos "$OUT"
echo
echo "===== TLS SNI (count, name)"
echo "$sni"
echo "===== HTTP Host (count, host)"
echo "$hosts"
echo "===== QUIC client Initials with a ClientHello (dst, version, SNI)"
echo "$quic"
echo "===== DNS HTTPS records (count, name, ipv4hint, ipv6hint)"
echo "$svcb"
echo "===== DNS answers"
"${TS[@]}" -Y 'dns.flags.response==1' -T fields \
    -e ip.dst -e ipv6.dst -e tcp.srcport -e dns.qry.name -e dns.qry.type -e dns.cname -e dns.a -e dns.aaaa
echo
echo "$conv_tcp"
echo "$conv_udp"

log "OK: $(capinfos -c -M "$OUT" | awk -F: '/Number of packets/{gsub(/ /,"",$2);print $2}') packets, $(stat -c %s "$OUT") bytes"
