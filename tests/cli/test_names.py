#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Names taken from the capture (TLS SNI, QUIC SNI, HTTP Host, DNS answers)
against tshark's reading of the same packets, and hostile names.

(a) pcaps/apple-session.pcap: every flow's name, name_source, apple_by and
    apple_service against a table written from how the capture was made
    (pcaps/README.md, pcaps/make-sample.sh), and the table itself against
    tshark's fields; the Apple view; the name counters; names per port and
    per server.
(b) public captures in SHARED_PCAPS (when the folder exists): for every
    TCP/UDP conversation, the name tshark shows for the client's first
    request (TLS or QUIC SNI, HTTP Host), or for conversations without one
    the name a DNS answer gave the server's address, against whichports'
    flow name and name_source. Differences that are expected (tshark
    reassembles what whichports deliberately does not) are counted and
    printed with their reason; any other difference fails.
(c) crafted captures with hostile names (control characters, invalid
    UTF-8, quotes, commas, backslashes, NUL in DNS labels, over-long names)
    in every output format: escaped, printable, parseable, bounded.

The expectations come from tshark and from how the captures were made,
never from an earlier run of whichports.

usage: test_names.py WHICHPORTS SOURCE_ROOT [SHARED_PCAPS]
"""

import collections
import concurrent.futures
import csv
import hashlib
import hmac
import io
import ipaddress
import json
import os
import shutil
import struct
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wptest  # noqa: E402
from wptest import run  # noqa: E402

NAME_MAX = 253  # WP_NAME_MAX, include/wp/names_parse.h
TLS_MAX_HELLO = 16384  # WP_TLS_MAX_HELLO
AGG = "\x1f"  # tshark -E aggregator: a byte no name in (a) or (b) contains


# ---- presentation (include/wp/names_parse.h), written from the contract ----

def present(raw, also=""):
    """A host name as whichports presents it: ASCII letters lowercased;
    a-z 0-9 - _ . (and `also`) kept; every other byte as \\DDD; at most
    NAME_MAX characters, cut before an escape that does not fit."""
    if isinstance(raw, str):
        raw = raw.encode("latin-1")
    out = []
    n = 0
    for c in raw:
        if 0x41 <= c <= 0x5a:
            c += 0x20
        ch = chr(c)
        keep = ch.isascii() and (ch.isalnum() or ch in "-_.") or (c != 0 and ch in also)
        piece = ch if keep else "\\%03d" % c
        if n + len(piece) > NAME_MAX:
            break
        out.append(piece)
        n += len(piece)
    return "".join(out)


def present_labels(labels):
    """A DNS name from its raw labels: each label presented on its own (a
    dot inside a label is \\046), joined by dots; None when longer than
    NAME_MAX (whichports skips such a name)."""
    parts = []
    for lab in labels:
        s = ""
        for c in lab:
            if 0x41 <= c <= 0x5a:
                c += 0x20
            ch = chr(c)
            s += ch if (ch.isascii() and (ch.isalnum() or ch in "-_")) else "\\%03d" % c
        parts.append(s)
    name = ".".join(parts) or "."
    return name if len(name) <= NAME_MAX else None


def http_host_present(value):
    """The Host field value (bytes, already trimmed) as whichports names it."""
    if value.startswith(b"["):
        end = value.find(b"]")
        return present(value[:end + 1], "[]:") if end >= 2 else None
    value = value.split(b":", 1)[0]
    return present(value) if value else None


def tshark_name(s):
    """A name as tshark prints it (SNI, Host, DNS name), presented."""
    return present(s.encode("utf-8", "surrogateescape")) if s else None


def norm_addr(a):
    return str(ipaddress.ip_address(a))


# ---- tshark: per-frame fields for names --------------------------------------

FIELDS = ["frame.number", "frame.protocols", "ip.src", "ip.dst", "ipv6.src", "ipv6.dst",
          "tcp.srcport", "tcp.dstport", "udp.srcport", "udp.dstport", "tcp.len",
          "tcp.flags.syn", "tcp.flags.ack", "tls.handshake.type",
          "tls.handshake.extensions_server_name", "tls.handshake.length",
          "http.request", "http.host", "tcp.reassembled.length", "quic.version"]


def tshark_fields(path, extra=()):
    cmd = ["tshark", "-n", "-r", path, "-T", "fields", "-E", "separator=\t", "-E", "quote=n",
           "-E", "occurrence=a", "-E", "aggregator=" + AGG] + list(extra)
    for f in FIELDS:
        cmd += ["-e", f]
    rc, out, err = run(cmd)
    if rc != 0:
        raise RuntimeError(f"tshark failed on {path}: {err.strip()}")
    frames = []
    for line in out.decode("utf-8", "surrogateescape").split("\n"):
        if not line:
            continue
        cols = line.split("\t")
        cols += [""] * (len(FIELDS) - len(cols))
        frames.append({k: (v.split(AGG) if v else []) for k, v in zip(FIELDS, cols)})
    return frames


def frame_endpoints(fr):
    """(transport, (src, sport), (dst, dport)) of the innermost TCP/UDP
    header of a frame that whichports counts under that transport (not a
    header quoted inside an ICMP error), or None."""
    protos = fr["frame.protocols"][0].split(":") if fr["frame.protocols"] else []
    l4_at = [i for i, p in enumerate(protos) if p in ("tcp", "udp")]
    if not l4_at or any(p in ("icmp", "icmpv6") for p in protos[:l4_at[-1]]):
        return None
    l4 = protos[l4_at[-1]]
    l3s = [p for p in protos[:l4_at[-1]] if p in ("ip", "ipv6")]
    if not l3s:
        return None
    src, dst = fr[f"{l3s[-1]}.src"], fr[f"{l3s[-1]}.dst"]
    sp, dp = fr[f"{l4}.srcport"], fr[f"{l4}.dstport"]
    if not (src and dst and sp and dp):
        return None
    return (l4, (norm_addr(src[-1]), int(sp[-1])), (norm_addr(dst[-1]), int(dp[-1])))


class Conv:
    """A TCP/UDP conversation as tshark shows it: its first frame, the SYNs
    seen, and the first name-bearing request of each side."""

    def __init__(self, first):
        self.first = first
        self.syn_from = set()
        self.requests = {}    # sender endpoint -> first request (dict)
        self.payload_first = {}  # sender endpoint -> frame number of its first payload


def conversations(frames):
    convs = {}
    for fr in frames:
        ep = frame_endpoints(fr)
        if ep is None:
            continue
        proto, a, b = ep
        key = (proto, frozenset([a, b]))
        num = int(fr["frame.number"][0])
        c = convs.get(key)
        if c is None:
            c = convs[key] = Conv(num)
        if proto == "tcp":
            if fr["tcp.flags.syn"][:1] == ["1"] and fr["tcp.flags.ack"][:1] == ["0"]:
                c.syn_from.add(a)
            if fr["tcp.len"] and int(fr["tcp.len"][-1]) > 0:
                c.payload_first.setdefault(a, num)
        else:
            c.payload_first.setdefault(a, num)
        req = None
        protos = fr["frame.protocols"][0] if fr["frame.protocols"] else ""
        hs_types = fr["tls.handshake.type"]
        if "1" in hs_types:
            kind = "quic" if ":quic" in protos else "sni"
            sni = fr["tls.handshake.extensions_server_name"]
            hlen = [int(x) for x in fr["tls.handshake.length"]] or [0]
            req = {"frame": num, "kind": kind, "name": tshark_name(sni[0]) if sni else None,
                   "hello_len": max(hlen),
                   "reassembled": bool(fr["tcp.reassembled.length"])}
        elif fr["http.request"][:1] in (["1"], ["True"]):
            host = fr["http.host"]
            req = {"frame": num, "kind": "http",
                   "name": (http_host_present(host[0].encode("utf-8", "surrogateescape"))
                            if host else None),
                   "reassembled": bool(fr["tcp.reassembled.length"])}
        if req is not None and a not in c.requests:
            c.requests[a] = req
    return convs


# ---- tshark: DNS answers as whichports reads them -----------------------------

def pairs_hook(pairs):
    """JSON object keeping repeated keys (tshark repeats e.g. svcparam)."""
    d = collections.OrderedDict()
    for k, v in pairs:
        d.setdefault(k, []).append(v)
    return d


def first(d, k, default=None):
    v = d.get(k)
    return v[0] if v else default


def dns_addresses(msg):
    """[(name, address)] whichports takes from one tshark-dissected DNS
    message: A/AAAA records of class IN and SVCB/HTTPS hints, in the answer
    and additional sections, under the question name when the owner is it
    or is reached from it through CNAMEs, else under the owner name."""
    flags = first(msg, "dns.flags_tree", {})
    if first(flags, "dns.flags.response") != "1" or first(flags, "dns.flags.opcode") != "0":
        return []
    qnames = []
    for qs in msg.get("Queries", []):
        for _, qv in qs.items():
            for q in qv:
                qnames.append(first(q, "dns.qry.name"))

    def records(section):
        out = []
        for sec in msg.get(section, []):
            for _, rv in sec.items():
                out.extend(rv)
        return out

    # whichports keeps the first WP_DNS_MAX_RECORDS (64) records of each section
    answers = records("Answers")[:64]
    additional = records("Additional records")[:64]
    qnames = qnames[:64]
    low = lambda s: (s or "").lower()  # noqa: E731
    reached = {low(q): q for q in qnames}
    changed = True
    while changed:
        changed = False
        for r in answers:
            if first(r, "dns.resp.type") == "5" and low(first(r, "dns.resp.name")) in reached:
                tgt = low(first(r, "dns.cname"))
                if tgt not in reached:
                    reached[tgt] = reached[low(first(r, "dns.resp.name"))]
                    changed = True
    out = []
    for r in answers + additional:
        cls = int(first(r, "dns.resp.class", "0"), 16)
        if cls & 0x7fff != 1:
            continue
        rtype = first(r, "dns.resp.type")
        addrs = []
        if rtype == "1":
            addrs = r.get("dns.a", [])
        elif rtype == "28":
            addrs = r.get("dns.aaaa", [])
        elif rtype in ("64", "65"):
            for p in r.get("dns.svcb.svcparam", []):
                addrs += p.get("dns.svcb.svcparam.ipv4hint.ip", [])
                addrs += p.get("dns.svcb.svcparam.ipv6hint.ip", [])
        if not addrs:
            continue
        owner = first(r, "dns.resp.name")
        name = reached.get(low(owner), owner)
        name = "." if name == "<Root>" else tshark_name(name)
        for a in addrs:
            out.append((name, norm_addr(a)))
    return out


def tshark_dns(path, extra=()):
    """[(frame number, name, address)] in frame order, from the DNS
    responses whichports looks at (UDP from port 53, UDP to or from 5353,
    TCP from 53), and the number of such responses tshark marks malformed."""
    flt = ("dns.flags.response == 1 && (udp.srcport == 53 || udp.srcport == 5353 || "
           "udp.dstport == 5353 || tcp.srcport == 53)")
    cmd = ["tshark", "-n", "-r", path, "-T", "json", "-J", "frame dns mdns _ws.malformed",
           "-Y", flt] + list(extra)
    rc, out, err = run(cmd)
    if rc != 0:
        raise RuntimeError(f"tshark failed on {path}: {err.strip()}")
    events, malformed = [], 0
    for pkt in json.loads(out or b"[]", object_pairs_hook=pairs_hook):
        layers = first(first(pkt, "_source"), "layers")
        num = int(first(first(layers, "frame"), "frame.number"))
        if "_ws.malformed" in layers:
            malformed += 1
        # tshark names the layer "mdns" on port 5353 (same dns.* fields)
        for msg in layers.get("dns", []) + layers.get("mdns", []):
            for name, addr in dns_addresses(msg):
                events.append((num, name, addr))
    return events, malformed


def dns_name_for(events, addr, before):
    """The name whichports gives a flow without a name of its own whose
    server is `addr` and whose first frame is `before`: the latest answer
    for the address before the flow began, else the latest of the whole
    capture (looked up again when the report is made)."""
    at_start = last = None
    for num, name, a in events:
        if a != addr or name is None:
            continue
        if num < before:
            at_start = name
        last = name
    return at_start if at_start is not None else last


# ---- expected name per whichports flow --------------------------------------------

def expected_names(doc, convs, events):
    """{flow index: (name, source, detail)} for TCP/UDP flows, from tshark."""
    out = {}
    for i, f in enumerate(doc["flows"]):
        if f["transport"] not in ("tcp", "udp"):
            continue
        c = (norm_addr(f["client"]), f["client_port"])
        s = (norm_addr(f["server"]), f["server_port"])
        conv = convs.get((f["transport"], frozenset([c, s])))
        if conv is None:
            out[i] = (None, None, {"missing": True})
            continue
        req = conv.requests.get(c)
        other = conv.requests.get(s)
        detail = {"conv": conv, "req": req, "server_req": other}
        if req is not None and req["name"] is not None:
            out[i] = (req["name"], req["kind"], detail)
            continue
        name = dns_name_for(events, s[0], conv.first)
        out[i] = (name, "dns" if name else None, detail)
    return out


def explain(f, want, got, detail):
    """The reason a difference is expected, or None when it is a failure.
    Each reason is a documented limit of whichports (include/wp/names.h,
    names_parse.h) where tshark, a full dissector, goes further."""
    req = detail.get("req")
    conv = detail.get("conv")
    c = (norm_addr(f["client"]), f["client_port"])
    if req is not None and want[1] in ("http", "sni") and got[1] in (None, "dns"):
        # HTTPU (SSDP M-SEARCH / NOTIFY on UDP 1900): tshark dissects HTTP on
        # UDP; whichports takes the Host from HTTP/1.x requests over TCP only
        # (names.c udp_client looks for QUIC), and its Host is a multicast
        # group address, not a server name.
        if req["kind"] == "http" and f["transport"] == "udp":
            return "HTTP over UDP (SSDP): whichports reads the Host of TCP requests only"
        # whichports reads the Host from the client's first payload segment
        # only (wp_http_host: a line cut by the segment end is not trusted);
        # tshark reassembles the request across segments.
        if req["kind"] == "http" and req["reassembled"]:
            return "HTTP request spread over several TCP segments"
        # a ClientHello beyond WP_TLS_MAX_HELLO is given up (tls_given_up)
        if req["kind"] == "sni" and req.get("hello_len", 0) > TLS_MAX_HELLO:
            return "ClientHello larger than 16 KiB"
        # the capture starts after the client's first payload
        if conv is not None and c not in conv.syn_from and f["transport"] == "tcp" \
                and conv.payload_first.get(c, 0) < req["frame"] and not req["reassembled"]:
            return "mid-stream capture: an earlier client payload is not the request"
    return None


# ---- (a) the bundled capture -------------------------------------------------------

# apple_by: the rule that decided the service (docs/output.md 2.10)
APNS = ("courier.push.apple.com", "sni", "apns", "name")
IDS = ("query.ess.apple.com", "sni", "ids", "name")
XMPP = ("xmpp.example.net", "sni", None, None)
GATEWAY = ("gateway.icloud.com", "sni", "icloud", "name")
INIT = ("init.itunes.apple.com", "http", "store", "name")
MASK = ("mask.icloud.com", "quic", "privaterelay", "name")
# a ping has no port: its DNS name makes it Apple's but chooses no service
PING = ("gateway.icloud.com", "dns", "apple", "fallback")
MEDIA = (None, None, "facetime", "port")
LOCAL_DNS = (None, None, None, None)
MEDIA_PORTS = (3478, 3480, 3497, 16384, 16387, 16393, 16402)

# (transport, server, server port) -> (name, name_source, apple_service, apple_by),
# from pcaps/README.md and make-sample.sh: which program reached which server
# with which SNI / Host; names of the ping flows come from the DNS answers
# for gateway.icloud.com asked just before each ping (the HTTPS record of
# mask.icloud.com for the same addresses is asked after the ping).
SAMPLE_EXPECT = {
    ("tcp", "17.57.144.20", 5223): APNS, ("tcp", "2620:149:a44::20", 5223): APNS,
    ("tcp", "17.173.67.12", 443): IDS, ("tcp", "2620:149:a43::112", 443): IDS,
    ("tcp", "198.51.100.7", 5223): XMPP, ("tcp", "2001:db8::7", 5223): XMPP,
    ("tcp", "17.253.144.10", 443): GATEWAY, ("tcp", "2403:300:a42::10", 443): GATEWAY,
    ("tcp", "17.253.144.11", 80): INIT, ("tcp", "2620:149:a42::11", 80): INIT,
    ("udp", "17.253.144.10", 443): MASK, ("udp", "2403:300:a42::10", 443): MASK,
    ("icmp", "17.253.144.10", None): PING, ("icmpv6", "2403:300:a42::10", None): PING,
    ("tcp", "10.99.0.53", 53): LOCAL_DNS, ("tcp", "fd00:99::53", 53): LOCAL_DNS,
    ("udp", "10.99.0.53", 53): LOCAL_DNS, ("udp", "fd00:99::53", 53): LOCAL_DNS,
}
for _p in MEDIA_PORTS:
    SAMPLE_EXPECT[("udp", "17.173.66.100", _p)] = MEDIA
    SAMPLE_EXPECT[("udp", "2a01:b740:a42::100", _p)] = MEDIA
# conversations per key (IPv4 and IPv6 sessions each make one, DNS more)
# (11 questions per family: A and AAAA of 5 names and one HTTPS; one of them,
# gateway.icloud.com, over TCP)
SAMPLE_FLOWS_PER_KEY = {("udp", "10.99.0.53", 53): 10, ("udp", "fd00:99::53", 53): 10}


def part_sample(ck, wp, root):
    path = os.path.join(root, "pcaps", "apple-session.pcap")
    label = "apple-session"
    rc, doc, err = wptest.wp_json(wp, ["-r", path])
    if not ck.eq(rc, 0, f"{label}: exit status"):
        print(err)
        return
    flows = doc["flows"]

    # every flow is in the table, with the expected name, source, Apple service
    seen = collections.Counter()
    for f in flows:
        key = (f["transport"], norm_addr(f["server"]), f["server_port"])
        seen[key] += 1
        want = SAMPLE_EXPECT.get(key)
        if not ck.check(want is not None, f"{label}: flow {key} is one the script made"):
            continue
        got = (f["name"], f["name_source"], f["apple_service"], f["apple_by"])
        ck.eq(got, want, f"{label}: {key} (name, name_source, apple_service, apple_by)")
    for key in SAMPLE_EXPECT:
        ck.eq(seen[key], SAMPLE_FLOWS_PER_KEY.get(key, 1), f"{label}: flows with {key}")

    # the table against tshark: the SNI / QUIC SNI / Host the client sent in
    # each conversation, or the DNS name that gave the server's address
    frames = tshark_fields(path)
    convs = conversations(frames)
    events, dns_bad = tshark_dns(path)
    ck.eq(dns_bad, 0, f"{label}: tshark finds no malformed DNS")
    exp = expected_names(doc, convs, events)
    for i, (name, src, _) in exp.items():
        f = flows[i]
        key = (f["transport"], norm_addr(f["server"]), f["server_port"])
        ck.eq((f["name"], f["name_source"]), (name, src),
              f"{label}: {key} client {f['client']}:{f['client_port']} name = tshark's")
        if key in SAMPLE_EXPECT:
            ck.eq(SAMPLE_EXPECT[key][:2], (name, src), f"{label}: table entry {key} = tshark's")
    # ICMP: only DNS can name them; tshark's DNS answers before the ping
    first_icmp = {}
    for fr in frames:
        protos = fr["frame.protocols"][0] if fr["frame.protocols"] else ""
        for t in ("icmpv6", "icmp"):
            if protos.endswith(":" + t) or f":{t}:" in protos:
                dst = fr["ipv6.dst" if t == "icmpv6" else "ip.dst"]
                if dst:
                    first_icmp.setdefault((t, norm_addr(dst[0])), int(fr["frame.number"][0]))
                break
    for f in flows:
        if f["transport"] in ("icmp", "icmpv6"):
            srv = norm_addr(f["server"])
            start = first_icmp.get((f["transport"], srv))
            if ck.check(start is not None, f"{label}: tshark sees {f['transport']} to {srv}"):
                want = dns_name_for(events, srv, start)
                ck.eq((f["name"], f["name_source"]), (want, "dns" if want else None),
                      f"{label}: {f['transport']} {srv} named by the DNS answer before it")

    # the counters, each against tshark's count
    names = doc["totals"]["names"]
    tls_flows = [e for e in exp.values() if e[2].get("req") and e[2]["req"]["kind"] == "sni"]
    quic_flows = [e for e in exp.values() if e[2].get("req") and e[2]["req"]["kind"] == "quic"]
    http_flows = [e for e in exp.values() if e[2].get("req") and e[2]["req"]["kind"] == "http"]
    ck.eq(names["tls_sni"], sum(1 for e in tls_flows if e[2]["req"]["name"]),
          f"{label}: totals.names.tls_sni = TCP conversations with an SNI (tshark)")
    ck.eq(names["tls_no_sni"], sum(1 for e in tls_flows if not e[2]["req"]["name"]),
          f"{label}: totals.names.tls_no_sni = ClientHellos without SNI (tshark)")
    ck.eq(names["quic_sni"], sum(1 for e in quic_flows if e[2]["req"]["name"]),
          f"{label}: totals.names.quic_sni = QUIC conversations with an SNI (tshark)")
    ck.eq(names["http_host"], sum(1 for e in http_flows if e[2]["req"]["name"]),
          f"{label}: totals.names.http_host = HTTP conversations with a Host (tshark)")
    ck.eq(names["dns_answers"], len(events),
          f"{label}: totals.names.dns_answers = A + AAAA + SVCB hints answered (tshark)")
    for k in ("dns_malformed", "tls_given_up", "quic_undecryptable", "names_dropped"):
        ck.eq(names[k], 0, f"{label}: totals.names.{k}")
    ck.check(len(tls_flows) == 8 and len(quic_flows) == 2 and len(http_flows) == 2
             and len(events) == 24,
             f"{label}: tshark sees 8 TLS, 2 QUIC, 2 HTTP conversations and 24 DNS addresses",
             f"{len(tls_flows)} {len(quic_flows)} {len(http_flows)} {len(events)}")

    # names per port row and per server, from the flows' expected names
    want_port = collections.defaultdict(collections.Counter)
    want_host = collections.defaultdict(set)
    for (t, srv, port), (nm, _, _, _) in SAMPLE_EXPECT.items():
        n = SAMPLE_FLOWS_PER_KEY.get((t, srv, port), 1)
        if nm:
            want_port[(t, port)][nm] += n
            want_host[srv].add(nm)
    for r in doc["ports"]:
        got = collections.Counter({x["name"]: x["flows"] for x in r["names"]})
        ck.eq(got, want_port[(r["transport"], r["port"])],
              f"{label}: port {r['transport']}/{r['port']} names (any order)")
    for h in doc["hosts"]:
        ck.eq(set(h["names"]), want_host[norm_addr(h["addr"])], f"{label}: host {h['addr']} names")

    # the Apple view: per service its ports, flows and names, from the table
    want_svc = collections.defaultdict(lambda: {"ports": collections.Counter(),
                                                "names": collections.Counter(), "servers": set()})
    for (t, srv, port), (nm, _, svc, _) in SAMPLE_EXPECT.items():
        if svc is None:
            continue
        n = SAMPLE_FLOWS_PER_KEY.get((t, srv, port), 1)
        want_svc[svc]["ports"][(t, port)] += n
        want_svc[svc]["servers"].add(srv)
        if nm:
            want_svc[svc]["names"][nm] += n
    apple = {a["service"]: a for a in doc["apple"]}
    ck.eq(set(apple), set(want_svc), f"{label}: Apple services seen")
    for svc, w in want_svc.items():
        a = apple.get(svc)
        if a is None:
            continue
        ck.eq(collections.Counter({(p["transport"], p["port"]): p["flows"] for p in a["ports"]}),
              w["ports"], f"{label}: apple[{svc}] ports and flows")
        ck.eq(collections.Counter({x["name"]: x["flows"] for x in a["names"]}), w["names"],
              f"{label}: apple[{svc}] names")
        ck.eq(set(norm_addr(x) for x in a["servers"]), w["servers"],
              f"{label}: apple[{svc}] servers")
        ck.eq(a["flows"], sum(w["ports"].values()), f"{label}: apple[{svc}] flows")
    doc_ports = {(s, p["transport"], p["port"]): p for s, a in apple.items() for p in a["ports"]}
    p = doc_ports.get(("apns", "tcp", 5223))
    ck.check(p is not None and p["documented"] and p["status"] == "current",
             f"{label}: apns tcp/5223 documented (current)", str(p))
    p = doc_ports.get(("privaterelay", "udp", 443))
    ck.check(p is not None and p["documented"] and p["status"] == "thirdparty",
             f"{label}: privaterelay udp/443 documented (thirdparty)", str(p))
    for port in MEDIA_PORTS:
        p = doc_ports.get(("facetime", "udp", port))
        ck.check(p is not None and p["documented"], f"{label}: facetime udp/{port} documented",
                 str(p))
    # "which ports does the Messages app use?": APNs on tcp/5223, Apple
    # Identity Services (*.ess.apple.com) on tcp/443, FaceTime's UDP ports
    messages = {"apns": ({("tcp", 5223)}, {"courier.push.apple.com"}),
                "ids": ({("tcp", 443)}, {"query.ess.apple.com"}),
                "facetime": ({("udp", q) for q in MEDIA_PORTS}, set())}
    for svc, (ports, nms) in messages.items():
        a = apple.get(svc, {"ports": [], "names": []})
        ck.eq({(x["transport"], x["port"]) for x in a["ports"]}, ports,
              f"{label}: Messages: apple[{svc}] observed ports")
        ck.eq({x["name"] for x in a["names"]}, nms, f"{label}: Messages: apple[{svc}] names")
    p = doc_ports.get(("ids", "tcp", 443))
    ck.check(p is not None and p["documented"] and p["status"] == "current" and p["flows"] == 2,
             f"{label}: ids tcp/443 documented (current), 2 flows", str(p))
    for a in doc["apple"]:
        ck.check(not {"198.51.100.7", "2001:db8::7"} & set(a["servers"]) and
                 "xmpp.example.net" not in [x["name"] for x in a["names"]],
                 f"{label}: XMPP control not under Apple service {a['service']}")

    # the same view as text and CSV
    rc, out, err = run([wp, "-q", "--apple", "-r", path])
    text = out.decode("ascii", "replace")
    ck.eq(rc, 0, f"{label}: --apple text exit status")
    sections = {}
    for block in text.split("\n\n"):
        head = block.split("\n", 1)[0]
        if ":" in head and not head.startswith(" "):
            sections[head.split(":", 1)[0]] = block
    for svc, w in want_svc.items():
        block = sections.get(svc, "")
        ck.check(bool(block), f"{label}: --apple text has a section {svc}")
        for (t, port), n in w["ports"].items():
            pk = f"{t}/{port}" if port is not None else t
            ck.check(any(line.split()[:1] == [pk] and line.split()[4:5] == [str(n)]
                         for line in block.split("\n")),
                     f"{label}: --apple text {svc}: {pk} with {n} flows", block)
        for nm, n in w["names"].items():
            ck.check(f" {nm} ({n})" in block, f"{label}: --apple text {svc}: name {nm} ({n})",
                     block)
    rc, out, err = run([wp, "-q", "-T", "csv", "--apple", "-r", path])
    rows = list(csv.DictReader(io.StringIO(out.decode("ascii"), newline="")))
    seen_csv = collections.Counter()
    for r in rows:
        if r["observed"] == "true":
            seen_csv[(r["service"], r["transport"], int(r["ports"]) if r["ports"] else None)] \
                += int(r["flows"])
    want_csv = collections.Counter({(svc, t, port): n for svc, w in want_svc.items()
                                    for (t, port), n in w["ports"].items()})
    ck.eq(seen_csv, want_csv, f"{label}: --apple CSV observed rows (service, port, flows)")

    # text flows table: every name is shown on its flow's row
    rc, out, err = run([wp, "-q", "--top", "0", "-r", path])
    text = out.decode("ascii", "replace")
    for f in flows:
        if f["name"]:
            srv = f["server"]
            ok = any(srv in line.split()[1:2] and line.rstrip().endswith(f["name"])
                     for line in text.split("\n"))
            ck.check(ok, f"{label}: text flow row of {srv} ends with {f['name']}")

    # two files read in two threads (-j 2) name the flows as one sequential
    # run does (docs/design.md: "the merged report equals the sequential
    # one"): split where the pings begin, after the DNS answers that name them
    data = open(path, "rb").read()
    recs, off = [], 24
    while off < len(data):
        incl = struct.unpack_from("<I", data, off + 8)[0]
        recs.append(data[off:off + 16 + incl])
        off += 16 + incl
    cut = min(i for i, fr in enumerate(frames)
              if fr["frame.protocols"] and ":icmp:" in fr["frame.protocols"][0] + ":")
    tmp = tempfile.mkdtemp(prefix="wp-names-j-")
    try:
        parts = []
        for k, chunk in enumerate((recs[:cut], recs[cut:])):
            parts += ["-r", os.path.join(tmp, f"part{k}.pcap")]
            with open(parts[-1], "wb") as fp:
                fp.write(data[:24] + b"".join(chunk))
        views = []
        for j in ("1", "2"):
            rc, d, err = wptest.wp_json(wp, ["-j", j] + parts)
            views.append(sorted((f["transport"], f["client"], str(f["client_port"]), f["server"],
                                 str(f["server_port"]), str(f["name"]), str(f["name_source"]),
                                 str(f["apple_service"])) for f in d["flows"]))
        diff = sorted(set(views[0]) ^ set(views[1]))
        ck.check(not diff, f"{label}: split in two files, -j 2 names the flows as -j 1",
                 "\n      ".join(map(str, diff)))
    finally:
        shutil.rmtree(tmp)

    # --no-names: no name anywhere, counters zero
    rc, doc2, err = wptest.wp_json(wp, ["--no-names", "-r", path])
    ck.check(all(f["name"] is None and f["name_source"] is None for f in doc2["flows"]),
             f"{label}: --no-names leaves every flow unnamed")
    ck.check(all(v == 0 for v in doc2["totals"]["names"].values()),
             f"{label}: --no-names counts nothing", str(doc2["totals"]["names"]))
    print(f"{label}: {len(flows)} flows, {len(exp)} TCP/UDP flows compared with tshark")


# ---- (b) public captures -------------------------------------------------------------

SHARED = [
    "nDPI/tests/cfgs/default/pcap/iphone.pcap",
    "nDPI/tests/cfgs/default/pcap/whatsapp_login_chat.pcap",
    "nDPI/tests/cfgs/default/pcap/tls_certificate_too_long.pcap",
    "nDPI/tests/cfgs/default/pcap/dns_ambiguous_names.pcap",
    "zeek/testing/btest/Traces/quic/chromium-115.0.5790.110-google-de-fragmented.pcap",
    "tcpdump/tests/quic_handshake.pcap",
    "packets/http_espn.pcapng",
    "suricata-verify/tests/tls-alpn-log-detect-02/input.pcap",
    "suricata-verify/tests/tcp-fastopen-10-syn-data-ignore/input.pcap",
    "suricata-verify/tests/tcp-fastopen-11-reject-syn-data/tlpw-tcp-tfo-data-on-syn-nack.pcap",
    "suricata-verify/tests/tcp-empty-sack/tcp-opt.pcap",
]

# tshark dissects TLS only on ports it knows or guesses; whichports looks at
# every TCP port. Decode-as for the ports these captures use TLS on.
DECODE_AS = {
    "nDPI/tests/cfgs/default/pcap/whatsapp_login_chat.pcap": ["-d", "tcp.port==5223,tls"],
    "nDPI/tests/cfgs/default/pcap/iphone.pcap": ["-d", "tcp.port==5223,tls"],
}


def compare_file(wp, path, rel):
    """Returns (lines to print, failures, conversations, matched, explained)."""
    lines, fails = [], []
    rc, doc, err = wptest.wp_json(wp, ["-r", path])
    if rc not in (0, 3) or doc is None:
        return lines, [f"{rel}: whichports exit {rc}: {err.strip()}"], 0, 0, []
    extra = DECODE_AS.get(rel, [])
    frames = tshark_fields(path, extra)
    convs = conversations(frames)
    events, dns_bad = tshark_dns(path, extra)
    exp = expected_names(doc, convs, events)
    matched, explained = 0, []
    agreed = collections.Counter()
    for i, (name, src, detail) in exp.items():
        f = doc["flows"][i]
        what = (f"{rel}: {f['transport']} {f['client']}:{f['client_port']} -> "
                f"{f['server']}:{f['server_port']}")
        if detail.get("missing"):
            fails.append(f"{what}: no such conversation in tshark")
            continue
        got = (f["name"], f["name_source"])
        sreq = detail.get("server_req")
        if sreq is not None and sreq["name"] and detail.get("req") is None:
            # tshark saw the request come from the side whichports calls the
            # server: the service side was decided the other way round
            fails.append(f"{what}: tshark's request ({sreq['kind']} {sreq['name']}, frame "
                         f"{sreq['frame']}) was sent by whichports' server side")
            continue
        if got == (name, src):
            matched += 1
            agreed[src] += 1
            continue
        why = explain(f, (name, src), got, detail)
        if why:
            explained.append(f"{what}: tshark {name!r} ({src}), whichports {got[0]!r} "
                             f"({got[1]}): {why}")
        else:
            r = detail.get("req")
            fails.append(f"{what}: tshark {name!r} ({src}), whichports {got[0]!r} ({got[1]})"
                         + (f" [request frame {r['frame']}]" if r else ""))
    n = len(exp)
    names = doc["totals"]["names"]
    lines.append(f"{rel}: {n} conversations compared, {matched} names matched, "
                 f"{len(explained)} explained differences; tshark: "
                 f"{sum(1 for e in exp.values() if e[0])} named; whichports totals.names "
                 f"tls_sni={names['tls_sni']} quic_sni={names['quic_sni']} "
                 f"http_host={names['http_host']} dns_answers={names['dns_answers']}")
    # the counters against tshark: flows named by each source (the explained
    # differences are flows tshark names and whichports does not), and the
    # addresses DNS answers gave
    for src, key in (("sni", "tls_sni"), ("quic", "quic_sni"), ("http", "http_host")):
        if names[key] != agreed[src]:
            fails.append(f"{rel}: totals.names.{key} {names[key]}, tshark's names of that "
                         f"source whichports agrees with: {agreed[src]}")
    if dns_bad == 0 and names["dns_answers"] != len(events):
        fails.append(f"{rel}: totals.names.dns_answers {names['dns_answers']}, tshark's "
                     f"A/AAAA/hint addresses in those responses: {len(events)}")
    if dns_bad == 0 and names["dns_malformed"] != 0:
        fails.append(f"{rel}: totals.names.dns_malformed {names['dns_malformed']} but tshark "
                     "finds no malformed DNS response")
    return lines, fails, n, matched, explained


def part_shared(ck, wp, shared):
    if wptest.shared_pcaps(ck, shared, "part (b), names in the public captures") is None:
        return
    todo = []
    for rel in SHARED:
        p = os.path.join(shared, rel)
        if os.path.isfile(p):
            todo.append((rel, p))
        else:
            print(f"{rel}: not in {shared}, not compared")
    ck.check(len(todo) > 0, "public captures: at least one of the listed files is present")
    with concurrent.futures.ThreadPoolExecutor(max_workers=min(6, os.cpu_count() or 2)) as ex:
        results = list(ex.map(lambda t: compare_file(wp, t[1], t[0]), todo))
    total_n = total_m = total_x = 0
    for (rel, _), (lines, fails, n, matched, explained) in zip(todo, results):
        for line in lines:
            print(line)
        for e in explained:
            print(f"  explained: {e}")
        for fl in fails:
            ck.check(False, fl)
        ck.check(not fails, f"{rel}: every name equals tshark's or is an explained difference")
        total_n += n
        total_m += matched
        total_x += len(explained)
    print(f"public captures: {total_n} conversations, {total_m} names matched, "
          f"{total_x} explained differences")
    # explained differences must stay few: each is a documented limit
    ck.check(total_x <= 8, "public captures: at most 8 explained differences", str(total_x))


# ---- (c) hostile names ------------------------------------------------------------------

def csum16(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


class Crafter:
    """Ethernet/IPv4/IPv6 TCP and UDP frames with valid checksums, written
    as a classic pcap."""

    def __init__(self):
        self.frames = []
        self.t = 1_800_000_000.0
        self.ident = 1

    def _ip(self, src, dst, proto, l4):
        s, d = ipaddress.ip_address(src), ipaddress.ip_address(dst)
        if s.version == 4:
            pseudo = s.packed + d.packed + struct.pack("!BBH", 0, proto, len(l4))
        else:
            pseudo = s.packed + d.packed + struct.pack("!IxxxB", len(l4), proto)
        off = 16 if proto == 6 else 6
        l4 = l4[:off] + struct.pack("!H", csum16(pseudo + l4)) + l4[off + 2:]
        if s.version == 4:
            hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), self.ident, 0x4000, 64,
                              proto, 0, s.packed, d.packed)
            self.ident += 1
            hdr = hdr[:10] + struct.pack("!H", csum16(hdr)) + hdr[12:]
            return b"\x08\x00", hdr + l4
        hdr = struct.pack("!IHBB16s16s", 0x60000000, len(l4), proto, 64, s.packed, d.packed)
        return b"\x86\xdd", hdr + l4

    def _frame(self, etype, ip):
        self.frames.append((self.t, b"\x02\0\0\0\0\x01\x02\0\0\0\0\x02" + etype + ip))
        self.t += 0.001

    def tcp(self, src, dst, sport, dport, seq, ack, flags, payload=b""):
        l4 = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 65535, 0, 0)
        self._frame(*self._ip(src, dst, 6, l4 + payload))

    def udp(self, src, dst, sport, dport, payload):
        l4 = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
        self._frame(*self._ip(src, dst, 17, l4))

    def tcp_session(self, cli, srv, cport, sport, segments, reply=b"ok"):
        """Handshake, the client's segments (each acknowledged), a reply, FIN."""
        cs, ss = 1000, 5000
        self.tcp(cli, srv, cport, sport, cs, 0, 0x02)
        self.tcp(srv, cli, sport, cport, ss, cs + 1, 0x12)
        cs += 1
        ss += 1
        self.tcp(cli, srv, cport, sport, cs, ss, 0x10)
        for seg in segments:
            self.tcp(cli, srv, cport, sport, cs, ss, 0x18, seg)
            cs += len(seg)
            self.tcp(srv, cli, sport, cport, ss, cs, 0x10)
        self.tcp(srv, cli, sport, cport, ss, cs, 0x18, reply)
        ss += len(reply)
        self.tcp(cli, srv, cport, sport, cs, ss, 0x11)
        self.tcp(srv, cli, sport, cport, ss, cs + 1, 0x11)
        self.tcp(cli, srv, cport, sport, cs + 1, ss + 1, 0x10)

    def write(self, path):
        with open(path, "wb") as fp:
            fp.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
            for t, fr in self.frames:
                sec = int(t)
                fp.write(struct.pack("<IIII", sec, int(round((t - sec) * 1e6)), len(fr), len(fr)))
                fp.write(fr)


def client_hello(sni):
    """A TLS 1.3-style ClientHello handshake message with server_name `sni`."""
    body = b"\x03\x03" + bytes(range(32)) + b"\x20" + bytes(32) + b"\x00\x04\x13\x01\x13\x02"
    body += b"\x01\x00"
    name = b"\x00" + struct.pack("!H", len(sni)) + sni
    sni_ext = struct.pack("!HH", 0, len(name) + 2) + struct.pack("!H", len(name)) + name
    versions = struct.pack("!HHB", 43, 3, 2) + b"\x03\x04"
    exts = sni_ext + versions
    body += struct.pack("!H", len(exts)) + exts
    return b"\x01" + struct.pack("!I", len(body))[1:] + body


def tls_records(hs, size=16384):
    out = b""
    for i in range(0, len(hs), size):
        frag = hs[i:i + size]
        out += b"\x16\x03\x01" + struct.pack("!H", len(frag)) + frag
    return out


def dns_name(labels):
    return b"".join(struct.pack("!B", len(x)) + x for x in labels) + b"\0"


def dns_response(qlabels, answers, qtype=1, question=True, tid=0x1234):
    """A response: the question (unless mDNS-style without one) and the
    answer records [(owner labels or None for the question, type, class, rdata)]."""
    q = dns_name(qlabels) + struct.pack("!HH", qtype, 1) if question else b""
    msg = struct.pack("!HHHHHH", tid, 0x8180 if question else 0x8400, 1 if question else 0,
                      len(answers), 0, 0) + q
    for owner, rtype, rclass, rdata in answers:
        on = b"\xc0\x0c" if owner is None else dns_name(owner)
        msg += on + struct.pack("!HHIH", rtype, rclass, 60, len(rdata)) + rdata
    return msg


# QUIC v1 client Initial (RFC 9000 17.2.2, RFC 9001 5), for a hostile QUIC
# SNI; needs the 'cryptography' package for AES-GCM and AES-ECB.
QUIC_V1_SALT = bytes.fromhex("38762cf7f55934b34d179ae6a4c80cadccbb7f0a")


def hkdf_expand_label(secret, label, length):
    full = b"tls13 " + label
    info = struct.pack("!HB", length, len(full)) + full + b"\0"
    out, t, i = b"", b"", 1
    while len(out) < length:
        t = hmac.new(secret, t + info + bytes([i]), hashlib.sha256).digest()
        out += t
        i += 1
    return out[:length]


def quic_initial(dcid, crypto):
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    initial = hmac.new(QUIC_V1_SALT, dcid, hashlib.sha256).digest()
    cis = hkdf_expand_label(initial, b"client in", 32)
    key = hkdf_expand_label(cis, b"quic key", 16)
    iv = hkdf_expand_label(cis, b"quic iv", 12)
    hp = hkdf_expand_label(cis, b"quic hp", 16)

    def varint(v):
        return struct.pack("!H", 0x4000 | v) if v < 0x4000 else struct.pack("!I", 0x80000000 | v)

    frame = b"\x06\x00" + varint(len(crypto)) + crypto
    pn_len, pn = 4, 0
    scid = b"\x11" * 8
    hdr_fixed = (bytes([0xc0 | (pn_len - 1)]) + struct.pack("!I", 1) + bytes([len(dcid)]) + dcid
                 + bytes([len(scid)]) + scid + b"\x00")
    pad = max(0, 1200 - (len(hdr_fixed) + 4 + pn_len + len(frame) + 16))
    payload = frame + bytes(pad)
    length = pn_len + len(payload) + 16
    header = hdr_fixed + struct.pack("!I", 0x80000000 | length) + struct.pack("!I", pn)
    nonce = bytes(a ^ b for a, b in zip(iv, bytes(8) + struct.pack("!I", pn)))
    ct = AESGCM(key).encrypt(nonce, payload, header)
    pn_off = len(header) - pn_len
    sample = ct[4 - pn_len:4 - pn_len + 16]
    enc = Cipher(algorithms.AES(hp), modes.ECB()).encryptor()
    mask = enc.update(sample) + enc.finalize()
    first_b = bytes([header[0] ^ (mask[0] & 0x0f)])
    pn_b = bytes(a ^ b for a, b in zip(header[pn_off:], mask[1:1 + pn_len]))
    return first_b + header[1:pn_off] + pn_b + ct


HOSTILE = [
    # (label, raw name bytes)
    ("esc", b"evil\x1b[2Jclear.example"),
    ("bel", b"bell\x07ring.example"),
    ("crlf", b"line\r\nbreak.example"),
    ("nul", b"nul\x00byte.example"),
    ("ff", b"bad\xffutf8.example"),
    ("overlong", b"over\xc0\x80long.example"),
    ("quotes", b"q\"u'ote.example"),
    ("comma", b"com,ma.example"),
    ("backslash", b"back\\slash.example"),
    ("del", b"del\x7fete.example"),
    ("c1", b"c1\xc2\x9bcsi.example"),
    ("spoof", b"x.push.apple.com\x00.evil.example"),
    ("long", b"a" * 2000),
    ("long-escape", b"b" * 250 + b"\x07" + b"c" * 1749),
]


def build_hostile(tmp, with_quic):
    """A capture with one flow per hostile name and kind; returns (path,
    {(transport, server, port): (name, name_source)}) expected."""
    cr = Crafter()
    expect = {}
    cli4, cli6 = "10.1.0.2", "fd00:1::2"
    for i, (label, raw) in enumerate(HOSTILE):
        # TLS on 443 (IPv4) and on an unusual port (IPv6), ClientHello split
        # over two segments for the long names
        hs = tls_records(client_hello(raw))
        segs = [hs] if len(hs) < 1400 else [hs[:1000], hs[1000:]]
        srv = f"192.0.2.{10 + i}"
        cr.tcp_session(cli4, srv, 40000 + i, 443, segs)
        expect[("tcp", srv, 443)] = (present(raw), "sni")
        srv6 = f"2001:db8:1::{10 + i:x}"
        cr.tcp_session(cli6, srv6, 41000 + i, 8443 + i, segs)
        expect[("tcp", srv6, 8443 + i)] = (present(raw), "sni")
        # HTTP Host (no ':' in the value, which would cut it there)
        if b":" not in raw and b"\n" not in raw and b"\r" not in raw:
            req = b"GET / HTTP/1.1\r\nHost: " + raw + b"\r\nUser-Agent: t\r\n\r\n"
            srv = f"198.51.100.{10 + i}"
            cr.tcp_session(cli4, srv, 42000 + i, 80, [req])
            expect[("tcp", srv, 80)] = (http_host_present(raw), "http")
        if with_quic:
            srv = f"203.0.113.{100 + i}"
            dg = quic_initial(bytes([0x80 + i]) * 8, client_hello(raw))
            cr.udp(cli4, srv, 43000 + i, 443, dg)
            cr.udp(srv, cli4, 443, 43000 + i, b"\x40" + bytes(30))  # short header reply
            expect[("udp", srv, 443)] = (present(raw), "quic")
    # HTTP Host: CR inside the line, LF ending it early, an IPv6 literal
    for j, (req, want) in enumerate([
            (b"GET / HTTP/1.1\r\nHost: cr\rinside.example\r\n\r\n", present(b"cr\rinside.example")),
            (b"GET / HTTP/1.1\r\nHost: lf.example\nX-Evil: \x1b[2J\r\n\r\n", "lf.example"),
            (b"GET / HTTP/1.1\r\nHost: [2001:DB8::1\x1b]:8080\r\n\r\n",
             present(b"[2001:DB8::1\x1b]", "[]:")),
            (b"GET / HTTP/1.1\r\nHost: " + b"h" * 2000 + b"\r\n\r\n", "h" * NAME_MAX)]):
        srv = f"198.51.100.{200 + j}"
        cr.tcp_session(cli4, srv, 44000 + j, 80, [req])
        expect[("tcp", srv, 80)] = (want, "http")
    # DNS: hostile labels; each answer's address is then reached by a UDP
    # flow without a name of its own, which takes the DNS name
    dns_cases = [
        [b"a\x00b", b"example"],
        [b"esc\x1b[2J", b"example"],
        [b"bel\x07", b"crlf\r\n", b"example"],
        [b"dot.inside", b"example"],
        [b"q\"uote", b"com,ma", b"back\\slash"],
        [b"\xff\xc0\x80", b"UPPER", b"example"],
        [b"\x00" * 60] * 4,                      # presented > 253: skipped
        [b"x" * 63, b"y" * 63, b"z" * 63, b"w" * 61],  # 253 characters: kept
    ]
    for k, labels in enumerate(dns_cases):
        addr = f"100.64.0.{10 + k}"
        a6 = f"2001:db8:53::{10 + k:x}"
        cr.udp("10.1.0.53", cli4, 53, 50000 + k, dns_response(
            labels, [(None, 1, 1, ipaddress.ip_address(addr).packed)]))
        cr.udp("10.1.0.53", cli4, 53, 51000 + k, dns_response(
            labels, [(None, 28, 1, ipaddress.ip_address(a6).packed)], qtype=28))
        want = present_labels(labels)
        for srv in (addr, a6):
            cli = cli4 if ":" not in srv else cli6
            cr.udp(cli, srv, 52000 + k, 9999, b"payload")
            expect[("udp", srv, 9999)] = (want, "dns" if want else None)
    # CNAME chain whose target has hostile bytes: the question name counts
    q = [b"chain", b"example"]
    tgt = [b"t\x1bgt", b"example"]
    cname = dns_name(tgt)
    msg = dns_response(q, [(None, 5, 1, cname), (tgt, 1, 1, bytes([100, 64, 1, 1]))])
    cr.udp("10.1.0.53", cli4, 53, 53000, msg)
    cr.udp(cli4, "100.64.1.1", 52100, 9999, b"payload")
    expect[("udp", "100.64.1.1", 9999)] = ("chain.example", "dns")
    # mDNS response without a question, cache-flush class, hostile owner
    owner = [b"My\x1b[31mPhone", b"local"]
    msg = dns_response([], [(owner, 1, 0x8001, bytes([169, 254, 7, 7]))], question=False)
    cr.udp("169.254.7.7", "224.0.0.251", 5353, 5353, msg)
    cr.udp(cli4, "169.254.7.7", 52200, 9999, b"payload")
    expect[("udp", "169.254.7.7", 9999)] = (present_labels(owner), "dns")
    path = os.path.join(tmp, "hostile.pcap")
    cr.write(path)
    return path, expect


def printable_ok(data, allow=b"\n"):
    """The bytes that are not printable ASCII (besides `allow`)."""
    return sorted({b for b in data if not (0x20 <= b < 0x7f) and b not in allow})


def all_strings(obj):
    if isinstance(obj, str):
        yield obj
    elif isinstance(obj, dict):
        for k, v in obj.items():
            yield k
            yield from all_strings(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from all_strings(v)


def part_hostile(ck, wp, tmp):
    try:
        import cryptography  # noqa: F401
        with_quic = True
    except ImportError:
        with_quic = False
        print("hostile: python3 'cryptography' is not installed: no crafted QUIC Initials "
              "(TLS, HTTP and DNS are still checked)")
    path, expect = build_hostile(tmp, with_quic)
    label = "hostile"
    rc, out, err = run([wp, "-q", "-T", "json", "-r", path])
    ck.eq(rc, 0, f"{label}: json exit status")
    ck.eq(printable_ok(out), [], f"{label}: JSON output is printable ASCII and newlines")
    try:
        doc = json.loads(out)
    except ValueError as e:
        ck.check(False, f"{label}: JSON parses", str(e))
        return
    for s in all_strings(doc):
        ck.check(all(0x20 <= ord(ch) < 0x7f for ch in s) and len(s) <= 4096,
                 f"{label}: JSON string printable", repr(s[:80]))
    names = [f["name"] for f in doc["flows"] if f["name"] is not None]
    names += [x["name"] for r in doc["ports"] for x in r["names"]]
    names += [x for h in doc["hosts"] for x in h["names"]]
    names += [x["name"] for a in doc["apple"] for x in a["names"]]
    ck.check(all(len(x) <= NAME_MAX for x in names), f"{label}: no name over {NAME_MAX}",
             str(max(map(len, names), default=0)))
    got = {}
    for f in doc["flows"]:
        got[(f["transport"], norm_addr(f["server"]), f["server_port"])] = f
    for key, want in expect.items():
        f = got.get(key)
        if not ck.check(f is not None, f"{label}: flow {key}"):
            continue
        ck.eq((f["name"], f["name_source"]), want, f"{label}: {key} name")
    # an escaped NUL does not make a foreign name Apple's
    f = got.get(("tcp", f"192.0.2.{10 + [h[0] for h in HOSTILE].index('spoof')}", 443))
    ck.check(f is not None and f["apple_service"] is None,
             f"{label}: 'x.push.apple.com\\000.evil.example' is not APNs", str(f))
    if with_quic:
        # the crafted Initials are read by tshark as well (sanity of the crafting)
        frames = tshark_fields(path)
        q = [fr for fr in frames if fr["quic.version"] and "1" in fr["tls.handshake.type"]]
        ck.eq(len(q), len(HOSTILE), f"{label}: tshark decrypts every crafted QUIC Initial")
        ck.eq(doc["totals"]["names"]["quic_sni"], len(HOSTILE), f"{label}: quic_sni")

    outputs = {
        "text": [wp, "-q", "--top", "0", "-r", path],
        "text --apple": [wp, "-q", "--top", "0", "--apple", "-r", path],
        "text --filters": [wp, "-q", "--filters", "-r", path],
    }
    for what, args in outputs.items():
        rc, out, err = run(args)
        ck.eq(rc, 0, f"{label}: {what} exit status")
        ck.eq(printable_ok(out), [], f"{label}: {what}: only printable ASCII and newlines")
        ck.check(b"\x1b" not in out and b"\x07" not in out, f"{label}: {what}: no ESC, no BEL")
        longest = max((len(t) for t in out.split()), default=0)
        ck.check(longest <= NAME_MAX, f"{label}: {what}: no word longer than {NAME_MAX}",
                 str(longest))
    # the text flows table shows each flow's name whole, or visibly shortened
    # ("..."), never silently cut: a shortened name reads as another name
    rc, out, err = run(outputs["text"])
    rows = {}
    for line in out.decode("ascii", "replace").split("\n"):
        w = line.split()
        if len(w) >= 9 and w[0] in ("tcp", "udp"):
            rows[(w[0], w[1], w[2], w[3])] = w[-1]
    for f in doc["flows"]:
        if f["name"] is None or f["transport"] not in ("tcp", "udp"):
            continue
        cl = f"[{f['client']}]:{f['client_port']}" if ":" in f["client"] else \
            f"{f['client']}:{f['client_port']}"
        shown = rows.get((f["transport"], f["server"], str(f["server_port"]), cl))
        ok = shown == f["name"] or (shown is not None and shown.endswith("...") and
                                    f["name"].startswith(shown[:-3]))
        ck.check(ok, f"{label}: text flow row of {f['server']}:{f['server_port']} shows the "
                 f"name whole or marked as shortened",
                 f"JSON {len(f['name'])} characters, text {len(shown or '')}: {shown!r}")
    for view in ("ports", "flows", "hosts", "tunnels", "apple"):
        args = [wp, "-q", "-T", "csv", "-r", path] + (["--apple"] if view == "apple"
                                                       else ["--view", view])
        rc, out, err = run(args)
        what = f"csv {view}"
        ck.eq(rc, 0, f"{label}: {what} exit status")
        ck.eq(printable_ok(out, b"\r\n"), [], f"{label}: {what}: printable ASCII")
        ck.check(out.endswith(b"\r\n") and b"\n" not in out.replace(b"\r\n", b""),
                 f"{label}: {what}: every line ends with CRLF, no bare CR or LF")
        rows = list(csv.reader(io.StringIO(out.decode("ascii", "replace"), newline="")))
        ck.check(len(rows) >= 1 and all(len(r) == len(rows[0]) for r in rows),
                 f"{label}: {what}: every row has the header's {len(rows[0]) if rows else 0} "
                 "columns", str(collections.Counter(len(r) for r in rows)))
        ck.check(all(len(c) <= 4096 for r in rows for c in r), f"{label}: {what}: bounded cells")
    print(f"{label}: {len(expect)} crafted flows with hostile names checked"
          f"{' (QUIC included)' if with_quic else ''}")


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    wp, root = os.path.abspath(sys.argv[1]), sys.argv[2]
    shared = sys.argv[3] if len(sys.argv) > 3 else None
    ck = wptest.Checker("names")
    if not wptest.have_tshark():
        print("tshark is not installed: install it (apt-get install tshark); failing")
        ck.check(False, "tshark available")
        ck.finish()
    tmp = tempfile.mkdtemp(prefix="wp-names-")
    try:
        part_sample(ck, wp, root)
        part_shared(ck, wp, shared)
        part_hostile(ck, wp, tmp)
    finally:
        shutil.rmtree(tmp)
    ck.finish()


if __name__ == "__main__":
    main()
