#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Compare two whichports binaries on the same inputs: CPU time, interleaved.

    python3 bench/ab.py -a OLD -b NEW [-n RUNS] FILE...

For a change that should not cost time (a refactoring of the per-packet
path): each round runs A then B (then B then A in the next round, so that
neither always goes first) on every FILE, as the benchmark runs whichports
(`-q -T json --no-flows -r FILE -o /dev/null`), and takes the CPU time
(user + system) of each run from wait4(), which other work on a busy machine
disturbs less than the wall time. Prints, per file, the median and the
minimum CPU time of each binary and B's median over A's, with the spread of
that ratio over the rounds (B/A of each round: quartiles).
"""

import argparse
import os
import statistics
import subprocess
import sys


def cpu_of(argv):
    """CPU seconds (user + system) of one run; exits on failure."""
    p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, ru = os.wait4(p.pid, 0)
    if os.waitstatus_to_exitcode(status) not in (0, 3):
        sys.exit(f"ab: {' '.join(argv)} failed ({status})")
    return ru.ru_utime + ru.ru_stime


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-a", required=True, help="the binary before the change")
    ap.add_argument("-b", required=True, help="the binary after the change")
    ap.add_argument("-n", type=int, default=20, help="rounds (default 20)")
    ap.add_argument("files", nargs="+")
    args = ap.parse_args()
    cmd = lambda wp, f: [wp, "-q", "-T", "json", "--no-flows", "-r", f, "-o", "/dev/null"]
    for f in args.files:
        for wp in (args.a, args.b):
            cpu_of(cmd(wp, f))  # warm the page cache
        ta, tb = [], []
        for i in range(args.n):
            order = ((args.a, ta), (args.b, tb)) if i % 2 == 0 else ((args.b, tb), (args.a, ta))
            for wp, out in order:
                out.append(cpu_of(cmd(wp, f)))
        ratios = sorted(b / a for a, b in zip(ta, tb) if a > 0)
        q = statistics.quantiles(ratios, n=4) if len(ratios) >= 2 else [ratios[0]] * 3
        ma, mb = statistics.median(ta), statistics.median(tb)
        print(f"{os.path.basename(f)}: {args.n} rounds; CPU s median (min): "
              f"A {ma:.4f} ({min(ta):.4f}), B {mb:.4f} ({min(tb):.4f}); "
              f"B/A of medians {mb / ma:.3f}, of minima {min(tb) / min(ta):.3f}; "
              f"per-round B/A quartiles {q[0]:.3f} {q[1]:.3f} {q[2]:.3f}")


if __name__ == "__main__":
    main()
