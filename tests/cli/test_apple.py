#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""How a flow gets its Apple service (docs/apple.md, docs/output.md 2.10).

(a) pcaps/apple-cases.pcap, made for these cases (pcaps/make-apple-cases.sh):
    each conversation's expected service, rule (apple_by) and doubt, from a
    table written from the script; the premises of every row (the DNS answer
    that named the address, the SNI the client sent or did not send, the
    frames each way, the addresses in 17/8) are checked against tshark.
(b) public captures in ../shared/pcaps (the part is skipped, exit 77 when
    it is all there is, if that folder is missing): misordered NTP, a spray
    of random addresses (zug.pcap), Maps, Location and captive-portal names
    (iphone.pcap, android.pcap), CDN names (iphone.pcap, teams.pcap), NTP to
    Apple's time servers, APNs on 5223.

Usage: test_apple.py WHICHPORTS SOURCE_ROOT [SHARED_PCAPS]
"""

import collections
import csv
import io
import ipaddress
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wptest  # noqa: E402

APPLE4 = ipaddress.ip_network("17.0.0.0/8")
BY = {None, "name", "dns", "port", "prefix", "fallback"}
DOUBT = {None, "both-ends", "no-reply"}


def in17(a):
    try:
        return ipaddress.ip_address(a) in APPLE4
    except ValueError:
        return False


def tshark_rows(path, fields, dfilter=None, extra=()):
    cmd = ["tshark", "-n", "-r", path, "-T", "fields", "-E", "separator=\t",
           "-E", "occurrence=a", "-E", "aggregator=,"] + list(extra)
    if dfilter:
        cmd += ["-Y", dfilter]
    for f in fields:
        cmd += ["-e", f]
    rc, out, err = wptest.run(cmd)
    if rc != 0:
        raise RuntimeError(f"tshark failed on {path}: {err.strip()}")
    rows = []
    for line in out.decode("utf-8", "replace").splitlines():
        cols = line.split("\t") + [""] * len(fields)
        rows.append({f: cols[i] for i, f in enumerate(fields)})
    return rows


def conv_frames(path):
    """(proto, (addr, port), (addr, port)) in first-frame order -> frames each
    way, counted from tshark's per-frame fields."""
    conv = {}
    for r in tshark_rows(path, ["frame.number", "ip.src", "ip.dst", "tcp.srcport", "tcp.dstport",
                                "udp.srcport", "udp.dstport"], "tcp or udp"):
        proto = "tcp" if r["tcp.srcport"] else "udp"
        sp = int(r["tcp.srcport"] or r["udp.srcport"])
        dp = int(r["tcp.dstport"] or r["udp.dstport"])
        a, b = (r["ip.src"], sp), (r["ip.dst"], dp)
        key = (proto, a, b) if (proto, a, b) in conv or (proto, b, a) not in conv else (proto, b, a)
        c = conv.setdefault(key, [0, 0])
        c[0 if key[1] == a else 1] += 1
    return conv


def dns_answers(path):
    """address -> the question names tshark saw answered with it."""
    out = collections.defaultdict(set)
    for r in tshark_rows(path, ["dns.qry.name", "dns.a"], "dns.flags.response==1"):
        for a in filter(None, r["dns.a"].split(",")):
            out[a].add(r["dns.qry.name"].lower())
    return out


def client_hellos(path):
    """(client addr, client port) -> SNI ('' when the ClientHello had none)."""
    out = {}
    for r in tshark_rows(path, ["ip.src", "tcp.srcport", "tls.handshake.extensions_server_name"],
                         "tls.handshake.type==1"):
        out[(r["ip.src"], int(r["tcp.srcport"]))] = r["tls.handshake.extensions_server_name"]
    return out


def check_sums(ck, doc, label):
    """Every Apple flow is under one service, except those that get none."""
    a = sum(x["flows"] for x in doc["apple"])
    b = sum(x["apple"]["flows"] for x in doc["ports"])
    c = sum(1 for f in doc["flows"] if f["apple"] and f["apple_service"] is None)
    ck.eq(a, b - c, f"{label}: sum(apple[].flows) = Apple flows of the ports - those "
                    f"without a service")


def flow_index(doc):
    idx = collections.defaultdict(list)
    for f in doc["flows"]:
        idx[(f["transport"], f["server"], f["server_port"])].append(f)
    return idx


# ---- (a) the capture made for these cases ---------------------------------------------

# (transport, server, port) -> list of (name, name_source, apple_service, apple_by,
# apple_doubt, server_apple, sni_sent), one per conversation, from make-apple-cases.sh
C = "courier.push.apple.com"
CASES = {
    ("udp", "17.57.144.30", 3478): [(C, "dns", "facetime", "port", None, True, None)],
    ("udp", "17.57.144.30", 3497): [(C, "dns", "facetime", "port", None, True, None)],
    ("udp", "17.57.144.30", 16384): [(C, "dns", "facetime", "port", None, True, None)],
    ("udp", "17.57.144.30", 16402): [(C, "dns", "facetime", "port", None, True, None)],
    ("tcp", "17.57.144.30", 5223): [(C, "dns", "apns", "dns", None, True, "")],
    ("tcp", "17.173.67.30", 443): [("query.ess.apple.com", "dns", "ids", "dns", None, True, "")],
    ("tcp", "17.57.144.31", 443): [(None, None, "apns", "prefix", None, True, "")],
    ("tcp", "23.50.158.88", 443): [
        ("captive.apple.com.edgekey.net", "dns", "captive", "dns", None, False, ""),
        ("tether.edge.apple", "sni", "apple", "name", None, False, "tether.edge.apple")],
    ("tcp", "17.2.0.12", 1720): [(None, None, None, None, "both-ends", True, None)],
    ("udp", "17.2.0.12", 1719): [(None, None, None, None, "both-ends", True, None)],
    ("tcp", "17.2.0.12", 443): [("gateway.icloud.com", "sni", "icloud", "name", None, True,
                                 "gateway.icloud.com")],
    ("udp", "198.51.100.40", 19000): [(None, None, None, None, "no-reply", False, None)],
    ("tcp", "17.42.251.60", 993): [(None, None, "icloud", "port", None, True, "")],
    ("tcp", "17.42.251.60", 587): [(None, None, "icloud", "port", None, True, None)],
    ("tcp", "17.253.144.70", 443): [
        (n, "sni", s, "name", None, True, n) for n, s in (
            ("gs-loc.apple.com", "maps"), ("amp-api.music.apple.com", "music"),
            ("configuration.apple.com", "config"), ("gsas.apple.com", "account"),
            ("tv.v.aaplimg.com", "cdn"))],
    ("udp", "10.98.0.53", 53): [(None, None, None, None, None, False, None)] * 3,
}


def part_cases(ck, wp, root):
    path = os.path.join(root, "pcaps", "apple-cases.pcap")
    label = "apple-cases"
    rc, doc, err = wptest.wp_json(wp, ["-r", path])
    if not ck.eq(rc, 0, f"{label}: exit status"):
        print(err)
        return
    idx = flow_index(doc)
    check_sums(ck, doc, label)
    convs = conv_frames(path)
    answers = dns_answers(path)
    hellos = client_hellos(path)
    ck.eq(len(doc["flows"]), len(convs), f"{label}: one flow per tshark conversation")
    ck.eq(set(idx), set(CASES), f"{label}: the servers and ports the script used")

    # premises of the table, from tshark
    ck.eq(answers.get("17.57.144.30"), {C}, f"{label}: tshark: DNS names 17.57.144.30 {C}")
    ck.eq(answers.get("17.173.67.30"), {"query.ess.apple.com"},
          f"{label}: tshark: DNS names 17.173.67.30 query.ess.apple.com")
    ck.eq(answers.get("23.50.158.88"), {"captive.apple.com.edgekey.net"},
          f"{label}: tshark: DNS names the CDN address by its edgekey.net name")
    ck.check("17.57.144.31" not in answers, f"{label}: tshark: no DNS answer for 17.57.144.31")
    for key, want in CASES.items():
        got = idx.get(key, [])
        if not ck.eq(len(got), len(want), f"{label}: flows to {key}"):
            continue
        # pair flows with rows by name (the rows of one server differ by name)
        rows = sorted(want, key=lambda w: str(w[0]))
        flows = sorted(got, key=lambda f: str(f["name"]))
        for f, w in zip(flows, rows):
            name, src, svc, by, doubt, srv_apple, sni = w
            what = f"{label}: {key} {f['client']}:{f['client_port']}"
            ck.eq((f["name"], f["name_source"], f["apple_service"], f["apple_by"],
                   f["apple_doubt"], f["server_apple"]),
                  (name, src, svc, by, doubt, srv_apple),
                  f"{what} (name, source, service, apple_by, apple_doubt, server_apple)")
            # tshark: the ClientHello's SNI, or none
            if key[0] == "tcp":
                h = hellos.get((f["client"], f["client_port"]))
                ck.eq(h, sni, f"{what}: tshark's SNI of the client's ClientHello")
            # tshark: frames each way; an unanswered flow has none back
            c = convs.get((key[0], (f["client"], f["client_port"]), (f["server"], key[2])))
            if c is None:
                c = convs.get((key[0], (f["server"], key[2]), (f["client"], f["client_port"])))
                c = c[::-1] if c else None
            if ck.check(c is not None, f"{what}: a tshark conversation"):
                ck.eq((f["to_server"]["packets"], f["to_client"]["packets"]), tuple(c),
                      f"{what}: frames each way = tshark's")
                if doubt == "no-reply":
                    ck.eq(c[1], 0, f"{what}: tshark sees nothing back")
            if doubt == "both-ends":
                ck.check(in17(f["client"]) and in17(f["server"]),
                         f"{what}: both ends in 17/8", f"{f['client']} {f['server']}")

    # DNS: the query decides the server side by its QR bit (how "protocol");
    # tshark: every query went to the resolver
    qs = tshark_rows(path, ["ip.dst"], "dns.flags.response==0")
    ck.eq({r["ip.dst"] for r in qs}, {"10.98.0.53"}, f"{label}: tshark: queries to the resolver")
    ck.eq([(f["server"], f["how"]) for f in idx[("udp", "10.98.0.53", 53)]],
          [("10.98.0.53", "protocol")] * 3, f"{label}: DNS flows: server by the QR bit")

    # the view by Apple service: FaceTime by its ports, APNs by DNS and prefix
    apple = {a["service"]: a for a in doc["apple"]}
    ft = apple.get("facetime", {"ports": [], "names": []})
    ck.eq(sorted(p["port"] for p in ft["ports"]), [3478, 3497, 16384, 16402],
          f"{label}: apple[facetime] ports")
    ck.eq([x["name"] for x in ft["names"]], [C], f"{label}: apple[facetime] keeps the DNS name")
    ap = apple.get("apns", {"ports": []})
    ck.eq(sorted((p["transport"], p["port"]) for p in ap["ports"]),
          [("tcp", 443), ("tcp", 5223)], f"{label}: apple[apns] ports: no UDP")
    ck.check(not any(p["transport"] == "udp" for a in doc["apple"] if a["service"] == "apns"
                     for p in a["ports"]), f"{label}: no FaceTime port under apns")
    for svc in ("maps", "music", "config", "cdn", "captive"):
        ck.check(svc in apple, f"{label}: apple[{svc}] present")
    hosts = {h["addr"]: h for h in doc["hosts"]}
    ck.check(not hosts.get("23.50.158.88", {"apple": True})["apple"],
             f"{label}: the CDN address is not Apple's address space")

    # CSV: the flows view carries apple_doubt; text: doubtful flows so marked
    rc, out, err = wptest.run([wp, "-q", "-T", "csv", "--view", "flows", "-r", path])
    rows = list(csv.DictReader(io.StringIO(out.decode("ascii"), newline="")))
    got = collections.Counter(r["apple_doubt"] for r in rows)
    ck.eq(got, collections.Counter({"": len(rows) - 3, "both-ends": 2, "no-reply": 1}),
          f"{label}: CSV apple_doubt column")
    got = collections.Counter((r["apple_by"], r["apple_service"]) for r in rows)
    ck.eq(got[("port", "facetime")], 4, f"{label}: CSV 4 facetime flows by port")
    rc, out, err = wptest.run([wp, "-q", "--top", "0", "-r", path])
    text = out.decode("ascii", "replace")
    doubtful = [ln for ln in text.split("\n") if " doubtful " in ln]
    ck.eq(len(doubtful), 3, f"{label}: text flows: 3 rows marked doubtful")


# ---- (b) public captures -----------------------------------------------------------------

def load(ck, wp, shared, rel):
    path = os.path.join(shared, rel)
    rc, doc, err = wptest.wp_json(wp, ["-r", path])
    if not ck.check(rc in (0, 3) and doc is not None, f"{rel}: whichports runs", err):
        return path, None
    for f in doc["flows"]:
        what = f"{rel}: {f['transport']} {f['client']} -> {f['server']}:{f['server_port']}"
        ck.check(f["apple_by"] in BY and f["apple_doubt"] in DOUBT, f"{what}: known values")
        ck.check((f["apple_service"] is None) == (f["apple_by"] is None),
                 f"{what}: apple_by exactly when apple_service")
        ck.check(f["apple_doubt"] is None or f["apple_service"] is None,
                 f"{what}: a doubtful flow has no service")
        if f["apple_service"] is not None:
            ck.check(f["server_apple"] or f["name"] is not None,
                     f"{what}: a service needs an Apple server or a name")
    check_sums(ck, doc, rel)
    return path, doc


def part_shared(ck, wp, shared):
    # misordered NTP: the server's reply comes first; NTP's mode says which
    # side is the server
    rel = "zeek/testing/btest/Traces/ntp/misordered-ntp.pcap"
    path, doc = load(ck, wp, shared, rel)
    if doc:
        rows = tshark_rows(path, ["ip.src", "ntp.flags.mode"], "ntp")
        ck.check(rows and rows[0]["ntp.flags.mode"] == "4",
                 f"{rel}: tshark: the first NTP packet is a server reply (mode 4)", str(rows))
        srv = rows[0]["ip.src"] if rows else None
        ck.eq([(f["server"], f["how"], f["apple_service"], f["apple_by"]) for f in doc["flows"]],
              [(srv, "protocol", "time", "port")], f"{rel}: server from NTP mode, service time")

    # random and spoofed addresses: one datagram each, nothing back
    rel = "nDPI/tests/cfgs/default/pcap/zug.pcap"
    path, doc = load(ck, wp, shared, rel)
    if doc:
        convs = conv_frames(path)
        ones = [k for k, c in convs.items() if 0 in c]
        ck.eq(len(ones), len(convs), f"{rel}: tshark: every conversation is one-way")
        apple = [f for f in doc["flows"] if in17(f["client"]) or in17(f["server"])]
        ck.eq(len(apple), 1, f"{rel}: one flow with an address in 17/8")
        ck.eq([(f["apple"], f["apple_service"], f["apple_doubt"]) for f in apple],
              [(True, None, "no-reply")], f"{rel}: the 17/8 flow is marked, not labelled")
        ck.check(all(a["flows"] == 0 for a in doc["apple"]) or not doc["apple"],
                 f"{rel}: no Apple service", str(doc["apple"]))

    # Maps, Location Services, captive portal, CDN names: iphone.pcap
    rel = "nDPI/tests/cfgs/default/pcap/iphone.pcap"
    path, doc = load(ck, wp, shared, rel)
    if doc:
        sni = {}
        for r in tshark_rows(path, ["ip.dst", "tls.handshake.extensions_server_name"],
                             "tls.handshake.type==1"):
            sni.setdefault(r["tls.handshake.extensions_server_name"], set()).add(r["ip.dst"])
        for r in tshark_rows(path, ["ip.dst", "http.host"], "http.request"):
            sni.setdefault(r["http.host"], set()).add(r["ip.dst"])
        want = {"gspe35-ssl.ls.apple.com": "maps", "gsp85-ssl.ls.apple.com": "maps",
                "iphone-ld.apple.com": "maps", "cl4.apple.com": "maps",
                "captive.apple.com": "captive", "gsa.apple.com": "account"}
        for name, svc in want.items():
            ck.check(name in sni, f"{rel}: tshark sees {name}")
            got = {(f["apple_service"], f["apple_by"]) for f in doc["flows"]
                   if f["name"] == name}
            ck.eq(got, {(svc, "name")}, f"{rel}: {name} is {svc} by name")
        # the Akamai-served names: Apple's by name, not by address
        cnames = {}
        for r in tshark_rows(path, ["dns.qry.name", "dns.cname", "dns.a"],
                             "dns.flags.response==1"):
            for a in filter(None, r["dns.a"].split(",")):
                cnames[a] = r["dns.cname"]
        hosts = {h["addr"]: h for h in doc["hosts"]}
        cdn = [a for a, ch in cnames.items()
               if any(s in ch for s in ("edgekey.net", "edgesuite.net")) and a in hosts]
        ck.check(len(cdn) >= 4, f"{rel}: tshark: servers reached through edgekey/edgesuite "
                                f"CNAMEs", str(cdn))
        for a in cdn:
            ck.check(not in17(a) and not hosts[a]["apple"],
                     f"{rel}: CDN server {a} is not Apple's address space")
            for f in doc["flows"]:
                if f["server"] == a:
                    ck.check(not f["server_apple"] and f["apple"] and f["apple_by"] == "name",
                             f"{rel}: flow to CDN server {a} is Apple's by name only",
                             str((f["server_apple"], f["apple"], f["apple_by"])))

    rel = "nDPI/tests/cfgs/default/pcap/android.pcap"
    path, doc = load(ck, wp, shared, rel)
    if doc:
        hosts = {r["http.host"] for r in tshark_rows(path, ["http.host"], "http.request")}
        ck.check("captive.apple.com" in hosts, f"{rel}: tshark sees Host captive.apple.com")
        ck.eq({(f["apple_service"], f["apple_by"]) for f in doc["flows"]
               if f["name"] == "captive.apple.com"}, {("captive", "name")},
              f"{rel}: captive.apple.com is the captive-portal check")

    # a DNS answer for captive.apple.com.edgekey.net: the address stays outside
    # Apple's space (no traffic follows it in this capture)
    rel = "nDPI/tests/cfgs/default/pcap/teams.pcap"
    path, doc = load(ck, wp, shared, rel)
    if doc:
        ans = dns_answers(path)
        cdn = [a for a, names in ans.items() if "captive.apple.com.edgekey.net" in names]
        ck.eq(cdn, ["23.50.158.88"], f"{rel}: tshark: the edgekey name's address")
        ck.check(not any(h["apple"] for h in doc["hosts"] if h["addr"] in cdn),
                 f"{rel}: the CDN address is not Apple's")
        ck.check(not any(f["apple"] for f in doc["flows"]), f"{rel}: no Apple flow")

    # NTP to Apple's time servers, APNs on 5223: the port decides
    rel = "zeek/testing/btest/Traces/ntp.pcap"
    path, doc = load(ck, wp, shared, rel)
    if doc:
        ck.eq({(f["apple_service"], f["apple_by"], f["how"]) for f in doc["flows"]},
              {("time", "port", "protocol")}, f"{rel}: NTP to 17.253.x is time by port")
    rel = "nDPI/tests/cfgs/default/pcap/wa_voice.pcap"
    path, doc = load(ck, wp, shared, rel)
    if doc:
        got = {(f["apple_service"], f["apple_by"]) for f in doc["flows"]
               if f["server_port"] == 5223 and f["server_apple"]}
        ck.eq(got, {("apns", "port")}, f"{rel}: TCP 5223 to 17/8 is apns by port")
        ck.check(not any(f["apple_service"] == "facetime" for f in doc["flows"]),
                 f"{rel}: WhatsApp's STUN is not FaceTime")


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    wp, root = os.path.abspath(sys.argv[1]), sys.argv[2]
    shared = sys.argv[3] if len(sys.argv) > 3 else None
    ck = wptest.Checker("apple")
    if not wptest.have_tshark():
        print("tshark is not installed: install it (apt-get install tshark); failing")
        ck.check(False, "tshark available")
        ck.finish()
    part_cases(ck, wp, root)
    if shared and os.path.isdir(shared):
        part_shared(ck, wp, shared)
    else:
        print(f"SKIP: {shared} is missing: the public-capture part was not run")
        if ck.failed == 0:
            print(f"apple: {ck.passed} passed, 0 failed (shared part skipped)")
            sys.exit(77)
    ck.finish()


if __name__ == "__main__":
    main()
