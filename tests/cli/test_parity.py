#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""whichports against Wireshark (tshark) on every capture: pcaps/ and, when it
exists, every capture of ../shared/pcaps/ (docs/wireshark.md says how each
number is reproduced with tshark and lists every difference).

For each capture whichports runs (JSON report, and the text report with
--filters), then tshark reads the file ONCE, with -o ip.defragment:FALSE -o
ipv6.defragment:FALSE, printing every field needed plus -z conv,tcp,
-z conv,udp and -z io,phs,FILTER for the display filter of each top port row.
From that run the test checks, exactly:

  * totals: packets = tshark's frames, bytes = sum(frame.len); IP packets;
  * every TCP and UDP conversation, frames and bytes in each direction,
    against tshark's (tcp.stream / udp.stream); the -z conv frame counts
    cross-check how the fields were read; every flow of another transport
    (ICMP, GRE, ...) against tshark's frames grouped by transport and
    address pair;
  * every port row (packets, bytes, to/from service, unattributed, Apple
    share) against sums over tshark's frames;
  * every tunnel row against tshark's outer conversation (conv,udp for
    VXLAN, Geneve and GTP-U);
  * the --filters display filter of every port row (the 10 largest when a
    capture has 50 rows or more): tshark's own count (-z io,phs) equals the
    row's packets and bytes, or whichports says why not.

Where Wireshark counts differently by definition, a named rule (RULES below,
each one a section of docs/wireshark.md) is applied to the comparison; every
use of a rule is counted and printed per file and in total. Captures that
tshark or whichports cannot read are checked for the documented behaviour;
no capture is passed over without the reason printed.

usage: test_parity.py WHICHPORTS SOURCE_ROOT [SHARED_PCAPS]
"""

import collections
import concurrent.futures
import gzip
import ipaddress
import json
import os
import re
import struct
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wptest  # noqa: E402
from wptest import run  # noqa: E402

NO_DEFRAG = ["-o", "ip.defragment:FALSE", "-o", "ipv6.defragment:FALSE"]
# The port rows whose display filter tshark evaluates: all of them when a
# capture has fewer than FILTER_ALL, else the FILTER_ROWS largest.
FILTER_ALL = 50
FILTER_ROWS = 10
# Display filters that reproduce totals (docs/wireshark.md), evaluated in the
# same tshark run: JSON totals field -> filter.
TOTAL_FILTERS = {
    "packets": "frame.encap_type",
    "ip_packets": "ip.dst || ipv6.dst",
    "snapped": "frame.cap_len < frame.len",
    "fragments": "ip.frag_offset > 0 || ipv6.fraghdr.offset > 0",
}

# The named rules. Each is a definitional difference between Wireshark and
# whichports; docs/wireshark.md has a section of the same name with the
# tshark options or filters that make both agree.
RULES = {
    "reused-4tuple": "tshark gives a reused TCP/UDP 4-tuple several streams; whichports "
                     "one flow: tshark's streams are merged by endpoints",
    "vlan": "whichports keys flows by VLAN ids, tshark's conversations do not: whichports' "
            "flows differing only by VLAN are merged",
    "fragments": "with defragmentation off tshark puts only a datagram's first fragment in "
                 "its conversation; whichports adds the later fragments of the datagram "
                 "(same source, destination, protocol, IP id) to the same flow",
    "icmp-quote": "an ICMP error quotes the headers of another packet; tshark's fields and "
                  "filters see the quoted addresses and ports; whichports counts the frame "
                  "under ICMP: only the headers before the first ICMP header are used",
    "tunnel": "tshark lists a tunnelled frame in the outer conversation and in the inner "
              "one; whichports counts it once, in the inner flow, and in its tunnels section",
    "tunnel-other": "an encapsulation whichports does not open (tshark does): the frame is "
                    "counted under its outer transport",
    "tunnel-depth": "more than 4 nested tunnels: whichports stops decapsulating at the limit",
    "transport-cut": "a TCP/UDP header cut short or beyond the IP payload: no conversation in "
                     "tshark, no flow in whichports (counted as unattributed); for TCP, fewer "
                     "than its first 16 bytes captured",
    "tcp-cut-conv": "a TCP header cut by the snap length after its first 16 bytes (in its "
                    "options, say): Wireshark gives the frame a tcp.stream but leaves it out of "
                    "its Conversations table (-z conv); whichports counts it under its flow "
                    "(captured_short.tcp): compared with the tcp.stream",
    "tcp-bad-option": "a TCP segment whose options Wireshark cannot parse: missing from "
                      "tshark's Conversations table (-z conv), but it has a tcp.stream and "
                      "whichports counts it",
    "custom-block": "Wireshark lists pcapng Custom Blocks as frames; they are not packets",
    "damaged-tail": "at a damaged record tshark shows what it salvaged as a frame; whichports "
                    "stops reading before it (exit status 3)",
    "unsupported-link": "frames of a link type whichports does not decode: counted as other "
                        "packets (unsupported_link_packets), not in any flow",
    "pcap-variant": "Wireshark took a damaged pcap file for a variant of the format with "
                    "longer record headers and reads its records at other offsets: only the "
                    "packet and byte totals are comparable",
    "ext-cut": "an IPv6 extension header that does not fit: Wireshark still reads its "
               "next-header field; whichports counts the packet under the extension header's "
               "own number (malformed: ipv6_ext_exceeds_payload or truncated: ipv6_ext)",
    "ip-cut": "an IPv4/IPv6 header cut short or invalid: Wireshark shows what it could read "
              "(ip.dst may be there), whichports counts the frame as undecodable",
    "self-flow": "a packet from an endpoint to itself: which direction whichports books it in "
                 "is not visible in tshark's fields; whichports' split is used",
    "apple-name": "a flow whose server name (TLS SNI, DNS answer, HTTP Host) is Apple's "
                  "counts in the Apple share whatever its addresses; Wireshark's address "
                  "filters cannot say that: the name attribution is taken from whichports",
    "tunnel-inner-cut": "a tunnel's inner IP header cut by the snap length before its destination: "
                        "tshark lists the frame in the outer conversation only, whichports counts "
                        "it under the outer flow, not in the tunnel row",
    "phs-quote-cut": "tshark's -z io,phs leaves out a frame cut by the snap length inside the "
                     "packet an ICMP error quotes; such frames are added back to the totals' "
                     "and the port rows' filter counts",
    "name-dns-other": "(cut variants) a flow whose own name (TLS SNI, QUIC, HTTP Host) or "
                      "whose deciding DNS answer was cut keeps another name that DNS gave its "
                      "server: one of tshark's DNS answers for that address",
    "nflog-cut": "an NFLOG payload TLV cut by the snap length: tshark does not dissect the "
                 "packet in it, whichports decodes what was captured; the suite reads the "
                 "captured payload again as raw IP with tshark",
    "fragment-filter": "a port filter does not select later fragments (they have no ports) "
                       "although whichports counts them in the row",
}

IPV6_EXT = {"ipv6.hopopts": "ipv6.hopopts.nxt", "ipv6.routing": "ipv6.routing.nxt",
            "ipv6.fraghdr": "ipv6.fraghdr.nxt", "ipv6.dstopts": "ipv6.dstopts.nxt",
            "ah": "ah.next_header", "ipv6.shim6": None, "ipv6.mipv6": None}
EXT_NUM = {"ipv6.hopopts": 0, "ipv6.routing": 43, "ipv6.fraghdr": 44, "ipv6.dstopts": 60,
           "ah": 51}
# Tokens that may stand between two IP layers of a tunnel whichports opens.
TUNNEL_GLUE = {"gre", "ppp", "eth", "ethertype", "vlan", "ieee8021ad", "mpls",
               "pwethheuristic", "pwethcw", "erspan", "vxlan", "geneve", "gtp", "udp",
               "pppoes"}
UDP_TUNNELS = {"vxlan": "vxlan", "geneve": "geneve", "gtp": "gtpu"}
MAX_TUNNEL_DEPTH = 4   # WP_MAX_TUNNEL_DEPTH (include/wp/decode.h)
# First token of frame.protocols for the link types whichports decodes.
LINKS = {"eth", "null", "loop", "raw", "ip", "ipv6", "sll", "pktap", "user_dlt", "nflog", ""}

# wp_ip_proto_name() (src/proto.c), and Wireshark's protocol tokens.
PROTO_NAME = {0: "hopopt", 1: "icmp", 2: "igmp", 4: "ipip", 6: "tcp", 17: "udp", 33: "dccp",
              41: "ipv6", 43: "ipv6-route", 44: "ipv6-frag", 46: "rsvp", 47: "gre", 50: "esp",
              51: "ah", 58: "icmpv6", 59: "ipv6-nonxt", 60: "ipv6-opts", 88: "eigrp",
              89: "ospf", 103: "pim", 112: "vrrp", 115: "l2tp", 132: "sctp", 136: "udplite"}
TOKEN_PROTO = {"tcp": 6, "udp": 17, "icmp": 1, "icmpv6": 58, "igmp": 2, "gre": 47, "esp": 50,
               "sctp": 132, "dccp": 33, "ospf": 89, "pim": 103, "vrrp": 112, "eigrp": 88,
               "udplite": 136, "rsvp": 46}
PORT_PROTOS = {6, 17, 33, 132, 136}

FIELDS = ["frame.number", "frame.len", "frame.cap_len", "frame.protocols", "frame.encap_type",
          "_ws.short", "_ws.malformed", "_ws.unreassembled",
          "ip.src", "ip.dst", "ip.proto", "ip.id", "ip.flags.mf", "ip.frag_offset",
          "ipv6.src", "ipv6.dst", "ipv6.nxt", "ipv6.hopopts.nxt", "ipv6.routing.nxt",
          "ipv6.dstopts.nxt", "ipv6.fraghdr.nxt", "ipv6.fraghdr.offset", "ipv6.fraghdr.more",
          "ipv6.fraghdr.ident", "ah.next_header",
          "tcp.srcport", "tcp.dstport", "tcp.stream", "tcp.len", "tcp.hdr_len", "tcp.options",
          "udp.srcport", "udp.dstport", "udp.stream", "udp.length",
          "sctp.srcport", "sctp.dstport", "dccp.srcport", "dccp.dstport",
          "ipv6.routing.type", "ipv6.routing.segleft", "ipv6.routing.len",
          "ipv6.routing.src.addr", "ipv6.routing.mipv6.home_address", "ipv6.routing.srh.addr",
          "ipv6.routing.srh.last_entry", "ipv6.opt.mipv6.home_address"]


def proto_name(p):
    return PROTO_NAME.get(p, str(p))


def norm_addr(a):
    return str(ipaddress.ip_address(a))


# ---- tshark's frames, as whichports sees them -----------------------------------

class Frame:
    """One frame reduced to what whichports uses, from tshark's fields."""
    __slots__ = ("num", "len", "record", "link", "ip", "fam", "src", "dst", "proto", "sport",
                 "dport", "frag", "frag_id", "wp_ports", "quote", "tunnel", "outer",
                 "other_tunnel", "deep", "taps", "bad_option", "key", "sender", "ext_cut",
                 "ip_hdr", "snapped", "any_later", "cut_conv", "phs_miss", "inner_cut", "opt_cut")


def nth(d, field, i):
    v = d.get(field) or []
    return v[i] if 0 <= i < len(v) else None


def make_frame(line):
    cols = line.split("\t")
    cols += [""] * (len(FIELDS) - len(cols))
    d = {n: (v.split("|") if v else []) for n, v in zip(FIELDS, cols)}
    f = Frame()
    f.num = int(d["frame.number"][0])
    f.len = int(d["frame.len"][0])
    f.record = bool(d["frame.encap_type"])
    f.ip = f.wp_ports = f.quote = f.other_tunnel = f.deep = f.bad_option = f.ext_cut = False
    f.cut_conv = f.inner_cut = f.opt_cut = False
    # phs-quote-cut: -z io,phs leaves out a frame cut inside a quoted packet
    f.phs_miss = False
    f.fam = f.src = f.dst = f.proto = f.sport = f.dport = None
    f.frag = f.frag_id = f.tunnel = f.outer = f.key = f.sender = None
    f.taps = []
    f.ip_hdr = bool(d["ip.dst"] or d["ipv6.dst"])
    f.snapped = int(d["frame.cap_len"][0]) < f.len
    f.any_later = any(int(x) > 0 for x in d["ip.frag_offset"] + d["ipv6.fraghdr.offset"])
    toks = d["frame.protocols"][0].split(":") if d["frame.protocols"] else []
    f.link = toks[0] if toks else ""
    marks = " ".join(d["_ws.short"] + d["_ws.malformed"] + d["_ws.unreassembled"])
    # icmp-quote: after the first ICMP header comes a quoted packet.
    for i, t in enumerate(toks):
        if t in ("icmp", "icmpv6"):
            f.quote = any(x in ("ip", "ipv6") for x in toks[i + 1:])
            f.phs_miss = f.quote and bool(d["_ws.short"])
            toks = toks[:i + 1]
            break
    idx, seen = [], collections.Counter()
    for t in toks:
        idx.append((t, seen[t]))
        seen[t] += 1
    # The TCP and UDP layers tshark's conversation taps count: all of them
    # before the quote, unless the dissector failed inside the header.
    last_ip = None
    for i, (t, k) in enumerate(idx):
        if t in ("ip", "ipv6"):
            last_ip = i
        if t not in ("tcp", "udp") or last_ip is None:
            continue
        st = nth(d, t + ".stream", k)
        sp, dp = nth(d, t + ".srcport", k), nth(d, t + ".dstport", k)
        src, dst = addrs(d, idx, last_ip)
        if st is None or sp is None or dp is None or src is None or dst is None:
            continue
        hl = nth(d, "tcp.hdr_len", k) if t == "tcp" else None
        if hl is not None and int(hl) < 20:
            continue   # a bogus data offset: Wireshark stops before its tap
        if t == "tcp" and k == seen["tcp"] - 1 and \
                re.search(r"Packet: TCP\]|TCP truncated", marks):
            # not in conv,tcp; whichports counts it when the header is whole
            # (tcp.len is present when the header fits in the IP payload)
            f.bad_option = nth(d, "tcp.len", k) is not None and "TCP truncated" not in marks
            # tcp-cut-conv: the header cut after the bytes that give it a
            # tcp.stream (its first 16): whichports counts it under its flow,
            # unless the data offset passes the IP payload (no tcp.len: a
            # first fragment too short for its header), which is malformed
            # whatever was captured (transport-cut)
            f.cut_conv = "TCP truncated" in marks and nth(d, "tcp.len", k) is not None
            continue
        if t == "tcp" and hl is not None and seen["tcp"] == 1 and len(d["tcp.options"]) == 1:
            # Wireshark stops reading the options at one with an invalid
            # length, before the snap length's cut, and then marks nothing:
            # tcp.options holds the option bytes captured, fewer than the
            # data offset says; whichports counts it in captured_short.tcp
            f.opt_cut = len(d["tcp.options"][0]) // 2 < int(hl) - 20
        f.taps.append((t, int(st), k, (norm_addr(src), int(sp)), (norm_addr(dst), int(dp))))
    ips = [i for i, (t, _) in enumerate(idx) if t in ("ip", "ipv6")]
    # Wireshark hands an IPv4 header whose version is 6 to its IPv6 dissector
    # ("ip:ipv6" for one header): the ip token without addresses is no layer.
    ips = [i for i in ips if not (idx[i][0] == "ip" and nth(d, "ip.src", idx[i][1]) is None
                                  and i + 1 < len(idx) and idx[i + 1][0] == "ipv6")]
    if not ips:
        return f, d, idx
    depth = 0
    for t, _ in idx[:ips[0]]:
        if t in ("mpls", "pppoes"):
            depth += 1
            if f.tunnel is None:
                f.tunnel = "mpls" if t == "mpls" else "pppoe"
    own = ips[0]
    for nxt in ips[1:]:
        glue = [t for t, _ in idx[own + 1:nxt] if t not in IPV6_EXT]
        ok = all(t in TUNNEL_GLUE for t in glue)
        if ok and "udp" in glue:
            u = glue.index("udp")
            ok = u + 1 < len(glue) and glue[u + 1] in UDP_TUNNELS
        if not ok:
            f.other_tunnel = True
            break
        if depth >= MAX_TUNNEL_DEPTH:
            f.deep = True
            break
        if layer(d, idx, nxt) is None:
            # tunnel-inner-cut: the snap length cut the inner IP header
            # before its destination; tshark keeps the frame in the outer
            # conversation only, and so does whichports
            f.inner_cut = True
            break
        depth += 1
        if f.tunnel is None:
            kind = "ipip"
            if "gre" in glue:
                kind = "erspan" if "erspan" in glue else "gre"
            elif "udp" in glue:
                kind = UDP_TUNNELS[glue[glue.index("udp") + 1]]
            f.tunnel = kind
            f.outer = layer(d, idx, own)
        own = nxt
    info = layer(d, idx, own)
    if info is None:
        return f, d, idx
    f.ip = True
    f.fam, f.src, f.dst, f.proto, f.sport, f.dport, f.frag, f.frag_id, tpos = info
    f.ext_cut = d.get("_ext_cut", False)
    if f.proto in PORT_PROTOS and f.sport is not None:
        t, k = idx[tpos]
        if t == "tcp":
            f.wp_ports = any(x[0] == "tcp" and x[2] == k for x in f.taps) or f.bad_option or \
                f.cut_conv
        elif t in ("udp", "udplite"):
            ul = nth(d, "udp.length", k)
            f.wp_ports = ul is not None and (int(ul) >= 8 or (int(ul) == 0 and f.fam == 6))
            # a UDP header cut short (its ports and length may be shown):
            # no udp.stream, no flow (transport-cut); a whole header whose
            # payload was cut is also marked "UDP truncated" but has its
            # udp.stream and conversation
            if t == "udp" and k == seen["udp"] - 1 and "UDP truncated" in marks and \
                    nth(d, "udp.stream", k) is None:
                f.wp_ports = False
        else:
            f.wp_ports = True
    return f, d, idx


def routing_dsts(d):
    """The final destination named by each IPv6 routing header of the frame
    (None when its segments left is 0), in order: Wireshark, like the
    transport pseudo-header, uses it as the conversation's destination."""
    out, c0, c2, c4, k4 = [], 0, 0, 0, 0
    for k, typ in enumerate(d["ipv6.routing.type"]):
        left = int(nth(d, "ipv6.routing.segleft", k) or 0)
        ln = int(nth(d, "ipv6.routing.len", k) or 0)
        final = None
        if typ == "0":
            n = ln // 2
            if n and left:
                final = nth(d, "ipv6.routing.src.addr", c0 + n - 1)
            c0 += n
        elif typ == "2":
            if left:
                final = nth(d, "ipv6.routing.mipv6.home_address", c2)
            c2 += 1
        elif typ == "4":
            n = int(nth(d, "ipv6.routing.srh.last_entry", k4) or 0) + 1
            if left:
                final = nth(d, "ipv6.routing.srh.addr", c4)
            c4 += n
            k4 += 1
        out.append(final)
    return out


def addrs(d, idx, pos):
    """Source and destination of the IP header at token position pos, as
    Wireshark's conversations (and whichports' flows) use them."""
    tok, k = idx[pos]
    src, dst = nth(d, tok + ".src", k), nth(d, tok + ".dst", k)
    if tok == "ipv6" and src is not None:
        finals = None
        j = pos + 1
        while j < len(idx) and idx[j][0] in IPV6_EXT:
            et, ek = idx[j]
            if et == "ipv6.routing":
                finals = finals if finals is not None else routing_dsts(d)
                if ek < len(finals) and finals[ek] is not None:
                    dst = finals[ek]
            elif et == "ipv6.dstopts" and d["ipv6.opt.mipv6.home_address"]:
                src = d["ipv6.opt.mipv6.home_address"][0]
            j += 1
    return src, dst


def layer(d, idx, pos):
    """(family, src, dst, proto, sport, dport, frag, frag_id, transport token
    position) of the IP header at token position pos; None without addresses."""
    tok, k = idx[pos]
    frag = frag_id = None
    src, dst = addrs(d, idx, pos)
    if tok == "ip":
        fam = 4
        proto = nth(d, "ip.proto", k)
        off, mf, fid = nth(d, "ip.frag_offset", k), nth(d, "ip.flags.mf", k), nth(d, "ip.id", k)
        if off is not None and int(off) > 0:
            frag = "later"
        elif mf in ("1", "True"):
            frag = "first"
        frag_id = int(fid, 16) if fid else None
    else:
        fam = 6
        proto = nth(d, "ipv6.nxt", k)
    if src is None or dst is None:
        return None
    proto = int(proto) if proto is not None else None
    j = pos + 1
    while j < len(idx) and idx[j][0] in IPV6_EXT and (fam == 6 or idx[j][0] == "ah"):
        et, ek = idx[j]
        v = nth(d, IPV6_EXT[et], ek) if IPV6_EXT[et] else None
        if j + 1 == len(idx) and re.search(r"(Malformed Packet|truncated).*(IPv6|AH)"
                                           r"|(IPv6|AH) .*truncated",
                                           " ".join(d["_ws.malformed"] + d["_ws.short"])):
            # the last extension header failed: whichports stops at it (ext-cut);
            # an Authentication Header cut short ends the frame's protocols in
            # `ah` ("AH truncated"), whatever its next-header field says
            d["_ext_cut"] = True
            proto = EXT_NUM.get(et, proto)
            break
        if v is not None:
            proto = int(v)
        if et == "ipv6.fraghdr":
            off = nth(d, "ipv6.fraghdr.offset", ek)
            more = nth(d, "ipv6.fraghdr.more", ek)
            fid = nth(d, "ipv6.fraghdr.ident", ek)
            frag_id = int(fid, 16) if fid else None
            if off is not None and int(off) > 0:
                frag = "later"
            elif more in ("1", "True"):
                frag = "first"
        j += 1
    sport = dport = None
    if j < len(idx) and frag != "later":
        t, tk = idx[j]
        if t in TOKEN_PROTO:
            proto = TOKEN_PROTO[t]
            pf = {"udplite": "udp"}.get(t, t)
            if proto in PORT_PROTOS:
                sp, dp = nth(d, pf + ".srcport", tk), nth(d, pf + ".dstport", tk)
                if sp is not None and dp is not None:
                    sport, dport = int(sp), int(dp)
    return fam, norm_addr(src), norm_addr(dst), proto, sport, dport, frag, frag_id, j


CONV_RE = re.compile(r"^(\S+)\s+<->\s+(\S+)\s+(\d+)\s+\S+\s+\S+\s+(\d+)\s+\S+\s+\S+\s+(\d+)\s")


def endpoint(s):
    a, p = s.rsplit(":", 1)
    return norm_addr(a), int(p)


def tshark_read(path, filters):
    """One tshark run: frames, the conv tables (frame counts), and for each
    display filter its (frames, bytes) from -z io,phs,FILTER (the sum of the
    top-level lines of the protocol hierarchy of the frames it selects)."""
    cmd = ["tshark", "-n", "-r", path] + NO_DEFRAG + [
        "-T", "fields", "-E", "separator=\t", "-E", "occurrence=a", "-E", "aggregator=|",
        "-z", "conv,tcp", "-z", "conv,udp"]
    for flt in filters:
        cmd += ["-z", "io,phs," + flt]
    for f in FIELDS:
        cmd += ["-e", f]
    rc, out, err = run(cmd, timeout=1500)
    frames, conv, phs = [], {"tcp": [], "udp": []}, {}
    table = flt = None
    for line in out.decode("utf-8", "replace").splitlines():
        if table is None and line[:1].isdigit() and "\t" in line:
            frames.append(line)
            continue
        if line.startswith("TCP Conversations"):
            table = "tcp"
        elif line.startswith("UDP Conversations"):
            table = "udp"
        elif line.startswith("Protocol Hierarchy Statistics"):
            table = "phs"
        elif table in ("tcp", "udp"):
            m = CONV_RE.match(line)
            if m:
                a, b = endpoint(m.group(1)), endpoint(m.group(2))
                # "<-" is B to A, "->" is A to B
                conv[table].append((a, b, int(m.group(4)), int(m.group(3))))
        elif table == "phs":
            if line.startswith("Filter: "):
                flt = line[len("Filter: "):]
                phs[flt] = (0, 0)
            m = re.match(r"^(\S+)\s+frames:(\d+) bytes:(\d+)", line)
            if m and flt is not None:   # a top-level (link) protocol
                n, b = phs[flt]
                phs[flt] = (n + int(m.group(2)), b + int(m.group(3)))
    err = "\n".join(ln for ln in err.splitlines() if "Running as user" not in ln).strip()
    return rc, frames, conv, [phs.get(f) for f in filters], err


def _read_pcap(path):
    """The records of a classic pcap file: (captured bytes, original length)."""
    with open(path, "rb") as fp:
        buf = fp.read()
    e = "<" if buf[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    out, off = [], 24
    while off + 16 <= len(buf):
        _, _, cap, orig = struct.unpack_from(e + "IIII", buf, off)
        out.append((buf[off + 16:off + 16 + cap], orig))
        off += 16 + cap
    return out


def nflog_payload(data):
    """The NFULA_PAYLOAD TLV (type 9) of an NFLOG record: (the bytes captured
    of it, its length), or None. TLV lengths and types are in the capturing
    host's order: the one in which the first TLV's length fits."""
    if len(data) < 8:
        return None
    e = "<" if 4 <= struct.unpack_from("<H", data, 4)[0] <= len(data) else ">"
    off = 4
    while off + 4 <= len(data):
        tl, ty = struct.unpack_from(e + "HH", data, off)
        if tl < 4:
            return None
        if ty & 0x7fff == 9:
            return data[off + 4:off + tl], tl - 4
        off += (tl + 3) & ~3
    return None


def nflog_cut(path, ts, filters, tmp):
    """nflog-cut: Wireshark hands an NFLOG payload TLV to IP only when the
    whole TLV was captured; a cut one ends the frame's protocols in `nflog`
    ("NFLOG truncated"). whichports decodes what was captured. Those frames
    are read again from their captured payload as raw IP (LINKTYPE_RAW, the
    frame's length kept), and their lines, conversation rows and filter
    counts replace tshark's. Returns (the tshark result, frames re-read)."""
    rc, lines, conv, phs, err = ts
    ip, sp, ep = (FIELDS.index(x) for x in ("frame.protocols", "_ws.short", "frame.encap_type"))
    cut = {}
    for i, line in enumerate(lines):
        cols = line.split("\t")
        if len(cols) > sp and cols[ip] == "nflog" and "NFLOG truncated" in cols[sp]:
            cut[int(cols[0])] = i
    if rc != 0 or not cut:
        return ts, 0
    sel = os.path.join(tmp, "nflog-cut.pcap")
    nums = sorted(cut)
    spans = []
    for n in nums:
        if spans and spans[-1][1] + 1 == n:
            spans[-1][1] = n
        else:
            spans.append([n, n])
    rc1, _, _ = run(["editcap", "-F", "pcap", "-r", path, sel] +
                    [f"{a}-{b}" if a != b else str(a) for a, b in spans])
    recs = _read_pcap(sel) if rc1 == 0 else []
    raw = [nflog_payload(d) for d, _ in recs]
    if len(recs) != len(nums) or None in raw:
        return ts, 0
    rawp = os.path.join(tmp, "nflog-cut-raw.pcap")
    _pcap(rawp, [(p + b"\0" * (orig - len(p)), len(p)) for (p, _), (_, orig) in zip(raw, recs)],
          linktype=101)
    _, _, _, phs_sel, _ = tshark_read(sel, filters)
    rc2, rlines, rconv, phs_raw, _ = tshark_read(rawp, filters)
    if rc2 != 0 or len(rlines) != len(nums):
        return ts, 0
    # the re-read frames' streams follow the whole file's
    streams = {"tcp.stream": 0, "udp.stream": 0}
    for fld in streams:
        k = FIELDS.index(fld)
        for line in lines:
            cols = line.split("\t")
            for v in (cols[k].split("|") if len(cols) > k and cols[k] else []):
                streams[fld] = max(streams[fld], int(v) + 1)
    lines = list(lines)
    for n, rline in zip(nums, rlines):
        cols = rline.split("\t")
        cols += [""] * (len(FIELDS) - len(cols))
        orig = lines[cut[n]].split("\t")
        cols[0], cols[ep], cols[2] = str(n), orig[ep], orig[2]   # number, encap, cap_len
        cols[ip] = "nflog:" + cols[ip].split(":", 1)[-1]
        for fld, base in streams.items():
            k = FIELDS.index(fld)
            if cols[k]:
                cols[k] = "|".join(str(int(v) + base) for v in cols[k].split("|"))
        lines[cut[n]] = "\t".join(cols)
    conv = {t: conv[t] + rconv[t] for t in conv}
    phs = [None if a is None or b is None or c is None else
           (a[0] - b[0] + c[0], a[1] - b[1] + c[1]) for a, b, c in zip(phs, phs_sel, phs_raw)]
    return (rc, lines, conv, phs, err), len(nums)


def first_bytes_differ(path):
    """True when tshark's first frame is not the bytes of the file's first
    standard pcap record (Wireshark guessed a pcap variant)."""
    with open(path, "rb") as fp:
        head = fp.read(56)
    if len(head) < 56 or head[:4] not in (b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\xc3\xd4",
                                          b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d"):
        return False
    rc, out, _ = run(["tshark", "-n", "-r", path, "-c", "1", "-x"])
    line = next((ln for ln in out.decode("utf-8", "replace").splitlines()
                 if ln.startswith("0000 ")), None)
    if line is None:
        return False
    got = bytes(int(x, 16) for x in line[6:53].split())
    return got != head[40:40 + len(got)]


# ---- whichports ----------------------------------------------------------------

def parse_filters(text):
    """[(row label, display filter, note or None)] in report order from the
    --filters output; the note says why the filter is not exact."""
    rows, last, in_ports = [], None, False
    for line in text.splitlines():
        if line.startswith("SERVICE PORTS"):
            in_ports = True
            continue
        if not in_ports:
            continue
        if not line.strip():
            break
        if line.startswith("PORT "):
            continue
        m = re.match(r"    wireshark(?: \(not exact: (.*)\))?: (.*)$", line)
        if m:
            rows.append((last, m.group(2), m.group(1)))
        else:
            last = line.split()[0]
    return rows


DECAPSULATED = "(ip.dst#2 || ipv6.dst#2 || (ip.dst && ipv6.dst))"   # two IP headers: the tunnel was opened


def tunnel_filter(t):
    """The display filter of a tunnel row (docs/wireshark.md): its outer
    endpoints, and a frame with an inner IP header."""
    kind = t["kind"]
    if t["a"] is None:   # MPLS, PPPoE: no outer IP header
        return f"{'mpls' if kind == 'mpls' else 'pppoes'} && (ip.dst || ipv6.dst)"
    def addr(a):
        if ":" not in a:
            return f"ip.addr == {a}"
        # an IPv6 routing header or Home Address option may name the address
        return (f"(ipv6.addr == {a} || ipv6.routing.src.addr == {a} || "
                f"ipv6.routing.srh.addr == {a} || ipv6.routing.mipv6.home_address == {a} || "
                f"ipv6.opt.mipv6.home_address == {a})")
    f = f"{addr(t['a'])} && {addr(t['b'])}"
    if t["a_port"] is not None:
        f += f" && {t['transport']}.port == {t['a_port']} && {t['transport']}.port == {t['b_port']}"
    elif kind in ("gre", "erspan"):
        f += f" && {kind}"
    return f + " && " + DECAPSULATED


def probe(wp, path):
    """Everything one capture needs: whichports' reports and one tshark run."""
    t0 = time.monotonic()
    r = {"path": path}
    stdin = None
    src = path
    if path.endswith(".gz"):
        rc, _, err = run([wp, "-q", "-T", "json", "-r", path])
        r["gz_refusal"] = (rc, err)
        with gzip.open(path, "rb") as fp:
            stdin = fp.read()
        src = "-"
    rc, out, err = run([wp, "-q", "-T", "json", "-r", src], stdin=stdin)
    try:
        doc = json.loads(out) if out else None
    except ValueError:
        doc = None
    r["wp"] = (rc, doc, err)
    r["filters"] = []
    if doc is not None:
        _, tout, _ = run([wp, "-q", "--filters", "--top", "0", "-r", src], stdin=stdin)
        r["filters"] = parse_filters(tout.decode("utf-8", "replace"))
        if len(r["filters"]) >= FILTER_ALL:
            r["filters"] = r["filters"][:FILTER_ROWS]
    flts = [f for _, f, _ in r["filters"]]
    r["tunnel_filters"] = [tunnel_filter(t) for t in doc["tunnels"][:FILTER_ROWS]] \
        if doc is not None else []
    allf = flts + list(TOTAL_FILTERS.values()) + r["tunnel_filters"]
    r["ts"] = tshark_read(path, allf)
    with tempfile.TemporaryDirectory() as tmp:
        r["ts"], r["nflog_cut"] = nflog_cut(path, r["ts"], allf, tmp)
    r["variant"] = r["ts"][0] != 0 and bool(r["ts"][1]) and first_bytes_differ(path)
    r["secs"] = time.monotonic() - t0
    return r


# ---- Apple's address space ---------------------------------------------------------

class Apple:
    def __init__(self, root):
        self.nets, self.cache = [], {}
        with open(os.path.join(root, "data", "apple-prefixes.txt"), encoding="utf-8") as fp:
            for line in fp:
                w = line.split("#", 1)[0].split()
                if len(w) >= 4 and w[3] in ("current", "announced"):
                    self.nets.append(ipaddress.ip_network(w[1]))

    def __call__(self, addr):
        r = self.cache.get(addr)
        if r is None:
            a = ipaddress.ip_address(addr)
            r = any(a.version == n.version and a in n for n in self.nets)
            self.cache[addr] = r
        return r


# ---- the comparison of one capture ----------------------------------------------------

def ep_key(transport, a, b):
    return (transport, frozenset([a, b]))


def compare(ck, name, r, apple):
    """Check one capture; returns (conversations compared, matched, rules used)."""
    rules = collections.Counter()
    rules["nflog-cut"] += r.get("nflog_cut", 0)
    wrc, doc, werr = r["wp"]
    trc, lines, conv, phs, terr = r["ts"]
    terr_last = terr.splitlines()[-1] if terr else f"exit {trc}"
    if "gz_refusal" in r:
        grc, gerr = r["gz_refusal"]
        ck.eq(grc, 1, f"{name}: gzip file refused with exit status 1")
        ck.check("gzip" in gerr and "gunzip" in gerr, f"{name}: the refusal says how to read it",
                 gerr)
        print(f"{name}: gzip-compressed, refused by whichports (exit 1: {gerr.strip()}); "
              "compared as 'gunzip -c FILE | whichports -r -'")
    if doc is None:
        ck.eq(wrc, 1, f"{name}: not readable: exit status 1")
        ck.check(werr.startswith("whichports: ") and r["path"] in werr and len(werr) > 40,
                 f"{name}: not readable: the message names the file and the problem", werr)
        ck.check(trc != 0 and not lines, f"{name}: tshark cannot read it either",
                 f"tshark exit {trc}, {len(lines)} frames")
        print(f"{name}: not compared: neither reads it; whichports: {werr.strip()} | "
              f"tshark: {terr_last}")
        return 0, 0, rules
    t = doc["totals"]
    if trc != 0 and not lines:
        # A link type Wireshark 4.0 does not know: whichports must count
        # every frame as other, unsupported.
        ok = ck.eq(t["unsupported_link_packets"], t["packets"],
                   f"{name}: tshark cannot read it: whichports counts every frame as an "
                   "unsupported link type")
        ck.eq(t["other_packets"], t["packets"], f"{name}: ... as other packets")
        ck.eq(doc["ports"], [], f"{name}: ... and has no port rows")
        ck.eq(wrc, 0, f"{name}: ... and exits 0")
        print(f"{name}: not compared: tshark cannot read it ({terr_last}); whichports: "
              f"{t['packets']} frames of link type {', '.join(doc['input']['link_types'])}, "
              f"all unsupported: {'yes' if ok else 'NO'}")
        return 0, 0, rules

    frames = []
    for line in lines:
        f = make_frame(line)[0]
        if not f.record:
            rules["custom-block"] += 1
            continue
        frames.append(f)
    records = list(frames)
    note = ""
    if trc != 0:
        # A damaged capture: whichports must say so (exit 3) and may stop
        # before the frames tshark salvages from the damaged record.
        ck.eq(wrc, 3, f"{name}: damaged capture: exit status 3")
        ck.check(not doc["input"]["complete"] and doc["input"]["errors"],
                 f"{name}: damaged capture: the report says it is incomplete and why")
        extra = len(frames) - t["packets"]
        ck.check(0 <= extra <= 1, f"{name}: whichports stops at most one frame before tshark",
                 f"tshark {len(frames)} frames, whichports {t['packets']}")
        if extra > 0:
            rules["damaged-tail"] += extra
            frames = frames[:t["packets"]]
        note = f" [damaged: tshark '{terr_last}'; whichports exit {wrc}]"
        if r["variant"]:
            rules["pcap-variant"] += len(frames)
            ck.eq((t["packets"], t["bytes"]), (len(frames), sum(f.len for f in frames)),
                  f"{name}: packets and bytes = tshark's")
            print(f"{name}: only the totals compared: tshark read the damaged pcap as a pcap "
                  f"variant with longer record headers (rule pcap-variant){note}")
            return 0, 0, rules
    else:
        ck.eq(wrc, 0, f"{name}: exit status 0")
    unsupported = [f for f in frames if f.link not in LINKS]
    if unsupported:
        rules["unsupported-link"] += len(unsupported)
        ck.eq((t["unsupported_link_packets"]), len(unsupported),
              f"{name}: frames of link types whichports does not decode "
              f"({', '.join(sorted({f.link for f in unsupported}))}) are counted as unsupported")
        frames = [f for f in frames if f.link in LINKS]

    # The totals' display filters (docs/wireshark.md), counted by tshark on
    # every packet record it read (damaged tail included).
    tf = dict(zip(TOTAL_FILTERS, phs[len(r["filters"]):]))
    miss = [f for f in records if f.phs_miss]
    if miss and all(v is not None for v in tf.values()):
        rules["phs-quote-cut"] += len(miss)
        add = {"packets": len(miss), "ip_packets": sum(f.ip_hdr for f in miss),
               "snapped": sum(f.snapped for f in miss),
               "fragments": sum(f.any_later for f in miss)}
        tf = {k: (v[0] + add[k], v[1]) for k, v in tf.items()}
    if all(v is not None for v in tf.values()):
        tail = records[t["packets"]:] if rules["damaged-tail"] else []
        ck.eq(tf["packets"][0] - len(tail), t["packets"],
              f"{name}: totals.packets = tshark -Y '{TOTAL_FILTERS['packets']}'")
        # ip-cut: an IP header Wireshark shows in part, whichports not at all
        cut = [f for f in frames if f.ip_hdr and not f.ip]
        rules["ip-cut"] += len(cut)
        ck.eq(tf["ip_packets"][0], t["ip_packets"] + len(cut) +
              sum(1 for f in unsupported + tail if f.ip_hdr),
              f"{name}: totals.ip_packets = tshark -Y '{TOTAL_FILTERS['ip_packets']}' "
              "(with the rules ip-cut, unsupported-link, damaged-tail)")
        ck.eq(tf["snapped"][0], t["snapped"] + sum(1 for f in tail if f.snapped),
              f"{name}: totals.snapped = tshark -Y '{TOTAL_FILTERS['snapped']}'")
        # the filter also sees fragments in ICMP quotes and outer headers
        ck.eq(sum(1 for f in frames if f.frag == "later"), t["fragments"],
              f"{name}: totals.fragments = frames whose innermost IP header is a later fragment")
        ck.eq(tf["fragments"][0], sum(1 for f in records if f.any_later),
              f"{name}: tshark -Y '{TOTAL_FILTERS['fragments']}' = frames with a later "
              "fragment in any IP header (innermost, outer or quoted)")
    else:
        print(f"{name}: the totals' display filters were not evaluated (no io,phs output)")
    ck.eq(t["packets"], len(frames) + len(unsupported), f"{name}: packets = tshark frames")
    ck.eq(t["bytes"], sum(f.len for f in frames) + sum(f.len for f in unsupported),
          f"{name}: bytes = tshark sum(frame.len)")
    ck.eq((t["ip_packets"], t["ip_bytes"]),
          (sum(1 for f in frames if f.ip), sum(f.len for f in frames if f.ip)),
          f"{name}: IP packets and bytes = tshark frames with an IP header")
    wptest.check_invariant(ck, doc, name)
    ck.eq(t.get("captured_short", {}).get("tcp"), sum(f.cut_conv or f.opt_cut for f in frames),
          f"{name}: captured_short.tcp = frames whose TCP header tshark shows cut after its "
          "tcp.stream (rule tcp-cut-conv), or whose tcp.options are fewer bytes than "
          "tcp.hdr_len - 20")

    # -- tshark's conversations and whichports' view of each frame --------------
    streams = collections.defaultdict(set)
    first = {}
    convs = collections.defaultdict(lambda: collections.defaultdict(lambda: [0, 0]))
    tunnels = collections.defaultdict(lambda: [0, 0])
    tunnel_phs_miss = collections.defaultdict(lambda: [0, 0])
    for f in frames:
        rules["icmp-quote"] += f.quote
        rules["tunnel-other"] += f.other_tunnel
        rules["tunnel-depth"] += f.deep
        rules["tcp-bad-option"] += f.bad_option
        rules["tcp-cut-conv"] += f.cut_conv
        rules["tunnel-inner-cut"] += f.inner_cut
        rules["ext-cut"] += f.ext_cut
        if not f.ip:
            continue
        if f.tunnel:
            rules["tunnel"] += 1
            o = f.outer
            if o is None:
                tk = (f.tunnel, None, None)
            else:
                tk = (f.tunnel, proto_name(o[3]), frozenset([(o[1], o[4]), (o[2], o[5])]))
            tunnels[tk][0] += 1
            tunnels[tk][1] += f.len
            if f.phs_miss:
                tunnel_phs_miss[tk][0] += 1
                tunnel_phs_miss[tk][1] += f.len
        if f.proto in PORT_PROTOS:
            if f.frag == "later":
                hit = first.get((f.fam, f.proto, f.src, f.dst, f.frag_id))
                if hit is None:
                    continue   # unattributed: counted under the protocol without a port
                rules["fragments"] += 1
                f.key, f.sender = hit
            elif not f.wp_ports:
                rules["transport-cut"] += 1
                continue   # unattributed
            else:
                tr = {6: "tcp", 17: "udp", 132: "sctp", 33: "dccp", 136: "udplite"}[f.proto]
                f.sender = (f.src, f.sport)
                f.key = ep_key(tr, f.sender, (f.dst, f.dport))
        else:
            if f.frag == "later":
                hit = first.get((f.fam, f.proto, f.src, f.dst, f.frag_id))
                if hit is None:
                    continue   # unattributed: counted under the protocol without a port
                rules["fragments"] += 1
                f.key, f.sender = hit
            else:
                f.sender = (f.src, None)
                f.key = ep_key(proto_name(f.proto), f.sender, (f.dst, None))
        if f.frag == "first":
            first[(f.fam, f.proto, f.src, f.dst, f.frag_id)] = (f.key, f.sender)
        c = convs[f.key][f.sender]
        c[0] += 1
        c[1] += f.len
    # -z conv cross-check: the frames of each TCP/UDP conversation as read
    # from the fields equal tshark's own table (frame counts per direction).
    per = collections.defaultdict(collections.Counter)
    for f in frames:
        for tr, st, _, a, b in f.taps:
            per[(tr, st, frozenset([a, b]))][a] += 1
    for (tr, st, eps) in per:
        streams[(tr, eps)].add(st)
    for k, s_ in streams.items():
        if len(s_) > 1:
            rules["reused-4tuple"] += len(s_) - 1
    for tr in ("tcp", "udp"):
        theirs = collections.Counter(
            frozenset([(a, na), (b, nb)]) - {(a, 0), (b, 0)} if a != b else
            frozenset([(a, na + nb)]) for a, b, na, nb in conv[tr])
        ours_t = collections.Counter(frozenset(c.items()) for (t_, _, _), c in per.items()
                                     if t_ == tr)
        ck.check(ours_t == theirs, f"{name}: -z conv,{tr} frame counts = the streams read from "
                 "the fields", f"only in fields: {list((ours_t - theirs).items())[:3]}; "
                 f"only in -z conv: {list((theirs - ours_t).items())[:3]}")

    # -- whichports' flows --------------------------------------------------------
    ours = collections.defaultdict(lambda: collections.defaultdict(lambda: [0, 0]))
    variants = collections.defaultdict(set)
    server_of = {}
    for fl in doc["flows"]:
        c = (fl["client"], fl["client_port"])
        s = (fl["server"], fl["server_port"])
        key = ep_key(fl["transport"], c, s)
        variants[key].add((fl["vlan"], fl["vlan_inner"]))
        server_of.setdefault(key, s)
        d = ours[key]
        d[c][0] += fl["to_server"]["packets"]
        d[c][1] += fl["to_server"]["bytes"]
        d[s][0] += fl["to_client"]["packets"]
        d[s][1] += fl["to_client"]["bytes"]
    for v in variants.values():
        if len(v) > 1:
            rules["vlan"] += len(v) - 1
    compared = matched = 0
    for key, dirs in convs.items():
        mine = ours.get(key)
        want = {e: list(v) for e, v in dirs.items() if v[0]}
        got = {e: list(v) for e, v in mine.items() if v[0]} if mine else None
        ok = got == want
        compared += 1
        matched += ok
        ck.check(ok, f"{name}: conversation {key[0]} {sorted(key[1], key=str)}",
                 f"tshark {want} whichports {got}")
    extra = [k for k in ours if k not in convs]
    ck.check(not extra, f"{name}: every whichports flow is a tshark conversation",
             f"{len(extra)} are not: {extra[:3]}")

    # -- port rows ------------------------------------------------------------------
    rows = {}
    self_keys = set()
    # apple-name: flows Apple's by the server name seen in them (TLS SNI,
    # DNS, HTTP Host), as whichports reports it; the address part of the
    # Apple share is checked against the prefixes.
    apple_named = {ep_key(fl["transport"], (fl["client"], fl["client_port"]),
                          (fl["server"], fl["server_port"]))
                   for fl in doc["flows"] if fl.get("apple")}
    for f in frames:
        if not f.ip:
            continue
        if f.key is None:
            rk = (proto_name(f.proto), None)
            row = rows.setdefault(rk, collections.Counter())
            row["packets"] += 1
            row["bytes"] += f.len
            row["u_packets"] += 1
            row["u_bytes"] += f.len
            continue
        srv = server_of.get(f.key)
        if srv is None:
            continue   # reported above as a missing flow
        rk = (f.key[0], srv[1])
        row = rows.setdefault(rk, collections.Counter())
        row["packets"] += 1
        row["bytes"] += f.len
        if len(f.key[1]) == 1:
            rules["self-flow"] += 1
            self_keys.add(f.key)
        else:
            d = "from" if f.sender == srv else "to"
            row[d + "_packets"] += 1
            row[d + "_bytes"] += f.len
        if any(apple(a) for a, _ in f.key[1]):
            row["a_packets"] += 1
            row["a_bytes"] += f.len
        elif f.key in apple_named:
            rules["apple-name"] += 1
            row["a_packets"] += 1
            row["a_bytes"] += f.len
    for fl in doc["flows"]:
        key = ep_key(fl["transport"], (fl["client"], fl["client_port"]),
                     (fl["server"], fl["server_port"]))
        if key in self_keys:
            row = rows[(fl["transport"], fl["server_port"])]
            row["to_packets"] += fl["to_server"]["packets"]
            row["to_bytes"] += fl["to_server"]["bytes"]
            row["from_packets"] += fl["to_client"]["packets"]
            row["from_bytes"] += fl["to_client"]["bytes"]
    for row in rows.values():
        row += collections.Counter()  # drop zeros
    got_rows = {}
    for p in doc["ports"]:
        got_rows[(p["transport"], p["port"])] = collections.Counter({
            "packets": p["packets"], "bytes": p["bytes"],
            "to_packets": p["to_service"]["packets"], "to_bytes": p["to_service"]["bytes"],
            "from_packets": p["from_service"]["packets"],
            "from_bytes": p["from_service"]["bytes"],
            "u_packets": p["unattributed"]["packets"], "u_bytes": p["unattributed"]["bytes"],
            "a_packets": p["apple"]["packets"], "a_bytes": p["apple"]["bytes"]})
        got_rows[(p["transport"], p["port"])] += collections.Counter()  # drop zeros
    for rk in sorted(set(rows) | set(got_rows), key=str):
        ck.eq(dict(got_rows.get(rk, {})), dict(rows.get(rk, {})),
              f"{name}: port row {rk[0]}/{rk[1]} (packets, bytes, to/from service, "
              "unattributed, Apple share) = sums over tshark's frames")

    # -- tunnels: whichports' rows against tshark's outer conversations ---------------
    got_t = collections.defaultdict(lambda: [0, 0])
    for tr in doc["tunnels"]:
        tk = (tr["kind"], tr["transport"],
              frozenset([(tr["a"], tr["a_port"]), (tr["b"], tr["b_port"])])
              if tr["a"] is not None else None)
        got_t[tk][0] += tr["packets"]
        got_t[tk][1] += tr["bytes"]
    ck.eq(dict(got_t), {k: v for k, v in tunnels.items()},
          f"{name}: tunnel rows = tshark's frames per outer endpoints")
    base = len(r["filters"]) + len(TOTAL_FILTERS)
    for i, flt in enumerate(r["tunnel_filters"]):
        tr = doc["tunnels"][i]
        tk = (tr["kind"], tr["transport"],
              frozenset([(tr["a"], tr["a_port"]), (tr["b"], tr["b_port"])])
              if tr["a"] is not None else None)
        got = phs[base + i]
        if got is not None:   # phs-quote-cut: -z io,phs leaves those frames out
            got = (got[0] + tunnel_phs_miss[tk][0], got[1] + tunnel_phs_miss[tk][1])
        ck.eq(got, (tr["packets"], tr["bytes"]),
              f"{name}: tunnel {tr['kind']} {tr['a']} {tr['b']}: tshark -Y '{flt}'")
    # The outer UDP conversation in conv,udp = the tunnel's frames plus the
    # frames whichports left under the outer ports (inner packet not IP).
    for (kind, tr, eps), (n, _) in tunnels.items():
        if tr != "udp":
            continue
        (a, pa), (b, pb) = sorted(eps, key=str)
        tconv = sum(na + nb for x, y, na, nb in conv["udp"]
                    if {x, y} == {(a, pa), (b, pb)})
        resid = ours.get(ep_key("udp", (a, pa), (b, pb)))
        resid_n = sum(v[0] for v in resid.values()) if resid else 0
        ck.eq(n + resid_n, tconv, f"{name}: {kind} tunnel {sorted(eps, key=str)}: tunnel row "
              "+ outer flow = tshark's conv,udp row")

    # -- the display filters of the top port rows, evaluated by tshark ------------
    nf = nok = napprox = 0
    for i, (label, flt, fnote) in enumerate(r["filters"]):
        rk = (label.split("/")[0], int(label.split("/")[1]) if "/" in label else None)
        row = got_rows.get(rk)
        if row is None:
            ck.check(False, f"{name}: --filters row {label} is in the JSON report")
            continue
        got = phs[i]
        if got is not None:
            mf = [f for f in frames if f.phs_miss and f.ip and
                  ((proto_name(f.proto), None) if f.key is None else
                   (f.key[0], server_of.get(f.key, (None, None))[1])) == rk]
            got = (got[0] + len(mf), got[1] + sum(f.len for f in mf))
        if got is None:
            ck.check(False, f"{name}: tshark evaluates the filter of {label}: {flt}", terr_last)
            continue
        # fragment-filter: later fragments carry no ports. A port row's filter
        # misses those counted in the row; the unattributed row's filter also
        # selects those counted in port rows.
        if rk[1] is not None:
            lf = [f for f in frames if f.frag == "later" and f.key is not None and
                  (f.key[0], server_of.get(f.key, (None, None))[1]) == rk]
            sign = 1
        elif rk[0] in ("tcp", "udp", "sctp", "dccp", "udplite"):
            lf = [f for f in frames if f.frag == "later" and f.key is not None and
                  proto_name(f.proto) == rk[0]]
            sign = -1
        else:
            lf = []
        if lf:
            rules["fragment-filter"] += len(lf)
            got = (got[0] + sign * len(lf), got[1] + sign * sum(f.len for f in lf))
        nf += 1
        want = (row["packets"], row["bytes"])
        if got == want:
            nok += 1
            ck.check(True, "filter")
        elif fnote is not None and fnote.startswith("also selects packets whose transport"):
            # the difference must be exactly those packets: a cut transport
            # header whose ports Wireshark still shows
            cutp = [f for f in frames if f.ip and not f.wp_ports and f.key is None and
                    proto_name(f.proto) == rk[0] and rk[1] in (f.sport, f.dport)]
            napprox += 1
            ck.eq(got, (want[0] + len(cutp), want[1] + sum(f.len for f in cutp)),
                  f"{name}: row {label}: the filter selects the row plus the packets whose "
                  f"transport header was cut ({fnote})")
        elif fnote is not None and not fnote.startswith(("later fragments", "also selects later")):
            # whichports says the filter is not exact, and why
            napprox += 1
            print(f"{name}: row {label}: filter not exact, as printed ({fnote}): "
                  f"tshark {got}, row {want}")
        else:
            ck.eq(got, want, f"{name}: row {label}: tshark -Y '{flt}' selects its packets "
                  "and bytes" + (f" (whichports notes: {fnote})" if fnote else ""))
    used = ", ".join(f"{k} {v}" for k, v in sorted(rules.items()) if v)
    print(f"{name}: {compared} conversations compared, {matched} matched; "
          f"{len(got_rows)} port rows; {nok}/{nf} filters exact"
          f"{f', {napprox} not exact as noted' if napprox else ''}"
          f"{'; rules: ' + used if used else ''}{note}")
    return compared, matched, rules

# ---- synthetic captures: the cases the public captures do not have ----------------

def _csum(b):
    if len(b) % 2:
        b += b"\0"
    s_ = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s_ >> 16:
        s_ = (s_ & 0xffff) + (s_ >> 16)
    return ~s_ & 0xffff


def _a(x):
    return ipaddress.ip_address(x).packed


def _eth(etype, payload):
    return b"\x02\0\0\0\0\x02" + b"\x02\0\0\0\0\x01" + struct.pack("!H", etype) + payload


def _ip4(src, dst, proto, payload, ident=1, off=0, mf=False):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident,
                    (0x2000 if mf else 0) | (off // 8), 64, proto, 0, _a(src), _a(dst))
    h = h[:10] + struct.pack("!H", _csum(h)) + h[12:]
    return h + payload


def _ip6(src, dst, nh, payload):
    return struct.pack("!IHBB", 0x60000000, len(payload), nh, 64) + _a(src) + _a(dst) + payload


def _udp(sp, dp, payload=b"x" * 8):
    return struct.pack("!HHHH", sp, dp, 8 + len(payload), 0) + payload


def _tcp(sp, dp, flags, opts=b"", payload=b""):
    return struct.pack("!HHIIBBHHH", sp, dp, 1, 0, (5 + len(opts) // 4) << 4, flags, 65535,
                       0, 0) + opts + payload


def _pcap(path, frames, linktype=1, big=False):
    """frames: bytes, or (bytes, captured length) to cut a record short."""
    e = ">" if big else "<"
    out = [struct.pack(e + "IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 262144, linktype)]
    for i, fr in enumerate(frames):
        data, cap = (fr, len(fr)) if isinstance(fr, bytes) else fr
        out.append(struct.pack(e + "IIII", 1700000000 + i, 0, cap, len(data)) + data[:cap])
    with open(path, "wb") as fp:
        fp.write(b"".join(out))


def make_synthetic(d):
    """Write the synthetic captures into d; returns their paths."""
    os.makedirs(d, exist_ok=True)
    caps = []
    A, B, C = "2001:db8::1", "2001:db8::2", "2001:db8::a1"
    SYN, SYNACK, ACK = 0x02, 0x12, 0x10

    # IPv6 routing headers with segments left, and the Home Address option:
    # the flow's addresses are those of the transport's pseudo-header.
    fr = []
    for i, (typ, addrs) in enumerate([(0, ["2001:db8::91", "2001:db8::92"]),
                                      (2, ["2001:db8::93"]), (4, ["2001:db8::94"])]):
        rh = bytes([17, 2 * len(addrs), typ, 1]) + b"\0" * 4 + b"".join(_a(x) for x in addrs)
        fr.append(_eth(0x86dd, _ip6(A, B, 43, rh + _udp(40000 + i, 53))))
        fr.append(_eth(0x86dd, _ip6(addrs[-1] if typ == 0 else addrs[0], A, 17,
                                    _udp(53, 40000 + i))))
    rh0 = bytes([17, 2, 0, 0]) + b"\0" * 4 + _a("2001:db8::95")   # segments left 0
    fr.append(_eth(0x86dd, _ip6(A, B, 43, rh0 + _udp(40010, 53))))
    hoa = bytes([6, 2, 1, 2, 0, 0, 0xc9, 16]) + _a(C)
    fr.append(_eth(0x86dd, _ip6(A, B, 60, hoa + _tcp(40020, 80, SYN))))
    fr.append(_eth(0x86dd, _ip6(B, C, 6, _tcp(80, 40020, SYNACK))))
    chain = b"".join(bytes([60, 0, 1, 4, 0, 0, 0, 0]) for _ in range(99)) + \
        bytes([17, 0, 1, 4, 0, 0, 0, 0])
    fr.append(_eth(0x86dd, _ip6(A, B, 60, chain + _udp(40030, 53))))  # 100 headers
    fr.append(_eth(0x0800, _ip6(A, B, 17, _udp(40040, 53))))  # ethertype IPv4, version 6
    ah = bytes([6, 4, 0, 0]) + b"\0\0\0\x01" * 2 + b"\0" * 12   # IPv4 AH, then TCP
    fr.append(_eth(0x0800, _ip4("192.0.2.1", "192.0.2.2", 51, ah + _tcp(40045, 80, SYN))))
    fr.append(_eth(0x0800, _ip4("192.0.2.2", "192.0.2.1", 51, ah + _tcp(80, 40045, SYNACK))))
    caps.append(os.path.join(d, "ip-headers.pcap"))
    _pcap(caps[-1], fr)

    # Tunnels: 5 nested IPv4-in-IPv4 (one more than whichports opens), 6in4,
    # Teredo (UDP 3544: Wireshark opens it, whichports does not), GRE.
    inner = _ip4("10.9.9.1", "10.9.9.2", 17, _udp(5000, 5001))
    for i in range(5):
        inner = _ip4("10.0.%d.1" % i, "10.0.%d.2" % i, 4, inner)
    fr = [_eth(0x0800, inner)]
    fr.append(_eth(0x0800, _ip4("192.0.2.1", "192.0.2.2", 41,
                                _ip6(A, B, 6, _tcp(40050, 443, SYN)))))
    fr.append(_eth(0x0800, _ip4("192.0.2.2", "192.0.2.1", 41,
                                _ip6(B, A, 6, _tcp(443, 40050, SYNACK)))))
    fr.append(_eth(0x0800, _ip4("192.0.2.3", "192.0.2.4", 17,
                                _udp(3544, 3544, _ip6(A, B, 17, _udp(40060, 53))))))
    fr.append(_eth(0x0800, _ip4("192.0.2.5", "192.0.2.6", 47,
                                struct.pack("!HH", 0, 0x0800) +
                                _ip4("10.1.1.1", "10.1.1.2", 1, bytes([8, 0, 0, 0, 0, 1, 0, 1])))))
    fr.append(_eth(0x0800, _ip4("192.0.2.5", "192.0.2.6", 47,
                                struct.pack("!HH", 0, 0x0806) + b"\0" * 28)))  # GRE, not IP
    caps.append(os.path.join(d, "tunnels.pcap"))
    _pcap(caps[-1], fr)

    # Headers cut by the snaplen inside the TCP options (a 64-byte snaplen
    # with timestamps), a UDP header cut short, and a bad TCP data offset.
    opts = b"\x02\x04\x05\xb4\x04\x02\x08\x0a" + b"\0" * 8 + b"\x01\x03\x03\x07"
    fr = []
    for i in range(3):
        fr.append(_eth(0x0800, _ip4("192.0.2.10", "192.0.2.20", 6,
                                    _tcp(40070, 22, SYN if i == 0 else ACK, opts, b"d" * 50))))
        fr.append(_eth(0x0800, _ip4("192.0.2.20", "192.0.2.10", 6,
                                    _tcp(22, 40070, SYNACK if i == 0 else ACK, opts))))
    fr.append((_eth(0x0800, _ip4("192.0.2.10", "192.0.2.20", 6,
                                 _tcp(40070, 22, ACK, opts, b"d" * 50))), 64))
    fr.append((_eth(0x0800, _ip4("192.0.2.10", "192.0.2.30", 17, _udp(40080, 53))), 38))
    bad = _tcp(40090, 80, SYN)
    fr.append(_eth(0x0800, _ip4("192.0.2.10", "192.0.2.40", 6, bad[:12] + b"\x40" + bad[13:])))
    fr.append(_eth(0x0800, _ip4("192.0.2.10", "192.0.2.40", 6, _tcp(40090, 80, SYN))))
    caps.append(os.path.join(d, "cut-headers.pcap"))
    _pcap(caps[-1], fr)

    # NFLOG written on a big-endian host (TLV lengths and types big-endian).
    fr = []
    for i in range(2):
        pkt = _ip4("192.0.2.50", "192.0.2.60", 17, _udp(40100 + i, 53))
        tlv = lambda t, v: struct.pack(">HH", 4 + len(v), t) + v + b"\0" * (-len(v) % 4)
        fr.append(bytes([2, 0, 0, 1]) + tlv(1, b"\x08\x00\x03\x00") + tlv(9, pkt))
    caps.append(os.path.join(d, "nflog-be.pcap"))
    _pcap(caps[-1], fr, linktype=239, big=True)
    return caps



# ---- captures cut by a snap length ---------------------------------------------------

SNAPS = [54, 60, 64, 68, 74, 80, 96, 128, 200]
SAMPLE_PACKETS = 2000   # a shared capture's cut variant keeps its first packets (CI)


def snap_variants(caps, root, d):
    """The cut variants to compare: (source, N, sampled). WP_PARITY_SNAP=all:
    every capture at every N, whole; =0: none; default (CI): the captures
    of pcaps/ at every N, and each other capture at one N in turn (the
    first SAMPLE_PACKETS packets). The synthetic captures are not cut: each
    is made for one case of a whole header."""
    mode = os.environ.get("WP_PARITY_SNAP", "")
    if mode == "0":
        return []
    own = os.path.join(os.path.abspath(root), "pcaps") + os.sep
    out = []
    for i, c in enumerate(caps):
        if c.startswith(d):
            continue
        if mode == "all" or os.path.abspath(c).startswith(own):
            out += [(c, n, False) for n in SNAPS]
        else:
            out.append((c, SNAPS[i % len(SNAPS)], True))
    return out


def make_cut(src, n, sampled, d, k):
    """editcap -s N (and -r 1-SAMPLE_PACKETS when sampled) of src into d:
    (cut path, uncut sample path or src), or (None, editcap's message)."""
    os.makedirs(d, exist_ok=True)
    base = re.sub(r"[^A-Za-z0-9._-]", "_", os.path.basename(src))
    rng = ["-r"] if sampled else []
    tail = [f"1-{SAMPLE_PACKETS}"] if sampled else []
    whole = src
    if sampled or src.endswith(".gz"):   # whichports reads no gzip: an uncut copy
        whole = os.path.join(d, f"{k}-{base}.whole.pcapng")
        rc, _, err = run(["editcap"] + rng + [src, whole] + tail)
        if rc != 0:
            return None, err.strip()
    out = os.path.join(d, f"{k}-{base}.s{n}.pcapng")
    rc, _, err = run(["editcap", "-s", str(n), whole, out])
    if rc != 0:
        return None, err.strip()
    return out, whole


def flow_names(doc):
    """Names per flow (unordered endpoints): {(name, source, server)}, and
    per host address: the host row's names (at most WP_HOST_NAMES, the
    first its flows gave) and every name of the flows it serves."""
    fl, ho = collections.defaultdict(set), collections.defaultdict(set)
    for f in doc["flows"]:
        if f.get("name"):
            fl[ep_key(f["transport"], (f["client"], f["client_port"]),
                      (f["server"], f["server_port"]))].add(
                          (f["name"], f["name_source"], f["server"]))
            ho[f["server"]].add(f["name"])
    for h in doc.get("hosts", []):
        ho[h["addr"]].update(h.get("names") or [])
    return fl, ho


def dns_names(path):
    """tshark's DNS answers in the capture: address (A, AAAA, SVCB/HTTPS
    address hints) -> every name of a response that carries it (query name,
    answer owner names, CNAMEs)."""
    cmd = ["tshark", "-n", "-r", path, "-Y", "dns.flags.response == 1", "-T", "fields",
           "-E", "separator=\t", "-E", "occurrence=a", "-E", "aggregator=|",
           "-e", "dns.a", "-e", "dns.aaaa", "-e", "dns.svcb.svcparam.ipv4hint.ip",
           "-e", "dns.svcb.svcparam.ipv6hint.ip", "-e", "dns.qry.name", "-e", "dns.resp.name",
           "-e", "dns.cname"]
    _, out, _ = run(cmd, timeout=1500)
    m = collections.defaultdict(set)
    for line in out.decode("utf-8", "replace").splitlines():
        cols = (line.split("\t") + [""] * 7)[:7]
        names = {n.lower().rstrip(".") for c in cols[4:] for n in c.split("|") if n}
        for c in cols[:4]:
            for x in c.split("|"):
                if x:
                    m[norm_addr(x)] |= names
    return m


def plain_name(nm):
    """A name as whichports writes it (a byte other than a letter, digit,
    '-', '_' or '.' as \\ddd, decimal) back to text as tshark shows it."""
    raw, i = bytearray(), 0
    while i < len(nm):
        if nm[i] == "\\" and nm[i + 1:i + 4].isdigit():
            raw.append(int(nm[i + 1:i + 4]))
            i += 4
        else:
            raw += nm[i].encode()
            i += 1
    return raw.decode("utf-8", "replace")


def check_names(ck, name, cut_doc, whole_doc, rules, dns):
    """Names under a cut capture: each one is the name of the whole capture
    from the same source (absent is allowed, different is not). A name from
    DNS may instead be another name tshark sees DNS give that address in the
    whole capture (rule name-dns-other): its own name (SNI, QUIC, HTTP Host)
    or the answer that decided in the whole capture was cut. Returns names
    compared."""
    cf, ch = flow_names(cut_doc)
    wf, wh = flow_names(whole_doc)
    n = 0
    for k, names in cf.items():
        whole = wf.get(k, set())
        for nm, src, srv in names:
            n += 1
            same = {x for x, s_, _ in whole if s_ == src}
            if same == {nm}:
                ck.check(True, "name")
                continue
            if src == "dns" and whole:
                rules["name-dns-other"] += 1
                ck.check(plain_name(nm).lower() in dns.get(norm_addr(srv), set()),
                         f"{name}: flow {k[0]} "
                         f"{sorted(k[1], key=str)}: its DNS name is one tshark sees DNS give "
                         "its server in the whole capture", f"cut {nm} whole {sorted(whole)}, "
                         f"tshark DNS {sorted(dns.get(norm_addr(srv), set()))}")
                continue
            ck.check(False, f"{name}: flow {k[0]} {sorted(k[1], key=str)} name "
                     "as in the whole capture", f"cut {nm} ({src}) whole {sorted(whole)}")
    for a, names in ch.items():
        n += len(names)
        ok = ({plain_name(x).lower() for x in names if x not in wh.get(a, set())}
              <= dns.get(norm_addr(a), set()))
        ck.check(ok, f"{name}: host {a} names as in the whole capture (or from tshark's DNS "
                 "answers for it)", f"cut {sorted(names)} whole {sorted(wh.get(a, set()))}")
    return n


def main():
    wp, root = sys.argv[1], sys.argv[2]
    shared = sys.argv[3] if len(sys.argv) > 3 else os.path.join(root, "..", "shared", "pcaps")
    ck = wptest.Checker("parity")
    t_start = time.monotonic()
    if not wptest.have_tshark():
        print("tshark is not installed: install it (apt-get install tshark); failing")
        ck.check(False, "tshark available")
        ck.finish()
    _, out, _ = run(["tshark", "--version"])
    print(out.decode().splitlines()[0])
    caps = []
    wptest.shared_pcaps(ck, shared, "parity of the public captures")
    for d in (os.path.join(root, "pcaps"), shared):
        if not os.path.isdir(d):
            print(f"{d}: no such folder: its captures are not compared")
            continue
        for dp, _, fs in os.walk(d):
            caps += [os.path.join(dp, fn) for fn in fs
                     if re.search(r"\.(pcap|pcapng|cap)(\.gz)?$", fn)]
    only = os.environ.get("WP_PARITY_ONLY")   # a regular expression on the paths
    if only:
        caps = [c for c in caps if re.search(only, c)]
    caps.sort()
    ck.check(len(caps) > 0, "captures found")
    tmp = tempfile.TemporaryDirectory(prefix="wp-parity-")
    synth = make_synthetic(os.path.join(tmp.name, "synthetic"))
    caps += synth
    cuts = {}   # cut path -> (label, uncut path)
    cut_dir = os.path.join(tmp.name, "snap")
    for k, (src, n, sampled) in enumerate(snap_variants(caps, root,
                                                          os.path.join(tmp.name, "synthetic"))):
        out, whole = make_cut(src, n, sampled, cut_dir, k)
        label = f"-s {n}{f' (first {SAMPLE_PACKETS} packets)' if sampled else ''}"
        if out is None:
            print(f"{src}: {label}: not cut, editcap failed: {whole}")
            continue
        cuts[out] = (label, whole, src)
    print(f"snap-length variants: {len(cuts)} (WP_PARITY_SNAP="
          f"{os.environ.get('WP_PARITY_SNAP', '')!r}; 'all' for every capture at every length)")
    apple = Apple(root)
    total = collections.Counter()
    n_cmp = n_ok = n_names = 0
    per_snap = collections.defaultdict(lambda: [0, 0])   # N -> conversations, matched
    dns_cache = {}
    jobs = max(1, min(8, os.cpu_count() or 1))

    def display(path):
        sd = os.path.abspath(shared)
        if path in synth:
            return "synthetic/" + os.path.basename(path)
        if os.path.abspath(path).startswith(sd + os.sep):
            return os.path.relpath(path, os.path.dirname(sd))
        return os.path.relpath(path, root)

    with concurrent.futures.ThreadPoolExecutor(jobs) as ex:
        every = caps + list(cuts)
        futs = [ex.submit(probe, wp, p) for p in every]
        for path, fut in zip(every, futs):
            r = fut.result()
            if path in cuts:
                label, whole, src = cuts[path]
                name = f"{display(src)} {label}"
            else:
                name = display(path)
            c, m, rules = compare(ck, name, r, apple)
            n_cmp += c
            n_ok += m
            total.update(rules)
            if path in cuts:
                snap = int(label.split()[1])
                per_snap[snap][0] += c
                per_snap[snap][1] += m
                doc = r["wp"][1]
                wrc, wout, _ = run([wp, "-q", "-T", "json", "-r", whole])
                wdoc = json.loads(wout) if wout else None
                if doc is not None and wdoc is not None:
                    if whole not in dns_cache:
                        dns_cache[whole] = dns_names(whole)
                    n_names += check_names(ck, name, doc, wdoc, total, dns_cache[whole])
    print()
    print("Explained differences (rule: uses in all captures), see docs/wireshark.md:")
    for k, v in RULES.items():
        print(f"  {k}: {total[k]}: {v}")
    for snap in sorted(per_snap):
        c, m = per_snap[snap]
        print(f"  cut at {snap} bytes: {c} conversations compared, {m} matched")
    print(f"{len(cuts)} cut variants: {n_names} names compared with the whole capture's")
    print(f"{len(caps)} captures and {len(cuts)} cut variants: {n_cmp} conversations compared, "
          f"{n_ok} matched; "
          f"{time.monotonic() - t_start:.0f} s")
    ck.finish()


if __name__ == "__main__":
    main()
