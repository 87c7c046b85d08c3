#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""--baseline: what a capture has that a capture without the app lacked.

Two captures are made from pcaps/apple-session.pcap (this project's own
capture): the whole session, and the same background traffic without one
application, FaceTime (every frame to or from the servers that tshark sees
receiving its ports, UDP 3478-3497 and 16384-16402). With the second as the
baseline, exactly FaceTime's ports and servers must come out as new (the
expected sets come from tshark, not from whichports), every other row as
seen; a name is new only when it named a flow of those servers. A copy of
the session with its timestamps stretched ten times as the baseline makes
every row grown, with a ratio near 10. --new-only, text and CSV --view
baseline are checked against the JSON.

usage: test_baseline.py WHICHPORTS SOURCE_ROOT
"""

import csv
import io
import os
import struct
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wptest  # noqa: E402

FACETIME = "(udp.dstport >= 3478 && udp.dstport <= 3497) || " \
           "(udp.dstport >= 16384 && udp.dstport <= 16402)"


def fields(path, flt, names):
    cmd = ["tshark", "-n", "-r", path, "-T", "fields", "-E", "separator=\t"]
    if flt:
        cmd += ["-Y", flt]
    for n in names:
        cmd += ["-e", n]
    rc, out, err = wptest.run(cmd)
    return [line.split("\t") for line in out.decode().splitlines()]


def stretch(src, dst, factor):
    data = bytearray(open(src, "rb").read())
    pos, t0 = 24, None
    while pos + 16 <= len(data):
        s, us, cl, ln = struct.unpack_from("<IIII", data, pos)
        t = s * 1000000 + us
        if t0 is None:
            t0 = t
        t = t0 + (t - t0) * factor
        struct.pack_into("<II", data, pos, t // 1000000, t % 1000000)
        pos += 16 + cl
    open(dst, "wb").write(bytes(data))


def main():
    wp, root = sys.argv[1], sys.argv[2]
    if not wptest.have_tshark():
        print("SKIP: tshark not installed")
        sys.exit(77)
    ck = wptest.Checker("baseline")
    full = os.path.join(root, "pcaps", "apple-session.pcap")
    servers = {(r[0] or r[1]) for r in fields(full, FACETIME, ["ip.dst", "ipv6.dst"])}
    ck.check(len(servers) == 2, "two FaceTime servers in the session", str(servers))
    sel = " || ".join(f"ip.addr == {a}" if ":" not in a else f"ipv6.addr == {a}"
                      for a in sorted(servers))
    with tempfile.TemporaryDirectory() as tmp:
        bg = os.path.join(tmp, "background.pcap")
        rc, out, err = wptest.run(["tshark", "-r", full, "-Y", f"!({sel})", "-F", "pcap",
                                   "-w", bg])
        ck.eq(rc, 0, "background capture written")
        # what tshark says: the app's server ports, and every port of the background
        app_ports = {("udp", int(r[2])) for r in fields(full, sel, ["ip.dst", "ipv6.dst",
                                                                    "udp.dstport"])
                     if (r[0] or r[1]) in servers and r[2]}
        bg_ports = set()
        for r in fields(bg, None, ["tcp.srcport", "tcp.dstport", "udp.srcport", "udp.dstport"]):
            for i, proto in ((0, "tcp"), (1, "tcp"), (2, "udp"), (3, "udp")):
                if i < len(r) and r[i]:
                    bg_ports.add((proto, int(r[i].split(",")[-1])))
        want_new_ports = app_ports - bg_ports

        rc, doc, err = wptest.wp_json(wp, ["-r", full, "--baseline", bg])
        if not ck.eq(rc, 0, "exit status") or doc is None:
            print(err)
            ck.finish()
        got_new = {(p["transport"], p["port"]) for p in doc["ports"]
                   if p["baseline"]["status"] == "new"}
        ck.eq(got_new, want_new_ports, "new ports: exactly the app's")
        ck.check(all(p["baseline"]["status"] in ("new", "seen") for p in doc["ports"]),
                 "no port grown between the same background")
        got_srv = {h["addr"] for h in doc["hosts"] if h["baseline"]["status"] == "new"}
        ck.eq(got_srv, servers, "new servers: exactly the app's")
        for p in doc["ports"]:
            if p["baseline"]["status"] == "seen":
                ck.check(p["baseline"]["baseline_bytes"] > 0 and 0.5 < p["baseline"]["ratio"] < 2,
                         f"port {p['transport']}/{p['port']}: seen, ratio near 1",
                         str(p["baseline"]))
        app_names = {f["name"] for f in doc["flows"]
                     if f["name"] and (f["server"] in servers or f["client"] in servers)}
        new_names = {n["name"] for n in doc["baseline"]["names"]
                     if n["baseline"]["status"] == "new"}
        ck.check(new_names <= app_names, "new names belong to the app's flows",
                 f"{new_names} vs {app_names}")
        ck.eq(doc["baseline"]["files"], [bg], "baseline files named")

        rc, only, err = wptest.wp_json(wp, ["-r", full, "--baseline", bg, "--new-only"])
        ck.eq({(p["transport"], p["port"]) for p in only["ports"]}, want_new_ports,
              "--new-only: only the new ports")
        ck.eq({h["addr"] for h in only["hosts"]}, servers, "--new-only: only the new servers")
        rc, out, err = wptest.run([wp, "-q", "-r", full, "--baseline", bg, "-T", "csv",
                                   "--view", "baseline"])
        rows = list(csv.DictReader(io.StringIO(out.decode())))
        ck.eq({r["key"] for r in rows if r["kind"] == "port" and r["status"] == "new"},
              {f"{t}/{p}" for t, p in want_new_ports}, "csv: the new ports")
        ck.eq({r["key"] for r in rows if r["kind"] == "server" and r["status"] == "new"},
              servers, "csv: the new servers")
        rc, out, err = wptest.run([wp, "-q", "-r", full, "--baseline", bg])
        text = out.decode()
        ck.check("NEW OR GROWN SINCE THE BASELINE" in text and
                 all(a in text for a in servers), "text: the section names the new servers")

        # the same traffic over ten times the time: every row grown, ratio ~10
        slow = os.path.join(tmp, "slow.pcap")
        stretch(full, slow, 10)
        rc, doc, err = wptest.wp_json(wp, ["-r", full, "--baseline", slow])
        ck.check(all(p["baseline"]["status"] == "grown" and 9 < p["baseline"]["ratio"] < 11
                     for p in doc["ports"] if p["flows"] > 0),
                 "ten times slower baseline: every port grown about 10x")
        ck.check(all(h["baseline"]["status"] == "grown" for h in doc["hosts"]),
                 "ten times slower baseline: every server grown")
        rc, doc, err = wptest.wp_json(wp, ["-r", full, "--baseline", full])
        ck.check(all(p["baseline"]["status"] == "seen" for p in doc["ports"]) and
                 all(h["baseline"]["status"] == "seen" for h in doc["hosts"]),
                 "itself as baseline: everything seen")
        rc, out, err = wptest.run([wp, "-q", "-r", full, "--new-only"])
        ck.eq(rc, 2, "--new-only without --baseline: usage error")
    ck.finish()


if __name__ == "__main__":
    main()
