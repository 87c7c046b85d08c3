#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""The same input gives the same report, byte for byte, whatever the per-run
hash key: bounded lists (the names kept per port row and per host, past
their limits) are filled in an order that depends on the input only.

Each capture is analysed several times, each run with its own random key
(the default) and once with the fixed Jenkins hash, in JSON and CSV, alone
and with -j 2 over two inputs.

Usage: test_determinism.py WHICHPORTS SRCDIR SHARED_PCAPS"""

import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wptest  # noqa: E402

RUNS = 4
# captures with more names per port row than a row keeps (WP_ROW_NAMES)
CAPTURES = ["nDPI/tests/cfgs/default/pcap/teams.pcap",
            "nDPI/tests/cfgs/default/pcap/iphone.pcap",
            "nDPI/tests/cfgs/default/pcap/android.pcap"]


def out(wp, args, env=None):
    e = dict(os.environ)
    e.pop("WHICHPORTS_HASH", None)
    e.update(env or {})
    p = subprocess.run([wp, "-q"] + args, capture_output=True, env=e, timeout=300)
    return p.returncode, p.stdout


def main():
    wp, src, shared = sys.argv[1], sys.argv[2], sys.argv[3]
    ck = wptest.Checker("determinism")
    inputs = [os.path.join(src, "pcaps", "apple-session.pcap")]
    root = wptest.shared_pcaps(ck, shared, "public captures with many names")
    if root:
        for c in CAPTURES:
            p = os.path.join(root, c)
            if os.path.exists(p):
                inputs.append(p)
            else:
                ck.skip(c)
    variants = [["-T", "json", "-r", f] for f in inputs]
    variants += [["-T", "csv", "--view", "ports", "-r", f] for f in inputs]
    if len(inputs) > 2:
        variants.append(["-T", "json", "-j", "2", "-r", inputs[1], "-r", inputs[2]])
    for args in variants:
        what = " ".join(os.path.basename(a) for a in args)
        first = out(wp, args, {"WHICHPORTS_HASH": "jenkins"})
        ck.eq(first[0], 0, f"{what}: exit status")
        ck.check(len(first[1]) > 0, f"{what}: a report")
        for i in range(RUNS):
            got = out(wp, args)
            ck.check(got == first, f"{what}: run {i + 1} with its own hash key equals the "
                     "run with the fixed hash")
    ck.finish()


if __name__ == "__main__":
    main()
