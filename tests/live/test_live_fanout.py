#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Live -j 2: two capture threads in one PACKET_FANOUT group.

tcpreplay sends captures into one end of a veth pair between two network
namespaces; whichports -i -j 2 captures on the other. The final report must
equal the offline analysis of the same captures (totals, port rows with
packets and bytes, hosts, flows), with no kernel drops and every packet
sent (tcpreplay's own count), so that nothing the kernel dropped or added
hides a difference. -c counts over both threads. A periodic report (--interval) is a merge of both
threads too: its packets never exceed the final ones. On the "any" device
fanout is not available: one thread, said on standard error.

The second capture, from ../shared/pcaps, is skipped when that directory is
missing. Needs root (network namespaces): exits 77 otherwise.

usage: test_live_fanout.py WHICHPORTS SOURCE_ROOT
"""

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "cli"))
import wptest  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from netns import remove, sh, veth_pair  # noqa: E402

TAG = f"wpf{os.getpid() % 100000}"
NS_A, NS_B = f"{TAG}a", f"{TAG}b"
IF_A, IF_B = f"{TAG}x", f"{TAG}y"
BIG = os.path.join("zeek", "testing", "btest", "Traces", "ftp", "cwd-navigation.pcap")


def setup():
    # no addresses and no IPv6: the kernel must send nothing of its own
    veth_pair(NS_A, IF_A, NS_B, IF_B)


def teardown():
    remove(NS_A, NS_B)


def start(wp, iface, args):
    p = subprocess.Popen(["ip", "netns", "exec", NS_B, wp, "-i", iface] + args,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         env=dict(os.environ, LC_ALL="C", TZ="UTC"))
    p.errlines = []
    while True:
        line = p.stderr.readline().decode()
        p.errlines.append(line)
        if "listening on" in line or line == "":
            break
    if "listening on" not in line:
        out, err = p.communicate(timeout=10)
        raise RuntimeError(f"whichports did not start: {''.join(p.errlines)}{err.decode()}")
    p.collected = []
    p.reader = threading.Thread(target=lambda: p.collected.append(p.stdout.read()))
    p.reader.start()
    return p


def replay(pcap, pps):
    """Send `pcap`; the number of packets tcpreplay says it sent."""
    r = sh("ip", "netns", "exec", NS_A, "tcpreplay", "-i", IF_A, f"--pps={pps}", pcap)
    m = re.search(r"Successful packets:\s+(\d+)", r.stdout)
    time.sleep(0.5)
    return int(m.group(1)) if m else -1


def finish(p):
    p.send_signal(signal.SIGINT)
    p.wait(timeout=30)
    p.reader.join(timeout=30)
    return p.returncode, b"".join(p.collected), "".join(p.errlines) + p.stderr.read().decode()


def strip_times(doc):
    return [{k: v for k, v in f.items() if k not in ("first", "last")} for f in doc["flows"]]


def records(pcap):
    """Packets in a capture, counted by tcpdump (a separate reader)."""
    r = sh("tcpdump", "-r", pcap, "-nn", "-q")
    return len([l for l in r.stdout.splitlines() if l.strip()])


def main():
    wp, root = sys.argv[1], sys.argv[2]
    if os.geteuid() != 0:
        print("SKIP: live tests need root to create network namespaces")
        sys.exit(77)
    try:
        setup()
    except (RuntimeError, FileNotFoundError) as e:
        teardown()
        print(f"SKIP: cannot create network namespaces here: {e}")
        sys.exit(77)
    ck = wptest.Checker("live-fanout")
    try:
        scenarios(ck, wp, root)
    finally:
        teardown()
    ck.finish()


def scenarios(ck, wp, root):
    pcaps = [os.path.join(root, "pcaps", "apple-session.pcap")]
    big = os.path.join(root, "..", "shared", "pcaps", BIG)
    if os.path.exists(big):
        pcaps.append(big)
    else:
        ck.skip("../shared/pcaps missing: the bigger capture is not replayed")

    for pcap in pcaps:
        name = os.path.basename(pcap)
        rc, ref, err = wptest.wp_json(wp, ["-r", pcap])
        assert rc == 0, err
        p = start(wp, IF_B, ["-j", "2", "-T", "json", "--no-process"])
        sent = replay(pcap, 4000)
        rc, out, err = finish(p)
        ck.eq(rc, 0, f"{name}: -j 2 exits 0")
        ck.check("2 capture threads" in err, f"{name}: two capture threads ({err.strip()})")
        docs = [json.loads(l) for l in out.decode().splitlines() if l.strip()]
        doc = docs[-1]
        t = doc["totals"]
        ck.eq(sent, records(pcap), f"{name}: tcpreplay sent every packet")
        ck.eq(t["dropped"], 0, f"{name}: no kernel drops (pcap_stats, both handles)")
        ck.eq(t["packets"], ref["totals"]["packets"], f"{name}: packets = offline")
        ck.eq(t["packets"], sent, f"{name}: packets = sent")
        ck.eq(t["bytes"], ref["totals"]["bytes"], f"{name}: bytes = offline")
        ck.eq(t["flows"], ref["totals"]["flows"], f"{name}: flows = offline")
        ck.eq(doc["ports"], ref["ports"], f"{name}: port rows (packets, bytes) = offline")
        ck.eq(doc["hosts"], ref["hosts"], f"{name}: hosts = offline")
        ck.eq(strip_times(doc), strip_times(ref), f"{name}: flows listed = offline")

    # periodic reports merge the threads too
    pcap = pcaps[-1]
    rc, ref, err = wptest.wp_json(wp, ["-r", pcap])
    p = start(wp, IF_B, ["-j", "2", "-T", "json", "--no-flows", "--no-process",
                         "--interval", "1"])
    replay(pcap, 4000)
    time.sleep(1.2)
    rc, out, err = finish(p)
    docs = [json.loads(l) for l in out.decode().splitlines() if l.strip()]
    ck.check(len(docs) >= 2, f"--interval -j 2: several reports ({len(docs)})")
    ck.eq(docs[-2]["totals"]["packets"], ref["totals"]["packets"],
          "--interval -j 2: the last periodic report has every packet (both threads)")
    ck.eq(docs[-1]["totals"]["packets"], ref["totals"]["packets"],
          "--interval -j 2: final packets = offline")

    # SIGUSR1: a report now, merged over both threads
    p = start(wp, IF_B, ["-j", "2", "-T", "json", "--no-flows", "--no-process"])
    replay(pcap, 4000)
    p.send_signal(signal.SIGUSR1)
    time.sleep(1.5)
    rc, out, err = finish(p)
    docs = [json.loads(l) for l in out.decode().splitlines() if l.strip()]
    ck.eq(len(docs), 2, "SIGUSR1 -j 2: a report, then the final one")
    ck.eq(docs[0]["totals"]["packets"] if docs else None, ref["totals"]["packets"],
          "SIGUSR1 -j 2: the report has every packet")

    # a filter on every handle of the group
    rc, ref, err = wptest.wp_json(wp, ["-r", pcaps[0], "udp"])
    p = start(wp, IF_B, ["-j", "2", "-T", "json", "--no-process", "udp"])
    replay(pcaps[0], 4000)
    rc, out, err = finish(p)
    docs = [json.loads(l) for l in out.decode().splitlines() if l.strip()]
    ck.eq(docs[-1]["totals"]["packets"], ref["totals"]["packets"],
          "filter udp -j 2: packets = offline")
    ck.eq(docs[-1]["ports"], ref["ports"], "filter udp -j 2: port rows = offline")

    # -c over both threads: exactly that many packets, then the process ends
    p = start(wp, IF_B, ["-j", "2", "-c", "100", "-T", "json", "--no-flows", "--no-process"])
    replay(pcaps[0], 4000)
    p.wait(timeout=20)
    p.reader.join(timeout=20)
    docs = [json.loads(l) for l in b"".join(p.collected).decode().splitlines() if l.strip()]
    ck.eq(p.returncode, 0, "-c 100 -j 2: ends by itself, exit 0")
    ck.eq(docs[-1]["totals"]["packets"] if docs else None, 100,
          "-c 100 -j 2: 100 packets over the two threads")

    # the "any" device: no fanout, one thread, said so
    p = start(wp, "any", ["-j", "2", "-T", "json", "--no-flows", "--no-process"])
    rc, out, err = finish(p)
    ck.eq(rc, 0, "-i any -j 2: exits 0")
    ck.check("one capture thread only" in err and "any" in err,
          f"-i any -j 2: says fanout is not available ({err.strip()})")


if __name__ == "__main__":
    main()
