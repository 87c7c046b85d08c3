#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Per-process attribution against independent readings.

1. Every shared capture with process information (../shared/pcaps/process/,
   the PKTAP captures of tcpdump's tests, nDPI's mpeg.pcap): the process of
   each packet is read independently (tshark's pktap.* fields for PKTAP; for
   pcapng a reader written here from the published layouts, sharing no code
   with whichports), grouped per flow (the process that carried most of the
   flow's packets) and compared with whichports' JSON flows; per-process
   packets and bytes must add up to the flows' and the totals.
2. Formats without public samples (Wireshark's process information block
   with option 8, option 8 alone, etl2pcapng, pymobiledevice3 and rustnet
   comments, Darwin blocks in a big-endian section, 156-byte PKTAP headers
   with delegation) are written here from the packets of
   pcaps/apple-session.pcap, both byte orders where the format has them,
   with a known process per packet (a few packets of longer flows named
   differently, to exercise the majority), and checked the same way.
3. --process restricts the report; CSV --view processes has the rows.

usage: test_process.py WHICHPORTS SOURCE_ROOT SHARED_PCAPS
"""

import collections
import csv
import io
import json
import os
import struct
import sys
import tempfile
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wptest  # noqa: E402

# ---- an independent pcapng reader (draft-ietf-opsawg-pcapng; Apple pcap-ng.h;
# ---- Wireshark PEN 32622 entry 3; comment conventions) --------------------


def pad4(n):
    return (n + 3) & ~3


def options(buf, e):
    """[(code, value)] of an option list in byte order e."""
    out = []
    i = 0
    while i + 4 <= len(buf):
        code, ln = struct.unpack_from(e + "HH", buf, i)
        if code == 0:
            break
        out.append((code, buf[i + 4:i + 4 + ln]))
        i += 4 + pad4(ln)
    return out


def text(v):
    return v.rstrip(b"\0").decode("utf-8", "replace")


def parse_comment(c):
    """(pid, name, epid, ename) named by a comment, or None."""
    if c.startswith("PID: "):
        first = c.split("\n")[0]
        if "," in first:   # pymobiledevice3
            f = dict(x.split(": ", 1) for x in c.split(", ") if ": " in x)
            pid = int(f["PID"])
            epid = int(f.get("EPID", "-1"))
            return (pid if pid >= 0 and pid != 0xffffffff else None, f.get("ProcName") or None,
                    epid if epid >= 0 and epid != 0xffffffff else None,
                    f.get("EProcName") or None)
        kv = dict(line.split(": ", 1) for line in c.split("\n") if ": " in line)
        cmd = kv.get("Cmd") or kv.get("Command")
        return (int(kv["PID"]), cmd.rsplit("/", 1)[-1] if cmd else None, None, None)
    if c.startswith("PID="):
        return (int(c.split()[0][4:]), None, None, None)
    if c.startswith("rustnet "):
        kv = dict(x.split("=", 1) for x in c.split()[1:] if "=" in x)
        return (int(kv["pid"]) if "pid" in kv else None, kv.get("process"), None, None)
    return None


def read_pcapng(data):
    """Per EPB in file order: (pid, name, epid, ename) with None for unknown."""
    pos, e = 0, "<"
    dpib, pib, droid = [], {}, {}
    out = []
    while pos + 12 <= len(data):
        if struct.unpack_from("<I", data, pos)[0] == 0x0A0D0D0A:
            e = "<" if data[pos + 8:pos + 12] == b"\x4d\x3c\x2b\x1a" else ">"
            dpib, pib = [], {}
        btype, blen = struct.unpack_from(e + "II", data, pos)
        body = data[pos + 8:pos + blen - 4]
        pos += blen
        if btype == 0x80000001:
            pid = struct.unpack_from(e + "I", body)[0]
            name = None
            for code, v in options(body[4:], e):
                if code == 2:
                    name = text(v) or None
            dpib.append((None if pid == 0xffffffff else pid, name))
        elif btype in (0xBAD, 0x40000BAD):
            pen = struct.unpack_from(e + "I", body)[0]
            etype, elen = struct.unpack_from("<II", body, 4)
            if pen == 62652:   # PCAPdroid UID map: version, type, pad, uid, lengths, names
                ver, typ, _, uid, pl, al = struct.unpack_from(e + "HBBiBB", body, 4)
                if ver == 1 and typ == 1:
                    pkg = body[14:14 + pl].decode()
                    droid[uid] = body[14 + pl:14 + pl + al].decode() or pkg
            elif pen == 32622 and etype == 3:
                entry = body[12:12 + elen]
                pid = struct.unpack_from("<I", entry)[0]
                name = None
                for code, v in options(entry[4:], "<"):
                    if code == 2:
                        name = text(v)
                pib[pid] = name
        elif btype == 6:
            caplen = struct.unpack_from(e + "I", body, 12)[0]
            opts = options(body[20 + pad4(caplen):], e)
            p = [None, None, None, None]
            comments = []
            for code, v in opts:
                if code == 0x8001:
                    i = struct.unpack_from(e + "I", v)[0]
                    p[0], p[1] = dpib[i]
                elif code == 0x8003:
                    i = struct.unpack_from(e + "I", v)[0]
                    p[2], p[3] = dpib[i]
                elif code == 8 and p[0] is None and p[1] is None:
                    pid = struct.unpack_from(e + "I", v)[0]
                    if pid != 0:
                        p[0], p[1] = pid, pib.get(pid)
                elif code == 1:
                    comments.append(text(v))
            if p == [None, None, None, None]:
                for c in comments:
                    if c.startswith("u-") and int(c[2:]) in droid:
                        p[1] = droid[int(c[2:])]
                        continue
                    r = parse_comment(c)
                    if r is not None:
                        p = [a if a is not None else b for a, b in zip(p, r)]
            out.append(tuple(p))
    return out


def pktap_tshark(path):
    """Per frame: (pid, name, epid, ename) from tshark's PKTAP dissector."""
    rc, out, err = wptest.run(["tshark", "-n", "-r", path, "-T", "fields", "-E", "separator=\t",
                               "-e", "pktap.pid", "-e", "pktap.cmdname", "-e", "pktap.epid",
                               "-e", "pktap.ecmdname"])
    res = []
    for line in out.decode().splitlines():
        c = (line.split("\t") + ["", "", "", ""])[:4]
        pid = int(c[0]) if c[0] else None
        epid = int(c[2]) if c[2] else None
        res.append((None if pid == 0xffffffff else pid, c[1] or None,
                    None if epid == 0xffffffff else epid, c[3] or None))
    return res


# ---- flows from tshark, and the comparison ---------------------------------


def frame_key(fr):
    """(transport, frozenset of endpoints) as whichports keys its JSON flows."""
    for proto in ("tcp", "udp"):
        if fr[f"{proto}.srcport"]:
            src = (fr["ipv6.src"] or fr["ip.src"])[-1]
            dst = (fr["ipv6.dst"] or fr["ip.dst"])[-1]
            return (proto, frozenset([(src, int(fr[f"{proto}.srcport"][-1])),
                                      (dst, int(fr[f"{proto}.dstport"][-1]))]))
    if fr["icmp.type"] or fr["icmpv6.type"]:
        src = (fr["ipv6.src"] or fr["ip.src"])[0]
        dst = (fr["ipv6.dst"] or fr["ip.dst"])[0]
        return ("icmp" if fr["icmp.type"] else "icmpv6", frozenset([(src, None), (dst, None)]))
    return None


def wp_key(f):
    return (f["transport"], frozenset([(f["client"], f["client_port"]),
                                       (f["server"], f["server_port"])]))


def norm(p):
    """A process tuple half as whichports prints it: (pid, name) or None."""
    pid, name = p
    if pid is None and name is None:
        return None
    return (pid, name)


def obj(o):
    return None if o is None else (o["pid"], o["name"])


def check_file(ck, wp, path, per_packet, what, extra_args=None):
    # tshark 4.0 lists custom blocks as frames: leave them out
    frames = wptest.tshark_frames(path, display_filter="!frame.cb_pen")
    ck.eq(len(per_packet), len(frames), f"{what}: the reference read every packet")
    flows = collections.defaultdict(lambda: {"votes": collections.Counter(), "pk": 0, "by": 0})
    for fr, p in zip(frames, per_packet):
        k = frame_key(fr)
        if k is None:
            continue
        fl = flows[k]
        fl["pk"] += 1
        fl["by"] += wptest.frame_len(fr)
        pair = (norm(p[0:2]), norm(p[2:4]))
        if pair != (None, None):
            fl["votes"][pair] += 1
    rc, doc, err = wptest.wp_json(wp, ["-r", path] + (extra_args or []))
    if not ck.eq(rc, 0, f"{what}: exit status") or doc is None:
        print(err)
        return None
    got = {wp_key(f): f for f in doc["flows"]}
    apps = collections.defaultdict(lambda: [0, 0, 0])
    by_port = collections.defaultdict(lambda: collections.Counter())
    by_apple = collections.defaultdict(lambda: collections.Counter())
    n_named = 0
    for k, fl in flows.items():
        f = got.get(k)
        if not ck.check(f is not None, f"{what}: flow {sorted(map(str, k[1]))} present"):
            continue
        want = (None, None)
        gotp = (obj(f["process"]), obj(f["effective_process"]))
        if fl["votes"]:
            top = fl["votes"].most_common()
            # a tie (loopback: both ends are local processes) allows either
            tied = [c for c, n in top if n == top[0][1]]
            want = gotp if gotp in tied else top[0][0]
            if len(tied) > 1:
                print(f"{what}: flow {sorted(map(str, k[1]))}: tie between {tied}")
            n_named += 1
        ck.eq(gotp, want, f"{what}: process of flow {k[0]} {sorted(map(str, k[1]))}")
        if fl["votes"]:
            others = sum(fl["votes"].values()) - fl["votes"][want]
            ck.eq(f["process_others"], others, f"{what}: packets naming other processes")
            app = want[1] or want[0]
            name = app[1] if app[1] is not None else f"pid {app[0]}"
            apps[name][0] += 1
            apps[name][1] += fl["pk"]
            apps[name][2] += fl["by"]
            by_port[(f["transport"], f["server_port"])][name] += fl["by"]
            if f["apple_service"]:
                by_apple[f["apple_service"]][name] += 1
    # why a flow has no process: "not_named" when the file names processes
    # (by the reference reading) but none of this flow's packets did; no
    # reason when the file names none, nor for a flow with a process
    file_named = any(fl["votes"] for fl in flows.values())
    for k, fl in flows.items():
        f = got.get(k)
        if f is None:
            continue
        if fl["votes"]:
            ck.check("process_unknown" not in f, f"{what}: flow {k[0]} with a process: no reason")
        else:
            ck.eq(f.get("process_unknown"), "not_named" if file_named else None,
                  f"{what}: reason of flow {k[0]} {sorted(map(str, k[1]))} without a process")
    rows = {}
    for r in doc["processes"]:
        rows[r["name"] if r["name"] is not None else f"pid {r['pids'][0]}"] = r
    ck.eq(sorted(rows), sorted(apps), f"{what}: the processes")
    for name, (nf, pk, by) in apps.items():
        r = rows.get(name)
        if r is None:
            continue
        ck.eq((r["flows"], r["sent"]["packets"] + r["received"]["packets"],
               r["sent"]["bytes"] + r["received"]["bytes"]), (nf, pk, by),
              f"{what}: {name}: flows, packets, bytes")
    for r in doc["ports"]:
        want = by_port.get((r["transport"], r["port"]), collections.Counter())
        top = sorted(want.items(), key=lambda x: (-x[1], x[0]))[:4]
        got = [(q["name"] if q["name"] else None, q["bytes"]) for q in r.get("processes", [])]
        ck.eq(sorted(got, key=lambda x: (-x[1], str(x[0]))), top,
              f"{what}: processes of port {r['transport']}/{r['port']}")
    check_text_ports(ck, wp, path, doc, by_port, what, extra_args)
    for a in doc["apple"]:
        got = {q["name"]: q["flows"] for q in a.get("processes", [])}
        ck.eq(got, dict(by_apple.get(a["service"], {})), f"{what}: processes of {a['service']}")
    pi = doc["process_info"]
    tp = sum(r["sent"]["packets"] + r["received"]["packets"] for r in doc["processes"])
    tb = sum(r["sent"]["bytes"] + r["received"]["bytes"] for r in doc["processes"])
    fp = sum(f["to_server"]["packets"] + f["to_client"]["packets"] for f in doc["flows"])
    fb = sum(f["to_server"]["bytes"] + f["to_client"]["bytes"] for f in doc["flows"])
    ck.eq((tp + pi["without_process"]["packets"] + pi["other"]["packets"],
           tb + pi["without_process"]["bytes"] + pi["other"]["bytes"]), (fp, fb),
          f"{what}: processes + without a process = all flows")
    ck.eq(sum(fl["pk"] for fl in flows.values()), fp, f"{what}: flows hold the tshark packets")
    t = doc["totals"]
    ports = sum(r["packets"] for r in doc["ports"])
    unattr = sum(r["unattributed"]["packets"] for r in doc["ports"])
    ck.eq(fp + unattr + t["other_packets"] + t["undecodable_packets"], t["packets"],
          f"{what}: flows + unattributed + other + undecodable = total packets")
    ck.eq(ports, fp + unattr, f"{what}: port rows hold the flows")
    ck.eq(sum(pi["malformed"].values()), 0, f"{what}: nothing malformed")
    n_reason = sum(1 for f in doc["flows"] if f.get("process_unknown"))
    print(f"{what}: {len(flows)} flows, {n_named} with a process, {n_reason} with a reason"
          f" for none, {len(rows)} processes")
    return doc


def text_table(out, title):
    """The rows of a text table as {column: cell}, cut at the header's
    column starts: right for the left-aligned columns (PORT, PROCESS,
    SERVICE), whose cells start where their header does; the right-aligned
    ones are not read."""
    lines = out.decode("utf-8", "replace").split("\n")
    start = next((i for i, ln in enumerate(lines) if ln.startswith(title + " (")), None)
    if start is None:
        return None
    head = lines[start + 1]
    cols = [(m, head.index(m)) for m in head.split()]
    rows = []
    for ln in lines[start + 2:]:
        if not ln.strip():
            break
        if ln.startswith("    "):
            continue  # a continuation line (wireshark filter)
        row = {}
        for i, (name, at) in enumerate(cols):
            end = cols[i + 1][1] if i + 1 < len(cols) else len(ln)
            row[name] = ln[at:end].strip()
        rows.append(row)
    return rows


def check_text_ports(ck, wp, path, doc, by_port, what, extra_args):
    """The text PORTS table's PROCESS column: the process with the most bytes
    on the port, by the flows (by_port: computed from the reference reading
    and the JSON flows), possibly cut ("..."), then "+N" for the N other
    processes; empty when none; no column when the capture names none."""
    rc, out, err = wptest.run([wp, "-q", "-r", path] + (extra_args or []))
    rows = text_table(out, "SERVICE PORTS")
    if not ck.check(rc == 0 and rows is not None, f"{what}: text ports table", err):
        return
    ck.eq(len(rows), len(doc["ports"]), f"{what}: text port rows")
    if not doc["processes"]:
        ck.check(all("PROCESS" not in r for r in rows), f"{what}: no PROCESS column")
        return
    for r, j in zip(rows, doc["ports"]):
        key = j["transport"] + (f"/{j['port']}" if j["port"] is not None else "")
        if not ck.eq(r["PORT"], key, f"{what}: text row of {key}"):
            continue
        want = by_port.get((j["transport"], j["port"]), collections.Counter())
        cell = r.get("PROCESS", "")
        name, _, more = cell.partition(" +")
        if not want:
            ck.eq(cell, "", f"{what}: {key}: no process")
            continue
        top = max(want.values())
        tops = [n for n, b in want.items() if b == top]
        ok = name in tops or (name.endswith("...") and
                              any(t.startswith(name[:-3]) for t in tops))
        ck.check(ok, f"{what}: {key}: text process is the one with the most bytes",
                 f"cell {cell!r}, want one of {tops}")
        ck.eq(int(more) if more else 0, len(want) - 1, f"{what}: {key}: +N other processes")
        ck.check(len(cell) <= 20, f"{what}: {key}: process cell at most 20 characters", cell)


# ---- writers for the formats without public samples ------------------------


def read_pcap(path):
    data = open(path, "rb").read()
    e = "<" if data[:4] == b"\xd4\xc3\xb2\xa1" else ">"
    lt = struct.unpack_from(e + "I", data, 20)[0]
    pos, pkts = 24, []
    while pos + 16 <= len(data):
        s, us, cl, ln = struct.unpack_from(e + "IIII", data, pos)
        pkts.append((s, us, data[pos + 16:pos + 16 + cl], ln))
        pos += 16 + cl
    return lt, pkts


def block(e, btype, body):
    body = body + b"\0" * (pad4(len(body)) - len(body))
    n = len(body) + 12
    return struct.pack(e + "II", btype, n) + body + struct.pack(e + "I", n)


def opt(e, code, val):
    return struct.pack(e + "HH", code, len(val)) + val + b"\0" * (pad4(len(val)) - len(val))


def shb(e):
    return block(e, 0x0A0D0D0A, struct.pack(e + "IHHq", 0x1A2B3C4D, 1, 0, -1))


def idb(e, lt):
    return block(e, 1, struct.pack(e + "HHI", lt, 0, 262144))


def epb(e, pkt, opts=b""):
    s, us, d, ln = pkt
    ts = s * 1000000 + us
    body = struct.pack(e + "IIIII", 0, ts >> 32, ts & 0xffffffff, len(d), ln)
    body += d + b"\0" * (pad4(len(d)) - len(d))
    if opts:
        body += opts + struct.pack(e + "HH", 0, 0)
    return block(e, 6, body)


# The processes of the synthetic files: (pid, name, path, user).
PROCS = [(301, "apsd", "/System/Library/PrivateFrameworks/ApplePushService.framework/apsd",
          "mobile"),
         (4711, "imagent", "/System/Library/PrivateFrameworks/IMCore.framework/imagent", "alice"),
         (1234, "identityservice", "/usr/libexec/identityservicesd", "alice"),
         (2048, "Messages", "/System/Applications/Messages.app/Contents/MacOS/Messages", "alice")]


def assign(frames):
    """Per packet: (real index, effective index or None) into PROCS. Each flow
    gets one process; every fifth packet of a flow (the 5th, 10th, ...) names
    another, fewer than half, so the majority is never tied. Flows to port
    5223 and 443 are 'delegated': apsd or identityservicesd acting for
    Messages. Packets outside TCP/UDP/ICMP flows get none, and so do the
    flows to port 3478 (a file naming processes for some flows only)."""
    seen = collections.Counter()
    out = []
    for fr in frames:
        k = frame_key(fr)
        if k is None or 3478 in {p for _, p in k[1]}:
            out.append(None)
            continue
        h = sum(map(ord, repr(sorted(map(str, k[1]))))) % len(PROCS)
        i = seen[k]
        seen[k] += 1
        real = h if (i % 5) != 4 else (h + 1) % len(PROCS)
        ports = {p for _, p in k[1]}
        eff = 3 if (5223 in ports or 443 in ports) and real != 3 else None
        out.append((real, eff))
    return out


def expected(a, names=True, eff=True, pids=True):
    res = []
    for x in a:
        if x is None:
            res.append((None, None, None, None))
            continue
        r, e = x
        p = PROCS[r]
        q = PROCS[e] if (e is not None and eff) else None
        res.append((p[0] if pids else None, p[1] if names else None, q[0] if q else None,
                    q[1] if q else None))
    return res


def write_variants(tmp, src, frames):
    lt, pkts = read_pcap(src)
    a = assign(frames)
    files = []

    # Wireshark process information blocks + option 8, little- and big-endian
    for e, tag in (("<", "le"), (">", "be")):
        out = [shb(e), idb(e, lt)]
        for pid, name, path, user in PROCS:
            entry = struct.pack("<I", pid) + opt("<", 2, name.encode()) + \
                opt("<", 3, path.encode()) + opt("<", 7, user.encode()) + struct.pack("<HH", 0, 0)
            out.append(block(e, 0xBAD, struct.pack(e + "I", 32622) +
                             struct.pack("<II", 3, len(entry)) + entry))
        for pkt, x in zip(pkts, a):
            o = b""
            if x is not None:
                o = opt(e, 8, struct.pack(e + "II", PROCS[x[0]][0], 99))
            out.append(epb(e, pkt, o))
        files.append((f"pib-{tag}", b"".join(out), expected(a, eff=False)))

    # option 8 alone (etl2pcapng >= 1.12), big-endian, and etl2pcapng comments
    out = [shb(">"), idb(">", lt)]
    for pkt, x in zip(pkts, a):
        o = opt(">", 8, struct.pack(">II", PROCS[x[0]][0], 7)) if x is not None else b""
        out.append(epb(">", pkt, o))
    files.append(("opt8-be", b"".join(out), expected(a, names=False, eff=False)))
    out = [shb("<"), idb("<", lt)]
    for pkt, x in zip(pkts, a):
        o = opt("<", 1, f"PID={PROCS[x[0]][0]} TID=17".encode()) if x is not None else b""
        out.append(epb("<", pkt, o))
    files.append(("etl2pcapng", b"".join(out), expected(a, names=False, eff=False)))

    # pymobiledevice3 comments, with the effective process
    out = [shb("<"), idb("<", lt)]
    for pkt, x in zip(pkts, a):
        o = b""
        if x is not None:
            p = PROCS[x[0]]
            q = PROCS[x[1]] if x[1] is not None else None
            c = (f"PID: {p[0]}, ProcName: {p[1]}, EPID: {q[0] if q else 4294967295}, "
                 f"EProcName: {q[1] if q else ''}, SVC: BE")
            o = opt("<", 1, c.encode())
        out.append(epb("<", pkt, o))
    files.append(("pymobiledevice3", b"".join(out), expected(a)))

    # rustnet comments
    out = [shb("<"), idb("<", lt)]
    for pkt, x in zip(pkts, a):
        o = b""
        if x is not None:
            p = PROCS[x[0]]
            o = opt("<", 1, f"rustnet process={p[1]} pid={p[0]} uid=501 attr=ebpf".encode())
        out.append(epb("<", pkt, o))
    files.append(("rustnet", b"".join(out), expected(a, eff=False)))

    # PCAPdroid: a UID map block per app before its first packet, "u-UID" comments
    for e, tag in (("<", "le"), (">", "be")):
        out = [shb(e), idb(e, 101)]
        mapped = set()
        for (s, us, d, ln), x in zip(pkts, a):
            o = b""
            if x is not None:
                uid = 10000 + x[0]
                if uid not in mapped:
                    mapped.add(uid)
                    pkg = ("com.example." + PROCS[x[0]][1].lower()).encode()
                    app = PROCS[x[0]][1].encode()
                    out.append(block(e, 0xBAD, struct.pack(e + "IHBBiBB", 62652, 1, 1, 0, uid,
                                                           len(pkg), len(app)) + pkg + app))
                o = opt(e, 1, f"u-{uid}".encode())
            out.append(epb(e, (s, us, d[14:], ln - 14), o))
        files.append((f"pcapdroid-{tag}", b"".join(out), expected(a, eff=False, pids=False)))

    # Darwin process blocks in both byte orders, written lazily as Apple does
    for e, tag in (("<", "le"), (">", "be")):
        out = [shb(e), idb(e, lt)]
        index = {}
        for pkt, x in zip(pkts, a):
            o = b""
            if x is not None:
                for which, code in ((x[0], 0x8001), (x[1], 0x8003)):
                    if which is None:
                        continue
                    if which not in index:
                        index[which] = len(index)
                        p = PROCS[which]
                        out.append(block(e, 0x80000001, struct.pack(e + "I", p[0]) +
                                         opt(e, 2, p[1].encode() + b"\0") +
                                         struct.pack(e + "HH", 0, 0)))
                    o += opt(e, code, struct.pack(e + "I", index[which]))
                o += opt(e, 0x8002, struct.pack(e + "I", 0))
            out.append(epb(e, pkt, o))
        files.append((f"darwin-{tag}", b"".join(out), expected(a)))

    # PKTAP v1 (156-byte header) with delegation: a classic pcap, link type 258
    out = [struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 262144, 258)]
    for (s, us, d, ln), x in zip(pkts, a):
        h = bytearray(156)
        pid, comm, epid, ecomm, flags = 0xffffffff, b"", 0xffffffff, b"", 0x2
        if x is not None:
            p = PROCS[x[0]]
            pid, comm = p[0], p[1].encode()[:16]
            epid, ecomm = pid, comm
            if x[1] is not None:
                q = PROCS[x[1]]
                epid, ecomm, flags = q[0], q[1].encode()[:16], 0x2 | 0x4
        struct.pack_into("<IIi", h, 0, 156, 1, 1)
        h[12:15] = b"en0"
        struct.pack_into("<IIII", h, 36, flags, 2, 14, 0)
        struct.pack_into("<I", h, 52, pid)
        h[56:56 + len(comm)] = comm
        struct.pack_into("<IHHI", h, 76, 0, 6, 0, epid)
        h[88:88 + len(ecomm)] = ecomm
        rec = bytes(h) + d
        out.append(struct.pack("<IIII", s, us, len(rec), ln + 156) + rec)
    files.append(("pktap156", b"".join(out), None))

    # The same records with PKTAP v2 headers (xnu pktap_v2_hdr: one-byte
    # length, string offsets, dlt at 6, pid/epid at 28/32, flags with V2_HDR
    # at 36, then the names): tshark's PKTAP dissector reads only v1, so
    # main() checks this file's flows against the v1 file's.
    out = [struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 262144, 258)]
    for (s, us, d, ln), x in zip(pkts, a):
        pid, comm, epid, ecomm, flags = 0xffffffff, b"", 0xffffffff, b"", 0x2
        if x is not None:
            p = PROCS[x[0]]
            pid, comm = p[0], p[1].encode()[:16]
            epid, ecomm = pid, comm
            if x[1] is not None:
                q = PROCS[x[1]]
                epid, ecomm, flags = q[0], q[1].encode()[:16], 0x2 | 0x4
        names = comm + b"\0" + ecomm + b"\0"
        hl = 40 + len(names)
        h = struct.pack("<BBBBBBHHHHHIIIIII", hl, 0, 0, 0, 40 if comm else 0,
                        41 + len(comm) if ecomm else 0, 1, 0, 0, 6, 0,
                        2, 0, 0, pid, epid, flags | 0x80000) + names
        rec = h + d
        out.append(struct.pack("<IIII", s, us, len(rec), ln + hl) + rec)
    files.append(("pktapv2", b"".join(out), "v1"))

    # PCAPdroid's classic-pcap trailer (PCAPdroid app/src/main/jni/core/
    # pcap_dump.c, pcap_dump.h): link type 1; each IP packet behind a bogus
    # Ethernet header (both MACs zero, the ethertype of its IP version),
    # zero bytes to a multiple of 4, then 32 bytes: magic 0x01072021 and the
    # UID (int32, -1 unknown), both big-endian, the app name NUL-padded to
    # 20 bytes, and the CRC-32 (zlib's) of all before it in the writer's
    # order; captured and wire lengths count it all. A little-endian file
    # (Android) and a big-endian one, as a big-endian host would write.
    for e, tag in (("<", "le"), (">", "be")):
        out = [struct.pack(e + "IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 262144, 1)]
        for (s, us, d, ln), x in zip(pkts, a):
            rec = d
            if d[12:14] in (b"\x08\x00", b"\x86\xdd"):
                ip = d[14:]
                n = (struct.unpack(">H", ip[2:4])[0] if ip[0] >> 4 == 4
                     else 40 + struct.unpack(">H", ip[4:6])[0])
                rec = bytes(12) + d[12:14] + ip[:n]
                rec += bytes((4 - len(rec) % 4) % 4)
                uid, app = (droid_uid(x[0]), PROCS[x[0]][1].encode()) if x else (-1, b"")
                rec += struct.pack(">Ii", 0x01072021, uid) + app.ljust(20, b"\0")
                rec += struct.pack(e + "I", zlib.crc32(rec))
            out.append(struct.pack(e + "IIII", s, us, len(rec), len(rec)) + rec)
        files.append((f"droid-trailer-{tag}", b"".join(out), expected(a, eff=False, pids=False)))
    return files


def droid_uid(i):
    """The Android UID written for PROCS[i]."""
    return 10100 + i


def read_droid_pcap(data):
    """Per packet (None, app name, None, None) from PCAPdroid trailers, read
    back from a classic pcap written as above (either byte order)."""
    e = "<" if data[:4] == b"\xd4\xc3\xb2\xa1" else ">"
    pos, out = 24, []
    while pos + 16 <= len(data):
        cl = struct.unpack_from(e + "I", data, pos + 8)[0]
        rec = data[pos + 16:pos + 16 + cl]
        pos += 16 + cl
        t = rec[-32:]
        ok = (len(rec) >= 66 and rec[:12] == bytes(12) and t[:4] == b"\x01\x07\x20\x21" and
              zlib.crc32(rec[:-4]) == struct.unpack(e + "I", t[28:])[0])
        uid = struct.unpack(">i", t[4:8])[0] if ok else -1
        out.append((None, t[8:28].split(b"\0")[0].decode(), None, None) if uid >= 0
                   else (None, None, None, None))
    return out


def check_droid(ck, wp, doc, src, tag):
    """PCAPdroid trailer file: each flow's process is the app written for it,
    with its UID as user and source "trailer"; the trailer is no part of the
    packets: the flows, their packets and names equal those of the capture
    the file was written from (bytes are checked against tshark's frame.len
    by check_file)."""
    uids = {p[1]: str(droid_uid(i)) for i, p in enumerate(PROCS)}
    for f in doc["flows"]:
        p = f["process"]
        if p is None:
            continue
        ck.eq((p["pid"], p["user"], p["source"]), (None, uids.get(p["name"]), "trailer"),
              f"{tag}: flow {f['client_port']}->{f['server_port']}: pid, UID as user, source")
    rc, orig, _ = wptest.wp_json(wp, ["-r", src])
    if not ck.check(orig is not None, f"{tag}: the original's report"):
        return

    def flows(d):
        return sorted((f["transport"], f["client"], f["client_port"] or 0, f["server"],
                       f["server_port"] or 0, f["to_server"]["packets"],
                       f["to_client"]["packets"], f["tcp_flags"] or "", f["name"] or "",
                       f["outcome"] if isinstance(f.get("outcome"), str) else "")
                      for f in d["flows"])
    ck.eq(flows(doc), flows(orig), f"{tag}: flows, packets, flags and names as in the original")
    m = {k: v for k, v in doc["process_info"]["malformed"].items() if v}
    ck.eq(m, {}, f"{tag}: no trailer malformed")


DAMAGED = [("dmg-pcapng-comment-bad-pid.pcapng", "comment_bad_pid", 1),
           ("dmg-pcapng-dpib-option-overrun.pcapng", "dpib_bad_option", 1),
           ("dmg-pcapng-dpib-short.pcapng", "dpib_too_short", 1),
           ("dmg-pcapng-epb-option-overrun.pcapng", "epb_bad_option", 1),
           ("dmg-pcapng-epb-pib-index-past.pcapng", "epb_bad_process_index", 1),
           ("dmg-pcapng-epb-process-option-lengths.pcapng", "epb_bad_option_length", 1),
           ("dmg-pcapng-pib-entry-past-block.pcapng", "pib_bad_entry", 1),
           ("dmg-pcapng-pib-option-past-entry.pcapng", "pib_bad_option", 1),
           ("dmg-pcapng-pcapdroid-map-past-block.pcapng", "pcapdroid_bad_map", 1),
           ("dmg-pcap-pcapdroid-trailer-bad-fcs.pcap", "pcapdroid_trailer_bad_fcs", 1),
           ("dmg-pcap-pcapdroid-trailer-bad-layout.pcap", "pcapdroid_trailer_bad_layout", 1)]


def main():
    wp, root, shared = sys.argv[1], sys.argv[2], sys.argv[3]
    if not wptest.have_tshark():
        print("SKIP: tshark not installed")
        sys.exit(77)
    ck = wptest.Checker("process")
    real = []
    if os.path.isdir(shared):
        for d in ("process/apple-tcpdump", "process/ptcpdump"):
            for f in sorted(os.listdir(os.path.join(shared, d))):
                if f.endswith(".pcapng"):
                    real.append(os.path.join(shared, d, f))
        real.append(os.path.join(shared, "nDPI/tests/cfgs/default/pcap/mpeg.pcap"))
    for path in real:
        if not os.path.exists(path):
            continue
        check_file(ck, wp, path, read_pcapng(open(path, "rb").read()), os.path.basename(path))
    pktap = [os.path.join(shared, "tcpdump/tests", f)
             for f in ("LINKTYPE_PKTAP.pcap", "LINKTYPE_USER2_PKTAP.pcap")]
    for path in pktap:
        if os.path.exists(path):
            check_file(ck, wp, path, pktap_tshark(path), os.path.basename(path))
    if not real:
        print("note: ../shared/pcaps missing; only the written files are checked")

    # damaged process information (tests/fuzz/make_corpus.py): each named
    # reason exactly once, the packet still counted, nothing else malformed
    corpus = os.path.join(root, "tests", "fuzz", "corpus_pcap")
    for f, reason, n in DAMAGED:
        rc, doc, err = wptest.wp_json(wp, ["-r", os.path.join(corpus, f)])
        if not ck.eq(rc, 0, f"{f}: exit status"):
            continue
        m = {k: v for k, v in doc["process_info"]["malformed"].items() if v}
        ck.eq(m, {reason: n}, f"{f}: counted as {reason}")
        ck.eq(doc["totals"]["packets"], 1, f"{f}: the packet is still counted")
    rc, out, err = wptest.run([wp, "-q", "-r", os.path.join(corpus, "pcapng-process-comments.pcapng")])
    ck.check(b"PROCESSES (" in out, "text: PROCESSES table")
    rc, out, err = wptest.run([wp, "-q", "-r", os.path.join(root, "pcaps", "apple-session.pcap")])
    ck.check(b"PROCESS" not in out, "text: no process table or column without processes")

    # -j: engines share the process table; the merged report equals the sequential one
    many = [p for p in real if os.path.exists(p)][:6] + \
        [os.path.join(corpus, "pcapng-process-darwin-le.pcapng")]
    args = [x for p in many for x in ("-r", p)]
    rc1, one, _ = wptest.wp_json(wp, args)
    rc2, par, _ = wptest.wp_json(wp, args + ["-j", "3"])
    if ck.check(one is not None and par is not None, "-j: both reports"):
        ck.eq(par["processes"], one["processes"], "-j 3: the same processes")
        ck.eq(sorted(json.dumps(f, sort_keys=True) for f in par["flows"]),
              sorted(json.dumps(f, sort_keys=True) for f in one["flows"]), "-j 3: the same flows")

    src = os.path.join(root, "pcaps", "apple-session.pcap")
    frames = wptest.tshark_frames(src)
    with tempfile.TemporaryDirectory() as tmp:
        for tag, data, want in write_variants(tmp, src, frames):
            path = os.path.join(tmp, tag + (".pcap" if tag.startswith(("pktap", "droid"))
                                             else ".pcapng"))
            with open(path, "wb") as fp:
                fp.write(data)
            if want == "v1":
                # v2 headers: the flows and their processes equal the v1 file's
                rc, v2doc, err = wptest.wp_json(wp, ["-r", path])
                rc1, v1doc, _ = wptest.wp_json(wp, ["-r", os.path.join(tmp, "pktap156.pcap")])
                if ck.check(v2doc is not None and v1doc is not None, "pktapv2: both reports"):
                    def flows(doc):
                        return sorted((f["client_port"] or 0, f["server_port"] or 0, f["transport"],
                                       json.dumps(f["process"], sort_keys=True),
                                       json.dumps(f["effective_process"], sort_keys=True),
                                       f["to_server"]["packets"], f["to_client"]["packets"])
                                      for f in doc["flows"])
                    ck.eq(flows(v2doc), flows(v1doc),
                          "pktapv2: flows and processes equal the v1 file's (checked by tshark)")
                    ck.check(any(f["process"] for f in v2doc["flows"]),
                             "pktapv2: processes are named")
                    ck.eq(v2doc["totals"]["malformed"]["pktap_bad_header_length"], 0,
                          "pktapv2: no header rejected")
                continue
            if want is None:
                want = pktap_tshark(path)
            elif tag.startswith("droid"):
                ck.eq(read_droid_pcap(data), want,
                      f"{tag}: the reference reader reads what was written")
            else:
                ck.eq(read_pcapng(data), want, f"{tag}: the reference reader reads what was written")
            doc = check_file(ck, wp, path, want, tag)
            if tag.startswith("droid") and doc is not None:
                check_droid(ck, wp, doc, src, tag)
            if tag == "pymobiledevice3" and doc is not None:
                msg = {r["name"]: r for r in doc["processes"]}.get("Messages")
                if ck.check(msg is not None, "pymobiledevice3: Messages row"):
                    carriers = {c["name"] for c in msg["carried_by"]}
                    ck.check(carriers <= {"apsd", "imagent", "identityservice"} and carriers,
                             "pymobiledevice3: Messages carried by daemons", str(carriers))
                # --process restricts every table
                rc, sub, err = wptest.wp_json(wp, ["-r", path, "--process", "Mess*"])
                ck.eq(rc, 0, "--process: exit status")
                names = {r["name"] for r in sub["processes"]}
                ck.eq(names, {"Messages"}, "--process Mess*: only Messages")
                ck.check(all("Messages" in (obj(f["process"]) or (0, ""))[1:] or
                             "Messages" in (obj(f["effective_process"]) or (0, ""))[1:]
                             for f in sub["flows"]), "--process: only its flows")
                ck.eq(sum(r["packets"] for r in sub["ports"]),
                      msg["sent"]["packets"] + msg["received"]["packets"],
                      "--process: port rows hold exactly its packets")
                rc, sub, err = wptest.wp_json(wp, ["-r", path, "--process", "301"])
                ck.eq({r["name"] for r in sub["processes"]} >= {"Messages"} or
                      {r["name"] for r in sub["processes"]} == {"apsd"}, True,
                      "--process PID: matches by pid")
                rc, out, err = wptest.run([wp, "-q", "-r", path, "-T", "csv", "--view",
                                           "processes"])
                rows = list(csv.DictReader(io.StringIO(out.decode())))
                ck.eq(sorted(r["process"] for r in rows),
                      sorted(r["name"] for r in doc["processes"]), "csv processes: the rows")
                rc, out, err = wptest.run([wp, "-q", "-r", path, "-T", "csv", "--view", "flows"])
                rows = list(csv.DictReader(io.StringIO(out.decode())))
                want = sorted((f["client_port"] or 0, str((obj(f["process"]) or (None, None))[1]),
                               str((obj(f["effective_process"]) or (None, None))[1]))
                              for f in doc["flows"])
                ck.eq(sorted((int(r["client_port"] or 0), r["process"] or "None",
                              r["effective_process"] or "None") for r in rows), want,
                      "csv flows: process columns")
                rc, out, err = wptest.run([wp, "-q", "-r", path])
                ck.check(b"PROCESSES (" in out and b"carried by" in out,
                         "text: PROCESSES table with carriers")
    ck.finish()


if __name__ == "__main__":
    main()
