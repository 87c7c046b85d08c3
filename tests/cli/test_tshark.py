#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""whichports against tshark on the captures bundled in pcaps/.

For each capture: totals, every TCP/UDP conversation (frames and bytes per
direction) and every port row (packets and bytes, and the Apple share) must
equal what tshark computes on the same file. The expected numbers come from
tshark at test time, never from an earlier run of whichports.

usage: test_tshark.py WHICHPORTS SOURCE_ROOT
"""

import glob
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wptest  # noqa: E402

NO_DEFRAG = ["-o", "ip.defragment:FALSE", "-o", "ipv6.defragment:FALSE"]
APPLE = ("(ip.addr == 17.0.0.0/8 || ipv6.addr == 2620:149::/32 || "
         "ipv6.addr == 2403:300::/32 || ipv6.addr == 2a01:b740::/32)")


def sums(frames):
    return len(frames), sum(wptest.frame_len(f) for f in frames)


def main():
    wp, root = sys.argv[1], sys.argv[2]
    ck = wptest.Checker("tshark-pcaps")
    if not wptest.have_tshark():
        print("tshark is not installed: install it (apt-get install tshark); failing")
        ck.check(False, "tshark available")
        ck.finish()
    caps = sorted(glob.glob(os.path.join(root, "pcaps", "*.pcap")) +
                  glob.glob(os.path.join(root, "pcaps", "*.pcapng")))
    ck.check(len(caps) > 0, "pcaps/ holds captures")
    for path in caps:
        name = os.path.basename(path)
        rc, doc, err = wptest.wp_json(wp, ["-r", path])
        if not ck.eq(rc, 0, f"{name}: exit status"):
            print(err)
            continue
        frames = wptest.tshark_frames(path, NO_DEFRAG)
        pk, by = sums(frames)
        ck.eq(doc["totals"]["packets"], pk, f"{name}: total packets = tshark frames")
        ck.eq(doc["totals"]["bytes"], by, f"{name}: total bytes = tshark sum(frame.len)")
        wptest.check_invariant(ck, doc, name)

        # Conversations, frame and byte counts in each direction.
        # an ICMP error quotes the headers of the packet it is about:
        # tshark's transport fields see the quoted ports, whichports
        # counts the frame under ICMP (parity test: "icmp-quote")
        ts = wptest.conversations_from_tshark(
            [f for f in frames if not (f["icmp.type"] or f["icmpv6.type"])])
        ours = wptest.conversations_from_wp(doc)
        matched = 0
        for key, dirs in ts.items():
            mine = ours.get(key)
            ok = mine is not None and all(list(mine[e]) == v for e, v in dirs.items()) and \
                set(k for k, v in mine.items() if v[0]) == set(dirs)
            matched += ok
            ck.check(ok, f"{name}: conversation {key[0]} {sorted(key[1])}",
                     f"tshark {dict(dirs)} whichports {dict(mine) if mine else None}")
        ck.eq(len(ours), len(ts), f"{name}: number of TCP/UDP conversations")
        print(f"{name}: {len(ts)} conversations compared, {matched} matched")

        # Port rows against tshark display filters.
        client_ports = {(f["transport"], f["client_port"]) for f in doc["flows"]}
        compared = 0
        for row in doc["ports"]:
            t, p = row["transport"], row["port"]
            if p is None:
                flt = {"icmp": "icmp", "icmpv6": "icmpv6"}.get(t)
                if flt is None:
                    print(f"{name}: {t} without port not compared (no tshark filter)")
                    continue
            else:
                if (t, p) in client_ports:
                    print(f"{name}: {t}/{p} not compared: the port is also a client port, "
                          f"so tshark's {t}.port filter selects more")
                    continue
                flt = f"{t}.port == {p} && !icmp && !icmpv6"
            fr = wptest.tshark_frames(path, NO_DEFRAG, flt)
            ck.eq((row["packets"], row["bytes"]), sums(fr), f"{name}: row {t}/{p} = tshark '{flt}'")
            # the Apple share is by address, plus flows Apple's by name only
            # (CDN addresses; docs/wireshark.md "apple-name": the name part
            # is taken from whichports, tests/cli/test_apple.py checks the
            # names against tshark's SNI and DNS fields)
            named = [f"(ip.addr=={f['client']} && ip.addr=={f['server']} && "
                     f"{f['transport']}.port=={f['client_port']} && "
                     f"{f['transport']}.port=={f['server_port']})"
                     for f in doc["flows"] if f["apple"] and f["transport"] == t
                     and f["server_port"] == p and not f["server_apple"]
                     and "." in f["server"]]
            apple_flt = " || ".join([f"({APPLE})"] + named)
            fa = wptest.tshark_frames(path, NO_DEFRAG, f"({flt}) && ({apple_flt})")
            ck.eq((row["apple"]["packets"], row["apple"]["bytes"]), sums(fa),
                  f"{name}: row {t}/{p} Apple share = tshark '{flt} && Apple prefixes'")
            compared += 1
        print(f"{name}: {compared} of {len(doc['ports'])} port rows compared with tshark")

    # Facts about apple-session.pcap from how it was made (pcaps/README.md):
    # APNs servers are in Apple's space, the XMPP control servers are not.
    sess = os.path.join(root, "pcaps", "apple-session.pcap")
    if os.path.exists(sess):
        rc, doc, err = wptest.wp_json(wp, ["-r", sess])
        by_server = {}
        for f in doc["flows"]:
            by_server.setdefault((f["server"], f["server_port"]), f)
        for srv in ("17.57.144.20", "2620:149:a44::20"):
            f = by_server.get((srv, 5223))
            ck.check(f is not None and f["service"] == "apns" and f["apple"],
                     f"apple-session: {srv}:5223 is APNs and Apple", str(f))
        for srv in ("198.51.100.7", "2001:db8::7"):
            f = by_server.get((srv, 5223))
            ck.check(f is not None and f["service"] is None and not f["apple"],
                     f"apple-session: {srv}:5223 (XMPP control) is neither APNs nor Apple", str(f))
        for f in doc["flows"]:
            if f["transport"] == "tcp":
                ck.eq(f["how"], "syn", f"apple-session: {f['server']}:{f['server_port']} "
                                      "decided by the handshake")
    ck.finish()


if __name__ == "__main__":
    main()
