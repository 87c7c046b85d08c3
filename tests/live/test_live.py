#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Live capture between two network namespaces joined by a veth pair.

tcpreplay sends pcaps/apple-session.pcap into one end; whichports captures
on the other. The live counts must equal the offline analysis of the same
capture. Covers: the final report on SIGINT, a filter, -c, --duration,
--interval (several reports, JSON Lines), SIGUSR1, -Z nobody, an unknown
interface, and the interface disappearing during the capture.

Needs root (network namespaces). Exits 77 (skipped) with a message only when
namespaces cannot be made here.

usage: test_live.py WHICHPORTS SOURCE_ROOT
"""

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "cli"))
import wptest  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from netns import remove, sh, veth_pair  # noqa: E402

TAG = f"wpl{os.getpid() % 100000}"
NS_A, NS_B = f"{TAG}a", f"{TAG}b"
IF_A, IF_B = f"{TAG}x", f"{TAG}y"


def setup():
    # no addresses and no IPv6: the kernel must send nothing of its own
    veth_pair(NS_A, IF_A, NS_B, IF_B)


def teardown():
    remove(NS_A, NS_B)


def start(wp, args):
    """Start whichports in namespace B; wait until it says it is listening."""
    p = subprocess.Popen(["ip", "netns", "exec", NS_B, wp, "-i", IF_B] + args,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         env=dict(os.environ, LC_ALL="C", TZ="UTC"))
    line = p.stderr.readline().decode()
    if "listening on" not in line:
        out, err = p.communicate(timeout=10)
        raise RuntimeError(f"whichports did not start: {line}{err.decode()}")
    # drain standard output as it comes: periodic reports can fill a pipe
    p.collected = []
    p.reader = threading.Thread(target=lambda: p.collected.append(p.stdout.read()))
    p.reader.start()
    return p


def replay(pcap, pps=2000):
    sh("ip", "netns", "exec", NS_A, "tcpreplay", "-q", "-i", IF_A, f"--pps={pps}", pcap)
    time.sleep(0.5)  # let the last packets reach the capture


def finish(p, sig=signal.SIGINT, timeout=20):
    if sig is not None:
        p.send_signal(sig)
    p.wait(timeout=timeout)
    p.reader.join(timeout=timeout)
    err = p.stderr.read()
    return p.returncode, b"".join(p.collected), err.decode()


def strip_times(doc):
    """Flows without their timestamps (live and file times differ) and
    without what only live attribution says: process_unknown, and the
    process bits of `state` (its last two digits; the first eight are the
    connection state, compared)."""
    out = []
    for f in doc["flows"]:
        g = {k: v for k, v in f.items() if k not in ("first", "last", "process_unknown")}
        if "state" in g:
            g["state"] = g["state"][:8]
        out.append(g)
    return out


def same_as_offline(ck, doc, ref, what):
    ck.eq(doc["totals"]["packets"], ref["totals"]["packets"], f"{what}: packets = offline")
    ck.eq(doc["totals"]["bytes"], ref["totals"]["bytes"], f"{what}: bytes = offline")
    ck.eq(doc["ports"], ref["ports"], f"{what}: port rows = offline")
    ck.eq(doc["hosts"], ref["hosts"], f"{what}: hosts = offline")
    ck.eq(strip_times(doc), strip_times(ref), f"{what}: flows = offline")


def main():
    wp, root = sys.argv[1], sys.argv[2]
    pcap = os.path.join(root, "pcaps", "apple-session.pcap")
    if os.geteuid() != 0:
        print("SKIP: live tests need root to create network namespaces")
        sys.exit(77)
    try:
        setup()
    except (RuntimeError, FileNotFoundError) as e:
        teardown()
        print(f"SKIP: cannot create network namespaces here: {e}")
        sys.exit(77)
    ck = wptest.Checker("live")
    try:
        scenarios(ck, wp, pcap)
    finally:
        teardown()
    ck.finish()


def scenarios(ck, wp, pcap):
    rc, ref, err = wptest.wp_json(wp, ["-r", pcap])
    assert rc == 0, err

    # 1. SIGINT gives the final report, equal to the offline analysis
    p = start(wp, ["-T", "json"])
    replay(pcap)
    rc, out, err = finish(p)
    ck.eq(rc, 0, "SIGINT: exit 0")
    doc = json.loads(out)
    ck.eq(doc["input"]["mode"], "live", "SIGINT: mode live")
    ck.eq(doc["input"]["sources"], [IF_B], "SIGINT: source is the interface")
    ck.eq(doc["totals"]["dropped"], 0, "SIGINT: no kernel drops at 2000 pps")
    same_as_offline(ck, doc, ref, "SIGINT")

    # 2. a filter, as trailing words
    rc, fref, err = wptest.wp_json(wp, ["-r", pcap, "tcp", "port", "5223"])
    p = start(wp, ["-T", "json", "tcp", "port", "5223"])
    replay(pcap)
    rc, out, err = finish(p)
    doc = json.loads(out)
    ck.eq(rc, 0, "filter: exit 0")
    same_as_offline(ck, doc, fref, "filter 'tcp port 5223'")

    # 3. -c stops by itself after COUNT packets
    rc, cref, err = wptest.wp_json(wp, ["-r", pcap, "-c", "50"])
    p = start(wp, ["-T", "json", "-c", "50"])
    replay(pcap)
    rc, out, err = finish(p, sig=None)
    ck.eq(rc, 0, "-c 50: exits 0 by itself")
    doc = json.loads(out)
    ck.eq(doc["totals"]["packets"], 50, "-c 50: 50 packets")
    ck.eq(doc["totals"]["bytes"], cref["totals"]["bytes"], "-c 50: bytes of the first 50")

    # 4. --duration stops by itself
    t0 = time.monotonic()
    p = start(wp, ["-T", "json", "--duration", "2"])
    rc, out, err = finish(p, sig=None)
    took = time.monotonic() - t0
    ck.check(rc == 0 and 1.9 <= took < 8, "--duration 2: exits 0 after about 2 s", f"{rc} {took}")
    ck.eq(json.loads(out)["totals"]["packets"], 0, "--duration: nothing sent, nothing counted")

    # 5. --interval: JSON Lines, several reports, the last equal to offline
    p = start(wp, ["-T", "json", "--interval", "0.5"])
    replay(pcap, pps=200)  # about 1.6 s
    time.sleep(1.0)
    rc, out, err = finish(p)
    lines = [l for l in out.decode().splitlines() if l.strip()]
    ck.check(len(lines) >= 3, "--interval 0.5: several reports", f"{len(lines)} lines")
    docs = [json.loads(l) for l in lines]
    ck.check(all("interval" in d for d in docs), "--interval: every line has its interval")
    counts = [d["totals"]["packets"] for d in docs]
    ck.check(counts == sorted(counts), "--interval: counts since the start never decrease",
             str(counts))
    ck.check(any(0 < c < ref["totals"]["packets"] for c in counts),
             "--interval: a report during the replay", str(counts))
    same_as_offline(ck, docs[-1], ref, "--interval final line")
    ends = [d["interval"]["end"] for d in docs]
    ck.check(ends == sorted(ends), "--interval: interval ends increase")

    # 5b. --answer-timeout on a silent link: a UDP query nobody answers is
    # pending in the reports before the timeout and unanswered in those after
    # it, although no packet came since (the wall clock decides, live)
    one = os.path.join(os.path.dirname(pcap), "outcomes.pcap")
    with tempfile.TemporaryDirectory() as tmp:
        q = os.path.join(tmp, "one.pcap")
        sh("tshark", "-r", one, "-Y", "udp.dstport == 8010", "-w", q, "-F", "pcap")
        p = start(wp, ["-T", "json", "--interval", "0.5", "--answer-timeout", "2"])
        t0 = time.monotonic()
        replay(q)
        time.sleep(max(0.0, 4.5 - (time.monotonic() - t0)))
        rc, out, err = finish(p)
    docs = [json.loads(l) for l in out.decode().splitlines() if l.strip()]
    seen = [[f["outcome"] for f in d["flows"] if f["server_port"] == 8010] for d in docs[:-1]]
    seen = [x[0] for x in seen if x]
    ck.check(len(seen) >= 3 and seen[0] == "pending" and seen[-1] == "unanswered",
             "--answer-timeout 2: pending, then unanswered with no packet since", str(seen))

    # 6. SIGUSR1 prints a report and goes on
    p = start(wp, ["-T", "json"])
    replay(pcap)
    p.send_signal(signal.SIGUSR1)
    time.sleep(0.5)
    replay(pcap)
    rc, out, err = finish(p)
    docs = [json.loads(l) for l in out.decode().splitlines() if l.strip()]
    ck.eq(len(docs), 2, "SIGUSR1: one report then the final one")
    if len(docs) == 2:
        ck.eq(docs[0]["totals"]["packets"], ref["totals"]["packets"], "SIGUSR1: first report")
        ck.eq(docs[1]["totals"]["packets"], 2 * ref["totals"]["packets"],
              "SIGUSR1: capture went on")

    # 7. -Z nobody: the capture keeps working without root
    p = start(wp, ["-T", "json", "-Z", "nobody"])
    uid = sh("ps", "-o", "uid=", "-p", str(p.pid)).stdout.strip()
    nobody = sh("id", "-u", "nobody").stdout.strip()
    ck.eq(uid, nobody, "-Z nobody: the process runs as nobody")
    replay(pcap)
    rc, out, err = finish(p)
    ck.eq(rc, 0, "-Z nobody: exit 0")
    same_as_offline(ck, json.loads(out), ref, "-Z nobody")

    # 8. an unknown interface: message naming it, exit 1
    rc, out, err = wptest.run(["ip", "netns", "exec", NS_B, wp, "-i", "nosuch0"])
    ck.eq(rc, 1, "unknown interface: exit 1")
    ck.check("'nosuch0'" in err and "no such device" in err, "unknown interface: message", err)
    rc, out, err = wptest.run(["ip", "netns", "exec", NS_B, wp, "-i", IF_B, "tcp", "port"])
    ck.check(rc == 1 and "filter 'tcp port'" in err, "bad live filter: exit 1 naming it", err)

    # 9. the interface disappears: final report of what was seen, warning, exit 3
    p = start(wp, ["-T", "json"])
    replay(pcap)
    sh("ip", "-n", NS_A, "link", "del", IF_A)
    rc, out, err = finish(p, sig=None, timeout=15)
    ck.eq(rc, 3, "interface gone: exit 3")
    ck.check("stopped" in err and IF_B in err, "interface gone: warning names it", err)
    doc = json.loads(out) if out else None
    ck.check(doc is not None and doc["input"]["complete"] is False,
             "interface gone: report marked incomplete")
    if doc:
        same_as_offline(ck, doc, ref, "interface gone")


if __name__ == "__main__":
    main()
