#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Make the seed corpora of the fuzz targets (tests/fuzz/README.md).

    python3 tests/fuzz/make_corpus.py            # rewrite both corpora
    python3 tests/fuzz/make_corpus.py --check    # exit 1 if they would change

Everything is made from pcaps/apple-session.pcap (this project's own
capture) and from frames built here byte by byte; no byte comes from a
third-party capture. The output is deterministic.

corpus_decode/  one file per seed for fuzz_decode: byte 0 selects the link
                type (index into LINKTYPES, as in fuzz_decode.c), byte 1 the
                flags (bit 0 tunnels, 1 cut frames, 2 eviction, 3 timeouts,
                4 merge), then one frame or several separated by SEP.
corpus_pcap/    small capture files for fuzz_pcap: every container variant
                (pcap micro/nano, either byte order, the modified format;
                pcapng either byte order, several interfaces of different
                link types, simple and obsolete packet blocks, ignored block
                types, several sections) and damaged variants of them.

Inputs under tests/regress/ (findings of earlier runs) are copied into the
corpora too, as regress-NAME.
"""

import hashlib
import os
import shutil
import struct
import zlib
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SAMPLE = os.path.join(ROOT, "pcaps", "apple-session.pcap")
REGRESS = os.path.join(ROOT, "tests", "regress")

# fuzz_decode.c: candidates[] (all supported by the decoder when this was
# written; fuzz_decode drops unsupported ones, so keep new ones at the end)
LINKTYPES = [1, 0, 108, 101, 12, 228, 229, 113, 276, 258, 149, 239, 14]
LT_INDEX = {lt: i for i, lt in enumerate(LINKTYPES)}
LT_NAME = {1: "en10mb", 0: "null", 108: "loop", 101: "raw", 12: "raw12", 228: "ipv4",
           229: "ipv6", 113: "sll", 276: "sll2", 258: "pktap", 149: "user2", 239: "nflog",
           14: "raw14"}
SEP = b"\xa5WPZ"
F_TUNNELS, F_SNAPPED, F_EVICT, F_TIMEOUT, F_MERGE = 1, 2, 4, 8, 16

# ---- the project's sample capture ---------------------------------------------


def read_pcap(path):
    data = open(path, "rb").read()
    magic = struct.unpack("<I", data[:4])[0]
    assert magic == 0xa1b2c3d4, hex(magic)
    recs, off = [], 24
    while off < len(data):
        sec, usec, cap, ln = struct.unpack("<IIII", data[off:off + 16])
        recs.append((sec, usec, data[off + 16:off + 16 + cap], ln))
        off += 16 + cap
    return recs


# ---- packet builders (RFC layouts; checksums are not checked by whichports) ----

MAC_A = bytes.fromhex("020000000001")
MAC_B = bytes.fromhex("020000000002")
V4_C, V4_S, V4_A = bytes([10, 0, 0, 1]), bytes([192, 0, 2, 10]), bytes([17, 253, 144, 10])
V6_C = bytes.fromhex("fd000000000000000000000000000001")
V6_S = bytes.fromhex("20010db8000000000000000000000010")
V6_A = bytes.fromhex("2403030000000a420000000000000010")


def eth(payload, etype=0x0800, tags=()):
    """Ethernet II; tags = [(tpid, vid), ...] outermost first."""
    h = MAC_B + MAC_A
    for tpid, vid in tags:
        h += struct.pack(">HH", tpid, vid)
    return h + struct.pack(">H", etype) + payload


def ipv4(payload, proto=6, src=V4_C, dst=V4_S, ident=1, flags_off=0x4000, ihl=5,
         total=None, ttl=64, options=b""):
    opts = options + b"\0" * (max(0, ihl * 4 - 20 - len(options)))
    if total is None:
        total = 20 + len(opts) + len(payload)
    h = struct.pack(">BBHHHBBH4s4s", 0x40 | (ihl & 15), 0, total & 0xffff, ident, flags_off,
                    ttl, proto, 0, src, dst)
    return h + opts + payload


def ipv6(payload, nh=6, src=V6_C, dst=V6_S, plen=None, version=6):
    if plen is None:
        plen = len(payload)
    return struct.pack(">IHBB16s16s", version << 28, plen & 0xffff, nh, 64, src, dst) + payload


def ext(nh, body=b"", units=0):
    """A generic IPv6 extension header (HBH, DST, routing) of 8*(units+1) bytes."""
    b = (body + b"\0" * (6 + units * 8))[:6 + units * 8]
    return bytes([nh, units]) + b


def tcp(sport=49152, dport=443, flags=0x02, payload=b"", doff=None, options=b"", seq=1, ack=0):
    opts = options + b"\0" * ((4 - len(options) % 4) % 4)
    if doff is None:
        doff = 5 + len(opts) // 4
    return struct.pack(">HHIIBBHHH", sport, dport, seq, ack, (doff & 15) << 4, flags, 65535, 0,
                       0) + opts + payload


def udp(sport=50000, dport=53, payload=b"", length=None):
    if length is None:
        length = 8 + len(payload)
    return struct.pack(">HHHH", sport, dport, length & 0xffff, 0) + payload


def icmp(t=8, code=0, payload=b"abcdefgh"):
    return struct.pack(">BBHHH", t, code, 0, 0x1234, 1) + payload


SYN_OPTS = bytes.fromhex("020405b4" "0402" "080a0000000100000000" "01" "030307")
DNS_Q = bytes.fromhex("123401000001000000000000") + b"\x05apple\x03com\x00" + b"\x00\x01\x00\x01"
TLS_HELLO = bytes.fromhex("160301002e010000") + b"\x03\x03" + bytes(32) + b"\x00\x00\x02\x13\x01"


def gre(proto, payload, csum=False, key=None, seq=None, routing=False, version=0):
    flags = (0x8000 if csum else 0) | (0x2000 if key is not None else 0) | \
        (0x1000 if seq is not None else 0) | (0x4000 if routing else 0) | version
    h = struct.pack(">HH", flags, proto)
    if csum:
        h += b"\0\0\0\0"
    if key is not None:
        h += struct.pack(">I", key)
    if seq is not None:
        h += struct.pack(">I", seq)
    return h + payload


def pptp_gre(ppp, seq=7, ack=None, call=0x1234):
    flags = 0x2000 | 0x0001                        # key present, version 1
    flags |= (0x1000 if seq is not None else 0) | (0x0080 if ack is not None else 0)
    h = struct.pack(">HHHH", flags, 0x880b, len(ppp), call)
    if seq is not None:
        h += struct.pack(">I", seq)
    if ack is not None:
        h += struct.pack(">I", ack)
    return h + ppp


def vxlan(inner, vni=42, flag=0x08):
    return struct.pack(">BBHI", flag, 0, 0, vni << 8) + inner


def geneve(inner, proto=0x6558, optlen_words=0, version=0):
    opts = bytes(optlen_words * 4)
    if optlen_words:
        opts = struct.pack(">HBB", 0x0102, 0x03, optlen_words - 1) + opts[4:]
    return struct.pack(">BBHI", (version << 6) | optlen_words, 0, proto, 7 << 8) + opts + inner


def gtpu(inner, seq=None, ext_hdrs=(), msgtype=0xff, teid=0x11223344):
    flags = 0x30
    opt = b""
    if seq is not None or ext_hdrs:
        if seq is not None:
            flags |= 0x02
        if ext_hdrs:
            flags |= 0x04
        opt = struct.pack(">HBB", seq or 0, 0, ext_hdrs[0][0] if ext_hdrs else 0)
        for i, (_, content) in enumerate(ext_hdrs):
            nxt = ext_hdrs[i + 1][0] if i + 1 < len(ext_hdrs) else 0
            body = content + bytes((4 - (len(content) + 2) % 4) % 4)
            opt += bytes([(len(body) + 2) // 4]) + body + bytes([nxt])  # next type last
    body = opt + inner
    return struct.pack(">BBHI", flags, msgtype, len(body), teid) + body


def mpls(payload, labels=(100,)):
    out = b""
    for i, lab in enumerate(labels):
        bos = 1 if i == len(labels) - 1 else 0
        out += struct.pack(">I", (lab << 12) | (bos << 8) | 64)
    return out + payload


def pppoe(ppp_proto, payload, code=0, vt=0x11):
    body = struct.pack(">H", ppp_proto) + payload
    return struct.pack(">BBHH", vt, code, 0x0042, len(body)) + body


def erspan2(inner):
    return struct.pack(">HHI", 0x1000 | 5, 0, 0) + inner


def erspan3(inner, opt=False):
    h = struct.pack(">HHIHH", 0x2000 | 5, 0, 0, 0, 1 if opt else 0)
    if opt:
        h += bytes(8)
    return h + inner


# ---- link-layer wrappers around an IP packet -----------------------------------


def wrap(lt, ip, af6=30):
    """Put an IP packet (version from its first nibble) into link type lt."""
    v6 = (ip[0] >> 4) == 6
    if lt == 1:
        return eth(ip, 0x86dd if v6 else 0x0800)
    if lt == 0:
        return struct.pack("<I", af6 if v6 else 2) + ip
    if lt == 108:
        return struct.pack(">I", af6 if v6 else 2) + ip
    if lt in (101, 12, 14, 228, 229):
        return ip
    if lt == 113:
        return struct.pack(">HHH8sH", 0, 1, 6, MAC_A + b"\0\0", 0x86dd if v6 else 0x0800) + ip
    if lt == 276:
        return struct.pack(">HHIHBB8s", 0x86dd if v6 else 0x0800, 0, 2, 1, 4, 6,
                           MAC_A + b"\0\0") + ip
    if lt in (258, 149):
        return pktap(eth(ip, 0x86dd if v6 else 0x0800))
    if lt == 239:
        return nflog(ip)
    raise ValueError(lt)


def nflog_tlv(t, value, big=False):
    """An NFLOG TLV: length (header included) and type in the host's byte
    order, value padded to 4 bytes."""
    e = ">" if big else "<"
    return struct.pack(e + "HH", 4 + len(value), t) + value + bytes((4 - len(value) % 4) % 4)


def nflog(ip, big=False, family=None):
    """Linux NFLOG: family, version 0, resource id; a packet-header TLV (1),
    a prefix TLV (10), then the packet as the payload TLV (9)."""
    v6 = (ip[0] >> 4) == 6
    fam = family if family is not None else (10 if v6 else 2)
    return (struct.pack(">BBH", fam, 0, 1) +
            nflog_tlv(1, struct.pack(">HBB", 0x86dd if v6 else 0x0800, 3, 0), big) +
            nflog_tlv(10, b"whichports\0", big) + nflog_tlv(9, ip, big))


def pktap(frame, dlt=1, hdrlen=108, rectype=1):
    """Darwin PKTAP header (little-endian, 108 bytes) in front of a frame."""
    h = struct.pack("<III24sIIIII17s", hdrlen, rectype, dlt, b"en0", 0, 2 if dlt else 30, 14, 0,
                    512, b"whichports")
    h += bytes(max(0, 108 - len(h)))
    if hdrlen > 108:
        h += bytes(min(hdrlen, 300) - 108)
    return h[:max(hdrlen, 12)] + frame if hdrlen < 108 else h + frame


# ---- the decode corpus -------------------------------------------------------


def synthetic_frames():
    """[(name, linktype, flags, frame)] for every layer the decoder knows."""
    T = F_TUNNELS
    out = []

    def add(name, frame, lt=1, flags=T):
        assert SEP not in frame, f"{name}: contains the frame separator"
        out.append((name, lt, flags, frame))

    v4tcp = ipv4(tcp(options=SYN_OPTS))
    v6tcp = ipv6(tcp(sport=49153, dport=5223, options=SYN_OPTS))
    v4udp = ipv4(udp(payload=DNS_Q), proto=17)
    v6udp = ipv6(udp(sport=50001, dport=3478, payload=b"\x00\x01\x00\x00" + bytes(16)), nh=17)
    inner_eth = eth(ipv4(tcp(sport=40000, dport=80, flags=0x12), src=V4_S, dst=V4_C))

    # VLAN
    add("vlan-8021q-udp4", eth(v4udp, 0x0800, [(0x8100, 10)]))
    add("vlan-qinq-tcp6", eth(v6tcp, 0x86dd, [(0x88a8, 100), (0x8100, 20)]))
    add("vlan-9100-9200", eth(v4tcp, 0x0800, [(0x9100, 5), (0x9200, 6)]))
    add("vlan-8-tags", eth(v4udp, 0x0800, [(0x8100, i) for i in range(8)]))
    add("vlan-9-tags", eth(v4udp, 0x0800, [(0x8100, i) for i in range(9)]))
    add("vlan-cut-in-tag", eth(b"", 0x0800, [(0x8100, 1)])[:16])
    # tunnels
    add("vxlan4", eth(ipv4(udp(41000, 4789, vxlan(inner_eth)), proto=17)))
    add("vxlan6", eth(ipv6(udp(41000, 4789, vxlan(eth(v6udp, 0x86dd))), nh=17), 0x86dd))
    add("vxlan-no-vni-flag", eth(ipv4(udp(41000, 4789, vxlan(inner_eth, flag=0)), proto=17)))
    add("vxlan-vlan-inner", eth(ipv4(udp(41000, 4789, vxlan(eth(v4udp, 0x0800, [(0x8100, 7)]))),
                                     proto=17)))
    add("geneve-eth", eth(ipv4(udp(41001, 6081, geneve(inner_eth)), proto=17)))
    add("geneve-opts-ip", eth(ipv4(udp(41001, 6081, geneve(v4tcp, 0x0800, 2)), proto=17)))
    add("geneve-v1", eth(ipv4(udp(41001, 6081, geneve(v4tcp, 0x0800, 0, 1)), proto=17)))
    add("gtpu-plain", eth(ipv4(udp(2152, 2152, gtpu(v4tcp)), proto=17)))
    add("gtpu-seq-v6", eth(ipv4(udp(2152, 2152, gtpu(v6udp, seq=5)), proto=17)))
    add("gtpu-ext", eth(ipv6(udp(2152, 2152, gtpu(v4udp, seq=1, ext_hdrs=[(0x85, b"\x01\x09"),
                                                                            (0x40, b"\0\0\0\0")])),
                             nh=17), 0x86dd))
    add("gtpu-echo", eth(ipv4(udp(2152, 2152, gtpu(b"", msgtype=1)), proto=17)))
    add("gre-ip4", eth(ipv4(gre(0x0800, v4tcp), proto=47)))
    add("gre-ckey-seq-ip6", eth(ipv4(gre(0x86dd, v6tcp, csum=True, key=9, seq=3), proto=47)))
    add("gre-teb", eth(ipv6(gre(0x6558, inner_eth, key=1), nh=47), 0x86dd))
    add("gre-mpls", eth(ipv4(gre(0x8847, mpls(v4udp, (16, 17))), proto=47)))
    add("gre-routing", eth(ipv4(gre(0x0800, v4tcp, routing=True), proto=47)))
    add("gre-unknown", eth(ipv4(gre(0x9999, b"xxxx"), proto=47)))
    add("gre-v2", eth(ipv4(gre(0x0800, v4tcp, version=2), proto=47)))
    add("erspan2", eth(ipv4(gre(0x88be, erspan2(inner_eth), seq=1), proto=47)))
    add("erspan1", eth(ipv4(gre(0x88be, inner_eth), proto=47)))
    add("erspan3", eth(ipv4(gre(0x22eb, erspan3(inner_eth), seq=2), proto=47)))
    add("erspan3-opt", eth(ipv4(gre(0x22eb, erspan3(inner_eth, True), seq=2), proto=47)))
    add("pptp-ppp4", eth(ipv4(pptp_gre(b"\xff\x03\x00\x21" + v4tcp), proto=47)))
    add("pptp-pfc-ack", eth(ipv4(pptp_gre(b"\x21" + v4udp, ack=3), proto=47)))
    add("pptp-ack-only", eth(ipv4(pptp_gre(b"", seq=None, ack=9), proto=47)))
    add("pptp-ppp6", eth(ipv4(pptp_gre(b"\x00\x57" + v6udp), proto=47)))
    add("pptp-lcp", eth(ipv4(pptp_gre(b"\xff\x03\xc0\x21\x01\x01\x00\x04"), proto=47)))
    add("mpls-1-ip4", eth(mpls(v4tcp), 0x8847))
    add("mpls-3-ip6", eth(mpls(v6udp, (16, 17, 18)), 0x8848))
    add("mpls-pw-eth", eth(mpls(b"\0\0\0\0" + inner_eth), 0x8847))
    add("mpls-9-labels", eth(mpls(v4tcp, tuple(range(16, 25))), 0x8847))
    add("mpls-other", eth(mpls(b"\x20" + bytes(30)), 0x8847))
    add("pppoe-ip4", eth(pppoe(0x0021, v4tcp), 0x8864))
    add("pppoe-ip6", eth(pppoe(0x0057, v6udp), 0x8864))
    add("pppoe-lcp", eth(pppoe(0xc021, b"\x01\x01\x00\x04"), 0x8864))
    add("pppoe-discovery", eth(pppoe(0x0101, b"", code=0x09), 0x8863))
    add("pppoe-bad-vt", eth(pppoe(0x0021, v4tcp, vt=0x21), 0x8864))
    add("ipip-4in4", eth(ipv4(v4udp, proto=4, src=V4_A, dst=V4_S)))
    add("ipip-6in4", eth(ipv4(v6tcp, proto=41)))
    add("ipip-4in6", eth(ipv6(v4tcp, nh=4), 0x86dd))
    add("ipip-6in6", eth(ipv6(v6udp, nh=41), 0x86dd))
    nest = v4udp
    for _ in range(6):
        nest = ipv4(nest, proto=4)
    add("ipip-nested-6", eth(nest))
    add("tunnels-off-vxlan", eth(ipv4(udp(41000, 4789, vxlan(inner_eth)), proto=17)), flags=0)
    add("tunnels-off-mpls", eth(mpls(v4tcp), 0x8847), flags=0)
    add("tunnels-off-pppoe", eth(pppoe(0x0021, v4tcp), 0x8864), flags=0)
    # IPv4 variants
    add("ip4-options", eth(ipv4(tcp(), ihl=8, options=b"\x94\x04\x00\x00\x01\x01\x01\x00")))
    add("ip4-ihl-15", eth(ipv4(udp(), proto=17, ihl=15)))
    add("ip4-ihl-3", eth(ipv4(tcp(), ihl=3)))
    add("ip4-total-0-tso", eth(ipv4(tcp(payload=bytes(200)), total=0)))
    add("ip4-total-short", eth(ipv4(tcp(), total=12)))
    add("ip4-total-long", eth(ipv4(tcp(), total=1400)))
    add("ip4-padding", eth(ipv4(tcp(flags=0x10))) + bytes(6))
    add("ip4-frag-first", eth(ipv4(udp(payload=bytes(64)), proto=17, ident=77, flags_off=0x2000)))
    add("ip4-frag-later", eth(ipv4(bytes(64), proto=17, ident=77, flags_off=8)))
    add("ip4-bad-version", eth(ipv6(udp(), nh=17), 0x0800))
    add("ip4-proto-esp", eth(ipv4(bytes(40), proto=50)))
    add("ip4-proto-ospf", eth(ipv4(bytes(40), proto=89)))
    add("ip4-igmp", eth(ipv4(bytes(8), proto=2, dst=bytes([224, 0, 0, 1]))))
    # IPv6 variants
    add("ip6-hbh-dst-rt", eth(ipv6(ext(60, units=0) + ext(43, b"\x04\x00\x00\x00\x00\x00", 2) +
                                   ext(6, units=1) + tcp(), nh=0), 0x86dd))
    add("ip6-jumbo", eth(ipv6(ext(6, b"\xc2\x04\x00\x00\x00\x3c") + tcp(), nh=0, plen=0),
                         0x86dd))
    add("ip6-ah-udp", eth(ipv6(bytes([17, 4, 0, 0]) + bytes(20) + udp(), nh=51), 0x86dd))
    add("ip6-mobility-nonxt", eth(ipv6(ext(59, units=1), nh=135), 0x86dd))
    add("ip6-frag-first", eth(ipv6(struct.pack(">BBHI", 6, 0, 1, 0xabcdef) + tcp(), nh=44),
                              0x86dd))
    add("ip6-frag-later", eth(ipv6(struct.pack(">BBHI", 6, 0, 100 << 3, 0xabcdef) + bytes(40),
                                   nh=44), 0x86dd))
    add("ip6-frag-atomic", eth(ipv6(struct.pack(">BBHI", 17, 0, 0, 5) + udp(), nh=44), 0x86dd))
    chain = udp()
    nh = 17
    for _ in range(9):
        chain = ext(nh) + chain
        nh = 60
    add("ip6-9-ext", eth(ipv6(chain, nh=60), 0x86dd))
    add("ip6-plen-long", eth(ipv6(udp(), nh=17, plen=900), 0x86dd))
    add("ip6-ext-past-plen", eth(ipv6(ext(17, units=1) + udp(), nh=0, plen=8), 0x86dd))
    add("ip6-bad-version", eth(ipv4(udp(), proto=17), 0x86dd))
    add("ip6-icmp6-echo", eth(ipv6(icmp(128), nh=58), 0x86dd))
    add("ip6-icmp6-ns", eth(ipv6(icmp(135, payload=bytes(20)), nh=58), 0x86dd))
    add("ip6-icmp6-ra", eth(ipv6(icmp(134, payload=bytes(12)), nh=58), 0x86dd))
    # transports
    add("tcp-doff-2", eth(ipv4(tcp(doff=2))))
    add("tcp-doff-15", eth(ipv4(tcp(doff=15, options=bytes(40)))))
    add("tcp-doff-past-segment", eth(ipv4(tcp(doff=15))))
    add("tcp-syn-ack-data", eth(ipv4(tcp(443, 49152, 0x12, TLS_HELLO, options=SYN_OPTS),
                                     src=V4_A, dst=V4_C)))
    add("tcp-fin-rst", eth(ipv4(tcp(flags=0x15))))
    add("udp-len-5", eth(ipv4(udp(length=5), proto=17)))
    add("udp-len-0-v6", eth(ipv6(udp(length=0), nh=17), 0x86dd))
    add("udp-len-0-v4", eth(ipv4(udp(length=0), proto=17)))
    add("udplite", eth(ipv4(udp(5000, 5001, b"lite", length=0), proto=136)))
    add("sctp", eth(ipv4(struct.pack(">HHII", 2905, 2905, 1, 0) + bytes(16), proto=132)))
    add("dccp", eth(ipv6(struct.pack(">HHBBHI", 5004, 5005, 4, 0, 0, 0) + bytes(8), nh=33),
                    0x86dd))
    add("transport-past-ip", eth(ipv4(tcp()[:10], total=30) + bytes(10)))
    add("icmp-echo", eth(ipv4(icmp(8), proto=1, dst=V4_A)))
    add("icmp-echo-reply", eth(ipv4(icmp(0), proto=1, src=V4_A, dst=V4_C)))
    add("icmp-unreach-quote", eth(ipv4(icmp(3, 3, ipv4(udp(), proto=17)[:28]), proto=1)))
    add("icmp-timestamp", eth(ipv4(icmp(13, payload=bytes(12)), proto=1)))
    # non-IP and odd Ethernet
    add("arp", eth(bytes.fromhex("0001080006040001") + MAC_A + V4_C + bytes(6) + V4_S, 0x0806))
    add("lldp", eth(bytes(30), 0x88cc))
    add("ieee8023-llc", eth(b"\x42\x42\x03" + bytes(40), 0x002b))
    add("eth-cut", eth(v4tcp)[:10])
    add("eth-empty", b"")
    # other link types
    for af in (2, 30, 24, 28, 10, 17):
        ip = v6udp if af != 2 else v4udp
        add(f"null-af{af}", struct.pack("<I", af) + ip, lt=0)
        add(f"loop-af{af}", struct.pack(">I", af) + ip, lt=108)
    add("null-cut", b"\x02\0", lt=0)
    for lt in (101, 12, 228, 229):
        add(f"{LT_NAME[lt]}-v4", v4tcp, lt=lt)
        add(f"{LT_NAME[lt]}-v6", v6udp, lt=lt)
        add(f"{LT_NAME[lt]}-v5", b"\x55" + bytes(39), lt=lt)
        add(f"{LT_NAME[lt]}-one-byte", b"\x45", lt=lt)
    for lt in (113, 276):
        add(f"{LT_NAME[lt]}-v4", wrap(lt, v4tcp), lt=lt)
        add(f"{LT_NAME[lt]}-v6", wrap(lt, v6udp), lt=lt)
        vl = wrap(lt, struct.pack(">HH", 9, 0x0800) + v4udp)
        vl = vl[:14] + b"\x81\x00" + vl[16:] if lt == 113 else b"\x81\x00" + vl[2:]
        add(f"{LT_NAME[lt]}-vlan", vl, lt=lt)
        nl = bytearray(wrap(lt, v4tcp))
        struct.pack_into(">H", nl, 2 if lt == 113 else 8, 824)
        add(f"{LT_NAME[lt]}-netlink", bytes(nl), lt=lt)
        add(f"{LT_NAME[lt]}-cut", wrap(lt, v4tcp)[:12], lt=lt)
    for lt in (258, 149):
        n = LT_NAME[lt]
        add(f"{n}-eth-v4", pktap(eth(v4tcp)), lt=lt)
        add(f"{n}-eth-v6", pktap(eth(v6udp, 0x86dd)), lt=lt)
        add(f"{n}-null", pktap(struct.pack("<I", 30) + v6udp, dlt=0), lt=lt)
        add(f"{n}-raw", pktap(v4udp, dlt=12), lt=lt)
        add(f"{n}-rectype2", pktap(eth(v4tcp), rectype=2), lt=lt)
        add(f"{n}-hdrlen-50", pktap(eth(v4tcp), hdrlen=50), lt=lt)
        add(f"{n}-hdrlen-200", pktap(eth(v4tcp), hdrlen=200), lt=lt)
        add(f"{n}-in-pktap", pktap(pktap(eth(v4tcp)), dlt=258), lt=lt)
        add(f"{n}-unsupported-dlt", pktap(bytes(40), dlt=105), lt=lt)
        add(f"{n}-cut", pktap(eth(v4tcp))[:60], lt=lt)
    add("nflog-v4", nflog(v4tcp), lt=239)
    add("nflog-v6-be-tlv", nflog(v6udp, big=True), lt=239)
    add("nflog-no-payload", struct.pack(">BBH", 2, 0, 1) + nflog_tlv(10, b"x\0"), lt=239)
    add("nflog-tlv-len-2", struct.pack(">BBH", 2, 0, 1) + struct.pack("<HH", 2, 9) + v4tcp,
        lt=239)
    add("nflog-tlv-past-end", struct.pack(">BBH", 2, 0, 1) + struct.pack("<HH", 900, 9) + v4tcp,
        lt=239)
    add("raw14-v4", v4tcp, lt=14)
    # cut frames: the frame is said to be longer on the wire (flag bit 1)
    for cut in (20, 30, 34, 40, 50):
        add(f"cut-{cut}-tcp4", eth(v4tcp)[:cut], flags=T | F_SNAPPED)
    for cut in (30, 54, 60):
        add(f"cut-{cut}-udp6", eth(v6udp, 0x86dd)[:cut], flags=T | F_SNAPPED)
    add("cut-vxlan-inner", eth(ipv4(udp(41000, 4789, vxlan(inner_eth)), proto=17))[:70],
        flags=T | F_SNAPPED)
    return out


def multi_frame_seeds(sample):
    """Seeds of several frames: conversations, fragments, eviction, merge."""
    T = F_TUNNELS
    out = []
    frames = [r[2] for r in sample]
    # first 12 frames of the sample (handshakes and DNS), with every flag mix
    for flags in (T, T | F_MERGE, T | F_EVICT, T | F_TIMEOUT, T | F_EVICT | F_TIMEOUT | F_MERGE):
        out.append((f"sample-first12-f{flags:02x}", 1, flags, SEP.join(frames[:12])))
    out.append(("sample-last8", 1, T | F_MERGE, SEP.join(frames[-8:])))
    # IPv4 datagram in three fragments, then the reverse direction
    d = udp(5353, 5353, bytes(100))
    f1 = eth(ipv4(d[:48], proto=17, ident=9, flags_off=0x2000))
    f2 = eth(ipv4(d[48:96], proto=17, ident=9, flags_off=0x2000 | 6))
    f3 = eth(ipv4(d[96:], proto=17, ident=9, flags_off=12))
    rev = eth(ipv4(udp(5353, 5353, b"back"), proto=17, src=V4_S, dst=V4_C))
    out.append(("frag4-three-parts", 1, T, SEP.join([f1, f2, f3, rev])))
    out.append(("frag4-later-first", 1, T | F_MERGE, SEP.join([f3, f2, f1])))
    d6 = tcp(40000, 443, 0x18, bytes(120))
    g1 = eth(ipv6(struct.pack(">BBHI", 6, 0, 1, 99) + d6[:64], nh=44), 0x86dd)
    g2 = eth(ipv6(struct.pack(">BBHI", 6, 0, 8 << 3, 99) + d6[64:], nh=44), 0x86dd)
    out.append(("frag6-two-parts", 1, T | F_MERGE, SEP.join([g1, g2, g2])))
    # a TCP handshake whose SYN comes late
    syn = ipv4(tcp(40001, 8443, 0x02))
    synack = ipv4(tcp(8443, 40001, 0x12), src=V4_S, dst=V4_C)
    data = ipv4(tcp(40001, 8443, 0x18, b"hello"))
    out.append(("tcp-late-syn", 101, T | F_MERGE, SEP.join([data, synack, syn, data])))
    out.append(("tcp-many-flows", 101, T | F_EVICT,
                SEP.join(ipv4(tcp(40000 + i, 443, 0x02)) for i in range(6))))
    ping = ipv6(icmp(128), nh=58)
    pong = ipv6(icmp(129), nh=58, src=V6_S, dst=V6_C)
    out.append(("icmp6-echo-pair", 229, T | F_MERGE, SEP.join([pong, ping])))
    vx1 = eth(ipv4(udp(41000, 4789, vxlan(eth(ipv4(tcp())))), proto=17))
    vx2 = eth(ipv4(udp(41000, 4789, vxlan(eth(ipv4(tcp(443, 49152, 0x12), src=V4_S,
                                                   dst=V4_C)))), proto=17))
    out.append(("mixed-tunnels", 1, T | F_MERGE, SEP.join([vx1, vx2, eth(mpls(ipv4(tcp())),
                                                                         0x8847)])))
    return out


def names_frame(frame):
    """True for an Ethernet frame whose transport payload a name parser reads:
    DNS (port 53), TLS handshake records, QUIC long headers on UDP 443,
    HTTP requests."""
    et = struct.unpack(">H", frame[12:14])[0]
    if et == 0x0800:
        ip = frame[14:]
        proto, l4 = ip[9], ip[(ip[0] & 15) * 4:]
    elif et == 0x86dd:
        ip = frame[14:]
        proto, l4 = ip[6], ip[40:]
    else:
        return False
    if proto == 17 and len(l4) > 8:
        sport, dport = struct.unpack(">HH", l4[:4])
        pay = l4[8:]
        return 53 in (sport, dport) or (443 in (sport, dport) and pay[:1] >= b"\x80")
    if proto == 6 and len(l4) >= 20:
        pay = l4[(l4[12] >> 4) * 4:]
        return pay[:2] == b"\x16\x03" or pay[:4] in (b"GET ", b"POST", b"HEAD")
    return False


def decode_corpus(sample):
    seeds = []
    # the first 24 frames of the sample, every third one after, and every one
    # the name parsers read (DNS, TLS ClientHello, QUIC, HTTP request), as
    # captured (the corpus stays under 500 files and 2 MB on disk)
    for i, (_, _, frame, _) in enumerate(sample):
        assert SEP not in frame, f"sample frame {i} contains the frame separator"
        if i < 24 or i % 3 == 0 or names_frame(frame):
            seeds.append((f"sample-{i:03d}", 1, F_TUNNELS, frame))
    # a subset re-wrapped in every other link type
    ips = [frame[14:] for (_, _, frame, _) in sample]
    for lt in LINKTYPES[1:]:
        for i in range(0, len(ips), 29):
            ip = ips[i]
            if lt == 228 and ip[0] >> 4 != 4 or lt == 229 and ip[0] >> 4 != 6:
                continue
            seeds.append((f"sample-{i:03d}-{LT_NAME[lt]}", lt, F_TUNNELS, wrap(lt, ip)))
    seeds += synthetic_frames()
    seeds += multi_frame_seeds(sample)
    files = {}
    seen = set()
    for name, lt, flags, frame in seeds:
        data = bytes([LT_INDEX[lt], flags]) + frame
        if data in seen:
            continue
        seen.add(data)
        files[f"{LT_NAME[lt]}-{name}"] = data
    return files


# ---- the pcap corpus -----------------------------------------------------------


def pcap_file(recs, linktype=1, big=False, nanos=False, modified=False, snaplen=65535,
              version=(2, 4)):
    """recs: [(sec, frac, frame, wirelen)] -> a pcap file."""
    e = ">" if big else "<"
    magic = 0xa1b2cd34 if modified else (0xa1b23c4d if nanos else 0xa1b2c3d4)
    out = [struct.pack(e + "IHHiIII", magic, version[0], version[1], 0, 0, snaplen, linktype)]
    for sec, frac, frame, ln in recs:
        if nanos:
            frac *= 1000
        out.append(struct.pack(e + "IIII", sec, frac, len(frame), ln))
        if modified:
            out.append(struct.pack(e + "IHBB", 2, 0x0800, 0, 0))
        out.append(frame)
    return b"".join(out)


def block(btype, body, big=False):
    e = ">" if big else "<"
    body = body + bytes((4 - len(body) % 4) % 4)
    n = 12 + len(body)
    return struct.pack(e + "II", btype, n) + body + struct.pack(e + "I", n)


def opts(items, big=False, end=True):
    e = ">" if big else "<"
    out = b""
    for code, val in items:
        out += struct.pack(e + "HH", code, len(val)) + val + bytes((4 - len(val) % 4) % 4)
    if end:
        out += b"\0\0\0\0"
    return out


def shb(big=False, options=()):
    e = ">" if big else "<"
    return block(0x0A0D0D0A, struct.pack(e + "IHHq", 0x1A2B3C4D, 1, 0, -1) +
                 (opts(options, big) if options else b""), big)


def idb(lt, snaplen=65535, big=False, options=()):
    e = ">" if big else "<"
    return block(1, struct.pack(e + "HHI", lt, 0, snaplen) + (opts(options, big) if options
                                                              else b""), big)


def epb(ifid, ts, frame, wirelen=None, big=False, options=()):
    e = ">" if big else "<"
    if wirelen is None:
        wirelen = len(frame)
    body = struct.pack(e + "IIIII", ifid, ts >> 32, ts & 0xffffffff, len(frame), wirelen) + frame
    body += bytes((4 - len(body) % 4) % 4)
    if options:
        body += opts(options, big)
    return block(6, body, big)


def spb(frame, wirelen=None, big=False):
    e = ">" if big else "<"
    return block(3, struct.pack(e + "I", wirelen if wirelen is not None else len(frame)) + frame,
                 big)


def pb(ifid, ts, frame, big=False):
    e = ">" if big else "<"
    return block(2, struct.pack(e + "HHIIII", ifid, 0, ts >> 32, ts & 0xffffffff, len(frame),
                                len(frame)) + frame, big)


def pcapng_multi(sample, big=False):
    """A section with five interfaces of different link types and timestamp
    resolutions, and every block type whichports reads or skips."""
    e = ">" if big else "<"
    ts_us = sample[0][0] * 1000000 + sample[0][1]
    v4 = sample[0][2][14:]
    v6 = next((r[2][14:] for r in sample if r[2][12:14] == b"\x86\xdd"), ipv6(udp(), nh=17))
    parts = [shb(big, [(2, b"x86_64"), (3, b"Linux"), (4, b"make_corpus.py")]),
             idb(1, 65535, big, [(2, b"eth0"), (9, b"\x06")]),
             idb(101, 65535, big, [(9, b"\x09")]),
             idb(0, 65535, big, [(9, b"\x94"), (14, struct.pack(e + "q", 1))]),
             idb(276, 128, big, [(9, b"\x03")]),
             idb(258, 65535, big)]
    parts.append(epb(0, ts_us, sample[0][2], big=big, options=[(1, b"first"), (2, b"\0\0\0\1")]))
    parts.append(epb(1, ts_us * 1000 + 5, v6, big=big))
    t20 = (sample[1][0] << 20) | 1000
    parts.append(epb(2, t20, wrap(0, v4), big=big))
    parts.append(epb(3, ts_us // 1000, wrap(276, v6)[:128], len(wrap(276, v6)), big=big))
    parts.append(epb(4, ts_us, wrap(258, v4), big=big))
    parts.append(block(4, struct.pack(e + "HH", 1, 8) + V4_S + b"srv\0" +
                       struct.pack(e + "HH", 0, 0), big))  # name resolution block
    parts.append(block(5, struct.pack(e + "III", 0, 0, 0) + opts([(4, struct.pack(e + "Q", 0))],
                                                                big), big))  # ISB
    parts.append(block(0x00000BAD, struct.pack(e + "I", 32473) + b"custom", big))
    parts.append(block(0x80000001, struct.pack(e + "I", 224) + b"proc", big))  # Darwin process
    parts.append(pb(0, ts_us + 10, sample[2][2], big=big))
    parts.append(spb(sample[3][2], big=big))
    parts.append(epb(0, ts_us + 20, sample[4][2], big=big))
    return b"".join(parts)


def pcap_corpus(sample):
    files = {}
    recs = [(s, u, f, ln) for (s, u, f, ln) in sample[:10]]
    udp_recs = [r for r in sample if r[2][23:24] == b"\x11" or r[2][20:21] == b"\x11"][:6]
    files["pcap-le-usec"] = pcap_file(recs)
    files["pcap-be-usec"] = pcap_file(recs, big=True)
    files["pcap-le-nsec"] = pcap_file(recs[:6], nanos=True)
    files["pcap-be-nsec"] = pcap_file(recs[:6], big=True, nanos=True)
    files["pcap-le-modified"] = pcap_file(recs[:6], modified=True)
    files["pcap-be-modified"] = pcap_file(recs[:6], big=True, modified=True)
    files["pcap-udp"] = pcap_file(udp_recs)
    files["pcap-snapped"] = pcap_file([(s, u, f[:64], ln) for (s, u, f, ln) in recs], snaplen=64)
    files["pcap-version-2-2"] = pcap_file(recs[:3], version=(2, 2))
    files["pcap-header-only"] = pcap_file([])
    # every link type, with the same IP packets
    ips = [(s, u, f[14:], ln - 14) for (s, u, f, ln) in sample[:6]]
    for lt in LINKTYPES[1:] + [105]:
        rr = []
        for s, u, ip, ln in ips:
            if lt in (228, 229) and (ip[0] >> 4) != (4 if lt == 228 else 6):
                continue
            fr = wrap(lt, ip) if lt != 105 else ip
            rr.append((s, u, fr, ln + len(fr) - len(ip)))
        files[f"pcap-lt{lt}"] = pcap_file(rr, linktype=lt)
    # synthetic frames of interest, one file per group
    syn = {n: (lt, f) for n, lt, _, f in synthetic_frames()}
    groups = {
        "tunnels": ["vxlan4", "geneve-eth", "gtpu-ext", "gre-ckey-seq-ip6", "pptp-ppp4",
                    "mpls-pw-eth", "pppoe-ip6", "ipip-6in4", "erspan3", "ipip-nested-6"],
        "malformed": ["vlan-9-tags", "ip4-ihl-3", "tcp-doff-2", "udp-len-5", "ip6-9-ext",
                      "ip4-total-short", "ip6-ext-past-plen", "mpls-9-labels", "gre-v2",
                      "transport-past-ip"],
        "fragments": ["ip4-frag-first", "ip4-frag-later", "ip6-frag-first", "ip6-frag-later",
                      "ip6-frag-atomic"],
        "vlan": ["vlan-8021q-udp4", "vlan-qinq-tcp6", "vlan-9100-9200", "vlan-8-tags"],
        "icmp": ["icmp-echo", "icmp-echo-reply", "ip6-icmp6-echo", "icmp-unreach-quote",
                 "ip6-icmp6-ns"],
    }
    for g, names in groups.items():
        rr = [(1700000000 + i, i * 1000, syn[n][1], len(syn[n][1])) for i, n in enumerate(names)]
        files[f"pcap-{g}"] = pcap_file(rr)
    files["pcapng-le-multi"] = pcapng_multi(sample, big=False)
    files["pcapng-be-multi"] = pcapng_multi(sample, big=True)
    v6_first = [r for r in sample if r[2][12:14] == b"\x86\xdd"]
    files["pcapng-two-sections"] = pcapng_multi(sample[:5], False) + pcapng_multi(
        v6_first[:5], True)
    ts0 = sample[0][0] * 1000000 + sample[0][1]
    files["pcapng-spb-only"] = shb() + idb(1, 96) + b"".join(spb(r[2][:96], len(r[2]))
                                                             for r in sample[:6])
    files["pcapng-shb-only"] = shb()
    files["pcapng-idb-no-packets"] = shb() + idb(1) + idb(0)
    files["pcapng-epb-snapped"] = shb() + idb(1, 80) + b"".join(
        epb(0, ts0 + i, r[2][:80], len(r[2])) for i, r in enumerate(sample[:8]))

    # damaged variants
    good = files["pcap-le-usec"]
    files["dmg-pcap-cut-in-header"] = good[:24 + 16 + len(sample[0][2]) + 7]
    files["dmg-pcap-cut-in-data"] = good[:24 + 16 + 30]
    files["dmg-pcap-file-header-cut"] = good[:20]
    big_cap = bytearray(good)
    struct.pack_into("<I", big_cap, 24 + 8, 0x00ffffff)
    files["dmg-pcap-caplen-huge"] = bytes(big_cap)
    zero = bytearray(good)
    struct.pack_into("<II", zero, 24 + 8, 0, 0)
    files["dmg-pcap-caplen-0"] = bytes(zero)
    lenff = bytearray(good)
    struct.pack_into("<I", lenff, 24 + 12, 0xffffffff)
    files["dmg-pcap-len-ffffffff"] = bytes(lenff)
    files["dmg-pcap-version-3"] = pcap_file(recs[:2], version=(3, 0))
    lt_bad = bytearray(good)
    struct.pack_into("<I", lt_bad, 20, 0x00010001)
    files["dmg-pcap-linktype-reserved"] = bytes(lt_bad)
    files["dmg-gzip"] = b"\x1f\x8b\x08\x00" + bytes(20)
    files["dmg-unknown-magic"] = b"RIFF" + bytes(40)
    files["dmg-three-bytes"] = b"\xd4\xc3\xb2"
    files["dmg-empty"] = b""
    ng = files["pcapng-le-multi"]
    shb_len = struct.unpack("<I", ng[4:8])[0]
    idb0 = shb_len
    idb_len = struct.unpack("<I", ng[idb0 + 4:idb0 + 8])[0]
    d = bytearray(ng)
    struct.pack_into("<I", d, idb0 + 4, idb_len + 2)
    files["dmg-pcapng-length-not-aligned"] = bytes(d)
    d = bytearray(ng)
    struct.pack_into("<I", d, idb0 + idb_len - 4, idb_len + 4)
    files["dmg-pcapng-trailer-mismatch"] = bytes(d)
    d = bytearray(ng)
    struct.pack_into("<I", d, idb0 + 4, 8)
    files["dmg-pcapng-length-8"] = bytes(d)
    d = bytearray(ng)
    struct.pack_into("<I", d, idb0 + 4, 0x7ffffffc)
    files["dmg-pcapng-length-huge"] = bytes(d)
    files["dmg-pcapng-cut-in-block"] = ng[:len(ng) - 37]
    files["dmg-pcapng-epb-bad-iface"] = shb() + idb(1) + epb(5, ts0, sample[0][2])
    files["dmg-pcapng-spb-before-idb"] = shb() + spb(sample[0][2])
    files["dmg-pcapng-idb-short"] = shb() + block(1, b"\x01\x00") + epb(0, ts0, sample[0][2])
    files["dmg-pcapng-option-overrun"] = shb() + block(1, struct.pack("<HHI", 1, 0, 0) +
                                                       struct.pack("<HH", 2, 200) + b"eth0")
    files["dmg-pcapng-shb-bad-bom"] = block(0x0A0D0D0A, struct.pack("<IHHq", 0x11223344, 1, 0, -1))
    files["dmg-pcapng-shb-version-2"] = block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 2, 0,
                                                                     -1)) + idb(1)
    cap_big = bytearray(shb() + idb(1) + epb(0, ts0, sample[0][2]))
    struct.pack_into("<I", cap_big, 28 + 20 + 8 + 12, 0xfffffff0)
    files["dmg-pcapng-epb-caplen-past-block"] = bytes(cap_big)
    files["dmg-pcapng-second-shb-bad"] = ng + block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D,
                                                                            1, 0, -1))[:20]

    # process information (docs/processes.md): every source, both byte orders
    for big in (False, True):
        e = ">" if big else "<"
        tag = "be" if big else "le"
        dpib = lambda pid, name: block(0x80000001, struct.pack(e + "I", pid) +
                                       opts([(2, name), (4, bytes(range(16)))], big), big)
        parts = [shb(big), idb(1, 65535, big), dpib(301, b"apsd\0"), dpib(2048, b"Messages")]
        for i, r in enumerate(sample[:6]):
            o = [(0x8001, struct.pack(e + "I", i % 2)), (0x8002, struct.pack(e + "I", 900)),
                 (2, struct.pack(e + "I", 1 + i % 2))]
            if i % 3 == 0:
                o.append((0x8003, struct.pack(e + "I", 1)))
            if i == 4:
                o.append((0x8005, struct.pack(e + "I", 0xbe0d3d08)))
            parts.append(epb(0, ts0 + i, r[2], big=big, options=o))
        files[f"pcapng-process-darwin-{tag}"] = b"".join(parts)
        entry = struct.pack("<I", 1234) + opts([(2, b"curl"), (3, b"/usr/bin/curl"),
                                                (7, b"alice"), (9, struct.pack("<Q", 5))])
        parts = [shb(big), idb(1, 65535, big),
                 block(0xBAD, struct.pack(e + "I", 32622) + struct.pack("<II", 3, len(entry)) +
                       entry, big),
                 block(0x40000BAD, struct.pack(e + "I", 32622) + struct.pack("<II", 99, 4) +
                       b"abcd", big)]
        for i, r in enumerate(sample[:4]):
            parts.append(epb(0, ts0 + i, r[2], big=big,
                             options=[(8, struct.pack(e + "II", 1234 if i % 2 else 77, 1))]))
        files[f"pcapng-process-pib-{tag}"] = b"".join(parts)
    comments = [b"PID: 99722\nCmd: /usr/bin/curl\nArgs: curl https://kernel.org",
                b"PID: 301, ProcName: apsd, EPID: 2048, EProcName: Messages, SVC: BE",
                b"PID=4 TID=88 VlanId=0", b"rustnet process=firefox pid=4242 uid=1000",
                b"PID: 12x\nCmd: /bin/sh", b"PID=99999999999 TID=1"]
    parts = [shb(), idb(1)]
    for i, r in enumerate(sample[:6]):
        o = [(1, comments[i])]
        if i == 0:
            o += [(1, b"UserId: 1000"), (1, b"ContainerName: web\nContainerId: abc")]
        parts.append(epb(0, ts0 + i, r[2], options=o))
    files["pcapng-process-comments"] = b"".join(parts)
    rr = []
    for i, (s_, u, f, ln) in enumerate(sample[:6]):
        h = bytearray(156)
        struct.pack_into("<IIi", h, 0, 156, 1, 1)
        h[12:15] = b"en0"
        struct.pack_into("<IIII", h, 36, 0x2 | (0x4 if i % 2 else 0) | 0x20000, 2, 14, 0)
        struct.pack_into("<I", h, 52, 301)
        h[56:60] = b"apsd"
        struct.pack_into("<IHHI", h, 76, 0, 6, 0, 2048 if i % 2 else 0xffffffff)
        h[88:96] = b"Messages" if i % 2 else bytes(8)
        rr.append((s_, u, bytes(h) + f, ln + 156))
    files["pcap-pktap156-delegated"] = pcap_file(rr, linktype=258)
    v2 = bytearray(40) + b"curl\0launchd\0"
    v2[0], v2[4], v2[5] = len(v2), 40, 45
    struct.pack_into("<III", v2, 28, 554, 0xffffffff, 0x80002)
    files["pcap-pktap-v2"] = pcap_file([(sample[0][0], 0, bytes(v2) + sample[0][2],
                                         len(v2) + len(sample[0][2]))], linktype=258)
    pkg, app = b"com.example.app", b"Example"
    files["pcapng-process-pcapdroid"] = shb() + idb(101) + block(
        0xBAD, struct.pack("<IHBBiBB", 62652, 1, 1, 0, 10123, len(pkg), len(app)) + pkg + app) + \
        b"".join(epb(0, ts0 + i, r[2][14:], options=[(1, b"u-10123" if i % 2 else b"u--1")])
                 for i, r in enumerate(sample[:4]))
    files["dmg-pcapng-pcapdroid-map-past-block"] = shb() + idb(101) + block(
        0xBAD, struct.pack("<IHBBiBB", 62652, 1, 1, 0, 7, 200, 9) + b"x") + epb(
        0, ts0, sample[0][2][14:], options=[(1, b"u-7")])
    # PCAPdroid's classic-pcap trailer: bogus Ethernet, IP, zero pad to 4,
    # magic, UID (both big-endian), app name (20), CRC-32 (host order)
    def droid(frame, uid, app, crc_big=False, pad_byte=0, extra=0):
        ip = frame[14:]
        ipl = (struct.unpack(">H", ip[2:4])[0] if ip[0] >> 4 == 4
               else 40 + struct.unpack(">H", ip[4:6])[0])
        f = bytes(12) + (b"\x08\x00" if ip[0] >> 4 == 4 else b"\x86\xdd") + ip[:ipl]
        f += bytes([pad_byte]) * ((-len(f)) % 4) + bytes(extra)
        f += struct.pack(">Ii", 0x01072021, uid) + app.ljust(20, b"\0")
        return f + struct.pack(">I" if crc_big else "<I", zlib.crc32(f))
    ip_recs = [r for r in sample if r[2][12:14] in (b"\x08\x00", b"\x86\xdd")]
    dr = [(s_, u, droid(f, 10123 if i % 3 else -1, b"com.example.app" if i % 3 else b""), 0)
          for i, (s_, u, f, ln) in enumerate(ip_recs[:6])]
    files["pcap-pcapdroid-trailer"] = pcap_file([(a, b, f, len(f)) for a, b, f, _ in dr])
    f = droid(ip_recs[0][2], 10001, b"crc.big", crc_big=True)
    files["pcap-pcapdroid-trailer-be"] = pcap_file([(ip_recs[0][0], 0, f, len(f))], big=True)
    f = bytearray(droid(ip_recs[0][2], 10001, b"damaged"))
    f[22] ^= 0xff  # the TTL changed after the CRC was computed
    files["dmg-pcap-pcapdroid-trailer-bad-fcs"] = pcap_file([(ip_recs[0][0], 0, bytes(f),
                                                              len(f))])
    f = droid(ip_recs[0][2], 10001, b"four more", extra=4)
    files["dmg-pcap-pcapdroid-trailer-bad-layout"] = pcap_file([(ip_recs[0][0], 0, f, len(f))])
    # damaged process information: counted, never trusted
    files["dmg-pcapng-dpib-short"] = shb() + idb(1) + block(0x80000001, b"") + epb(
        0, ts0, sample[0][2], options=[(0x8001, struct.pack("<I", 0))])
    files["dmg-pcapng-dpib-option-overrun"] = shb() + idb(1) + block(
        0x80000001, struct.pack("<IHH", 7, 2, 300) + b"name") + epb(
        0, ts0, sample[0][2], options=[(0x8001, struct.pack("<I", 0))])
    files["dmg-pcapng-epb-pib-index-past"] = shb() + idb(1) + epb(
        0, ts0, sample[0][2], options=[(0x8001, struct.pack("<I", 5)),
                                       (0x8003, struct.pack("<I", 0xffffffff))])
    files["dmg-pcapng-epb-process-option-lengths"] = shb() + idb(1) + epb(
        0, ts0, sample[0][2], options=[(8, b"\1\0\0\0"), (0x8001, b"\0\0"), (0x8003, b"")])
    files["dmg-pcapng-epb-option-overrun"] = shb() + idb(1) + block(
        6, struct.pack("<IIIII", 0, 0, 0, len(sample[0][2]), len(sample[0][2])) + sample[0][2] +
        bytes((4 - len(sample[0][2]) % 4) % 4) + struct.pack("<HH", 1, 400) + b"PID: 1")
    files["dmg-pcapng-pib-entry-past-block"] = shb() + idb(1) + block(
        0xBAD, struct.pack("<III", 32622, 3, 4000) + struct.pack("<I", 9)) + epb(
        0, ts0, sample[0][2], options=[(8, struct.pack("<II", 9, 0))])
    files["dmg-pcapng-pib-option-past-entry"] = shb() + idb(1) + block(
        0xBAD, struct.pack("<III", 32622, 3, 12) + struct.pack("<IHH", 9, 2, 64) + b"abcd") + epb(
        0, ts0, sample[0][2], options=[(8, struct.pack("<II", 9, 0))])
    files["dmg-pcapng-comment-bad-pid"] = shb() + idb(1) + epb(
        0, ts0, sample[0][2], options=[(1, b"PID: -7\nCmd: /x"), (1, b"PID=abc")])
    return {k + (".pcapng" if k.startswith(("pcapng", "dmg-pcapng")) else ".pcap"): v
            for k, v in files.items()}


# ---- main -----------------------------------------------------------------------


def regress_inputs():
    dec, cap = {}, {}
    d = os.path.join(REGRESS, "decode")
    if os.path.isdir(d):
        for n in sorted(os.listdir(d)):
            if not n.startswith(".") and os.path.isfile(os.path.join(d, n)):
                dec["regress-" + n] = open(os.path.join(d, n), "rb").read()
    if os.path.isdir(REGRESS):
        for n in sorted(os.listdir(REGRESS)):
            p = os.path.join(REGRESS, n)
            if os.path.isfile(p) and n.endswith((".pcap", ".pcapng")):
                cap["regress-" + n] = open(p, "rb").read()
    return dec, cap


def write_dir(path, files, check):
    current = {}
    if os.path.isdir(path):
        for n in os.listdir(path):
            current[n] = open(os.path.join(path, n), "rb").read()
    if check:
        return current == files
    if os.path.isdir(path):
        shutil.rmtree(path)
    os.makedirs(path)
    for n, data in sorted(files.items()):
        with open(os.path.join(path, n), "wb") as f:
            f.write(data)
    return True


def main():
    check = "--check" in sys.argv[1:]
    sample = read_pcap(SAMPLE)
    dec = decode_corpus(sample)
    cap = pcap_corpus(sample)
    rdec, rcap = regress_inputs()
    dec.update(rdec)
    cap.update(rcap)
    ok = True
    for sub, files in (("corpus_decode", dec), ("corpus_pcap", cap)):
        path = os.path.join(HERE, sub)
        same = write_dir(path, files, check)
        size = sum(len(v) for v in files.values())
        digest = hashlib.sha256(b"".join(k.encode() + v for k, v in sorted(files.items())))
        print(f"{sub}: {len(files)} files, {size} bytes, sha256 {digest.hexdigest()[:16]}"
              + ("" if not check else (" (up to date)" if same else " (OUT OF DATE)")))
        ok = ok and same
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
