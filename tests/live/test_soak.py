#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Memory stays bounded on long runs.

Part 1, days of traffic: a generator writes, through a pipe, a capture of
steady traffic: 2 new TCP connections a second (SYN, SYN-ACK, ACK, data,
FIN), every one from a new client address to a new server address, plus a
DNS query and answer a second. Every address is new, so without limits the
tables of servers and of distinct addresses would grow forever. whichports
reads it with the live default idle timeouts. Its peak memory after two
simulated days must not exceed its peak after one simulated day by more
than 2 MiB (the tables have reached their limits and stay there), while
every per-port total stays exact and the overflow is reported.

Part 2, a live replay loop (root, network namespaces): tcpreplay loops
pcaps/apple-session.pcap into a veth pair at a steady rate for 30 s;
whichports captures with a 50 ms idle timeout, so its flows are evicted and
created again all the time. Its resident memory, sampled each second, must
not grow: the peak of the last third of the run may exceed the peak of the
middle third by at most 256 KiB.

usage: test_soak.py WHICHPORTS SOURCE_ROOT
"""

import json
import os
import struct
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "cli"))
import wptest  # noqa: E402

MEMORY_CHECKED = True


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack(f"!{len(b) // 2}H", b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff


def frame(src, dst, proto, l4):
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), 0, 0x4000, 64, proto, 0, src, dst)
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    return b"\x02\0\0\0\0\x01\x02\0\0\0\0\x02\x08\x00" + ip + l4


def tcp(sp, dp, flags, payload=b""):
    return struct.pack("!HHIIBBHHH", sp, dp, 1, 1, 0x50, flags, 65535, 0, 0) + payload


def udp(sp, dp, payload):
    return struct.pack("!HHHH", sp, dp, 8 + len(payload), 0) + payload


def day_generator(out, seconds, expect):
    """Write a pcap of `seconds` of traffic to `out`; add per-port counts to expect."""
    w = out.write
    w(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
    resolver = bytes([10, 1, 0, 53])
    dns_client = bytes([10, 1, 0, 2])
    t0 = 1_700_000_000
    port = 40000
    payload = b"x" * 100
    for s in range(seconds):
        for k in range(2):
            port = port + 1 if port < 60000 else 40000
            n = s * 2 + k
            srv = bytes([17, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff])
            client = bytes([10, 128 | ((n >> 16) & 0x7f), (n >> 8) & 0xff, n & 0xff])
            sport, dport = port, 443
            pkts = [frame(client, srv, 6, tcp(sport, dport, 0x02)),
                    frame(srv, client, 6, tcp(dport, sport, 0x12)),
                    frame(client, srv, 6, tcp(sport, dport, 0x18, payload)),
                    frame(client, srv, 6, tcp(sport, dport, 0x11)),
                    frame(srv, client, 6, tcp(dport, sport, 0x11))]
            for i, f in enumerate(pkts):
                w(struct.pack("<IIII", t0 + s, k * 1000 + i, len(f), len(f)) + f)
                expect[("tcp", 443)][0] += 1
                expect[("tcp", 443)][1] += len(f)
        q = frame(dns_client, resolver, 17, udp(port, 53, b"q" * 30))
        a = frame(resolver, dns_client, 17, udp(53, port, b"a" * 60))
        for i, f in enumerate((q, a)):
            w(struct.pack("<IIII", t0 + s, 500000 + i, len(f), len(f)) + f)
            expect[("udp", 53)][0] += 1
            expect[("udp", 53)][1] += len(f)


def run_day(ck, wp, seconds):
    """Feed `seconds` of traffic through a pipe; return (peak RSS KiB, doc, expect)."""
    expect = {("tcp", 443): [0, 0], ("udp", 53): [0, 0]}
    p = subprocess.Popen(["/usr/bin/time", "-f", "%M", wp, "-q", "-T", "json", "--no-flows",
                          "--idle-timeout", "tcp=300,fin=30,other=60", "-r", "-"],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    result = {}

    def reader():
        result["out"] = p.stdout.read()
        result["err"] = p.stderr.read()
    th = threading.Thread(target=reader)
    th.start()
    day_generator(p.stdin, seconds, expect)
    p.stdin.close()
    p.wait()
    th.join()
    rss = int(result["err"].decode().strip().splitlines()[-1])
    doc = json.loads(result["out"])
    return rss, doc, expect


def part_day(ck, wp):
    rss_h, doc_h, exp_h = run_day(ck, wp, 86400)
    rss_d, doc_d, exp_d = run_day(ck, wp, 2 * 86400)
    for doc, exp, what in ((doc_h, exp_h, "1 day"), (doc_d, exp_d, "2 days")):
        rows = wptest.port_rows(doc)
        for key, (pk, by) in exp.items():
            r = rows.get(key)
            ck.check(r is not None and (r["packets"], r["bytes"]) == (pk, by),
                     f"day {what}: {key} totals exact after eviction", f"{r and (r['packets'], r['bytes'])} want {(pk, by)}")
        ck.check(doc["totals"]["flows_evicted"] > 0, f"day {what}: idle flows were evicted")
        ck.check(doc["hosts_other"]["flows"] > 0, f"day {what}: servers beyond the table "
                 "limit are counted together")
        ck.eq(sum(h["flows"] for h in doc["hosts"]) + doc["hosts_other"]["flows"],
              doc["totals"]["flows"], f"day {what}: every flow is in a host row")
        ck.eq(doc["peers_exact"], False, f"day {what}: distinct counts marked as lower bounds")
    print(f"soak days: {doc_d['totals']['packets']} packets, {doc_d['totals']['flows']} flows; "
          f"peak RSS after 1 day {rss_h} KiB, after 2 days {rss_d} KiB")
    if MEMORY_CHECKED:
        ck.check(rss_d - rss_h <= 2048, "days: peak memory after 2 days within 2 MiB of after 1",
                 f"{rss_h} KiB -> {rss_d} KiB")


def part_live(ck, wp, root):
    if os.geteuid() != 0:
        print("SKIP part 2: needs root for network namespaces")
        return
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import test_live as tl
    try:
        tl.setup()
    except (RuntimeError, FileNotFoundError) as e:
        tl.teardown()
        print(f"SKIP part 2: cannot create network namespaces: {e}")
        return
    try:
        pcap = os.path.join(root, "pcaps", "apple-session.pcap")
        p = tl.start(wp, ["-T", "json", "--no-flows", "--idle-timeout", "0.05"])
        rep = subprocess.Popen(["ip", "netns", "exec", tl.NS_A, "tcpreplay", "-q", "-i", tl.IF_A,
                                "--loop=0", "--pps=3000", pcap],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        samples = []
        for _ in range(30):
            time.sleep(1)
            with open(f"/proc/{p.pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        samples.append(int(line.split()[1]))
        rep.terminate()
        rep.wait()
        rc, out, err = tl.finish(p)
        doc = json.loads(out.decode().splitlines()[-1])
        mid = max(samples[10:20])
        last = max(samples[20:])
        print(f"soak live: {doc['totals']['packets']} packets, {doc['totals']['flows']} flows, "
              f"{doc['totals']['flows_evicted']} evicted; RSS KiB per second: {samples}")
        ck.check(doc["totals"]["packets"] > 30000, "live: traffic flowed for the whole run")
        ck.check(doc["totals"]["flows_evicted"] > 0, "live: idle flows were evicted")
        if MEMORY_CHECKED:
            ck.check(last - mid <= 256, "live: memory does not grow (last third within 256 KiB "
                     "of the middle third)", f"middle {mid} KiB, last {last} KiB")
    finally:
        tl.teardown()


def sanitized(wp):
    """True for a build with AddressSanitizer, whose quarantine keeps freed
    memory: resident size then says nothing about the program's own use."""
    with open(wp, "rb") as f:
        return b"__asan_init" in f.read()


def main():
    wp, root = sys.argv[1], sys.argv[2]
    ck = wptest.Checker("soak")
    global MEMORY_CHECKED
    MEMORY_CHECKED = not sanitized(wp)
    if not MEMORY_CHECKED:
        print("AddressSanitizer build: counts are checked, resident memory is not "
              "(the sanitizer's quarantine keeps freed memory)")
    part_day(ck, wp)
    part_live(ck, wp, root)
    ck.finish()


if __name__ == "__main__":
    main()
