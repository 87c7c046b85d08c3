#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""The timeline (docs/output.md, "timeline"), against the port rows and tshark.

For the captures in pcaps/ and a sample of ../shared/pcaps/:
- every port series' bucket sums equal its totals and its port row's
  packets and bytes; all series together equal all port rows;
- between 128 and 256 buckets once the capture lasts past 256 ms;
- every Apple service's series equals its packets and bytes in `apple`,
  and every process's its row in `processes` (the captures with process
  information in ../shared/pcaps/process are all read);
- the same with -j 2 over several files at once;
- with --bucket SECS, each bucket of the top port series equals the frames
  and bytes of tshark's `-z io,stat,SECS,"tcp.port==N"` interval (compared
  where tshark's filter selects exactly the port row's frames: a client
  port equal to N elsewhere would add frames to tshark's column).

usage: test_timeline.py WHICHPORTS SOURCE_ROOT SHARED_PCAPS
Exits 77 when tshark is missing.
"""

import csv
import glob
import io
import json
import math
import os
import shutil
import subprocess
import sys

failures = []
checks = 0


def check(cond, what):
    global checks
    checks += 1
    if not cond:
        print("FAIL  " + what)
        failures.append(what)
    return cond


def report(wp, files, *extra):
    args = [wp]
    for f in files:
        args += ["-r", f]
    out = subprocess.run(args + ["-T", "json", "--no-flows", "-q", *extra],
                         capture_output=True, text=True)
    if not out.stdout.strip():
        return None  # not a capture whichports can read at all
    try:
        return json.loads(out.stdout)
    except json.JSONDecodeError:
        # a damaged file gives its report, and the JSON reports of several
        # files with -j are one object: anything else is a failure
        raise SystemExit(f"FAIL  no JSON report from {' '.join(args[1:])}: "
                         f"{out.stderr.strip()[:300]}")


def duration_s(rep):
    t = rep["totals"]
    return t.get("duration")


def exactness(rep, name):
    tl = rep["timeline"]
    n = tl["buckets"]
    rows = {(p["transport"], p["port"]): p for p in rep["ports"]}
    check(n <= 256, f"{name}: at most 256 buckets ({n})")
    tot_p = tot_b = 0
    for s in tl["series"]:
        check(len(s["bucket_packets"]) == n and len(s["bucket_bytes"]) == n,
              f"{name}: series arrays have {n} buckets")
        check(sum(s["bucket_packets"]) == s["packets"] and sum(s["bucket_bytes"]) == s["bytes"],
              f"{name}: {s['transport']}/{s['port']}: bucket sums equal the series totals")
        tot_p += s["packets"]
        tot_b += s["bytes"]
        if not s["other"]:
            row = rows.get((s["transport"], s["port"]))
            check(row is not None and row["packets"] == s["packets"] and
                  row["bytes"] == s["bytes"],
                  f"{name}: {s['transport']}/{s['port']}: series equals its port row "
                  f"({s['packets']}/{s['bytes']} vs {row and (row['packets'], row['bytes'])})")
    want_p = sum(p["packets"] for p in rep["ports"])
    want_b = sum(p["bytes"] for p in rep["ports"])
    tot_p += tl["untimed"]["packets"]
    tot_b += tl["untimed"]["bytes"]
    check(tot_p == want_p and tot_b == want_b,
          f"{name}: all series and untimed equal all port rows ({tot_p}/{tot_b} vs {want_p}/{want_b})")
    # Apple services: each series equals the service's rows in `apple`
    want = {a["service"]: (a["packets"], a["bytes"]) for a in rep.get("apple", [])}
    got = {}
    for a in tl["apple"]:
        check(sum(a["bucket_packets"]) == a["packets"] and sum(a["bucket_bytes"]) == a["bytes"]
              and len(a["bucket_packets"]) == n,
              f"{name}: Apple {a['service']}: bucket sums equal the series totals")
        got[a["service"]] = (a["packets"], a["bytes"])
    check(got == want, f"{name}: Apple service series equal the apple view "
                       f"({sorted(got.items())} vs {sorted(want.items())})")
    # processes: each series equals its row in `processes` (sent + received);
    # past 64 processes the rest are one `other` series
    want = {p["name"]: (p["sent"]["packets"] + p["received"]["packets"],
                        p["sent"]["bytes"] + p["received"]["bytes"])
            for p in rep.get("processes", [])}
    got, other = {}, (0, 0)
    for p in tl["processes"]:
        check(sum(p["bucket_packets"]) == p["packets"] and sum(p["bucket_bytes"]) == p["bytes"]
              and len(p["bucket_packets"]) == n,
              f"{name}: process {p['name']}: bucket sums equal the series totals")
        if p["other"]:
            other = (p["packets"], p["bytes"])
        else:
            got[p["name"]] = (p["packets"], p["bytes"])
    if other == (0, 0):
        check(got == want, f"{name}: process series equal the processes table "
                           f"({sorted(got.items())[:5]} vs {sorted(want.items())[:5]})")
    else:
        check(all(want.get(k) == v for k, v in got.items()) and
              sum(v[0] for v in want.values()) == sum(v[0] for v in got.values()) + other[0],
              f"{name}: process series and other equal the processes table")
    # JSON lists every port series (up to 256; later ports in `other`), so
    # that reports merge (--merge): with fewer rows, each row with packets in
    # a bucket has its own series and there is no `other`
    named = [s for s in tl["series"] if not s["other"]]
    check(len(named) <= 256, f"{name}: at most 256 named series")
    if len(rep["ports"]) <= 256 and tl["untimed"]["packets"] == 0:
        keys = set((s["transport"], s["port"]) for s in named)
        want_keys = set((p["transport"], p["port"]) for p in rep["ports"] if p["packets"])
        check(keys == want_keys and not any(s["other"] for s in tl["series"]),
              f"{name}: one series per port row, no other ({len(keys)} vs {len(want_keys)})")
    return n


def io_stat(path, secs, filters):
    """tshark's io,stat table: per interval, (frames, bytes) per filter."""
    args = ["tshark", "-r", path, "-q", "-z", "io,stat,%g,%s" % (secs, ",".join(filters))]
    out = subprocess.run(args, capture_output=True, text=True).stdout
    rows = []
    for ln in out.splitlines():
        if "<>" not in ln:
            continue
        cells = [c.strip() for c in ln.strip().strip("|").split("|")]
        vals = [int(c) for c in cells[1:]]
        rows.append([(vals[2 * i], vals[2 * i + 1]) for i in range(len(filters))])
    return rows


def versus_tshark(wp, path, name):
    """Compare the top port series with tshark's io,stat. Returns the
    number of series compared."""
    rep = report(wp, [path])
    if rep is None:
        return 0
    tl = rep["timeline"]
    if tl["buckets"] == 0:
        return 0
    span = tl["bucket_ns"] * tl["buckets"] / 1e9
    secs = max(1, math.ceil(span / 20))
    rep = report(wp, [path], "--bucket", str(secs))
    tl = rep["timeline"]
    check(tl["bucket_ns"] == secs * 10**9 or tl["buckets"] > 128,
          f"{name}: --bucket {secs} kept ({tl['bucket_ns']})")
    if tl["bucket_ns"] != secs * 10**9:
        return 0
    series = [s for s in tl["series"] if not s["other"] and s["port"] is not None
              and s["transport"] in ("tcp", "udp")][:3]
    if not series:
        return 0
    filters = [f"{s['transport']}.port=={s['port']}" for s in series]
    rows = io_stat(path, secs, filters)
    done = 0
    for k, s in enumerate(series):
        ref = [r[k] for r in rows]
        if sum(f for f, _ in ref) != s["packets"] or sum(b for _, b in ref) != s["bytes"]:
            print(f"note  {name}: {filters[k]} selects other frames too "
                  f"({sum(f for f, _ in ref)} vs {s['packets']}): not compared")
            continue
        n = max(len(ref), tl["buckets"])
        got = [(s["bucket_packets"][i] if i < tl["buckets"] else 0,
                s["bucket_bytes"][i] if i < tl["buckets"] else 0) for i in range(n)]
        want = [ref[i] if i < len(ref) else (0, 0) for i in range(n)]
        bad = [i for i in range(n) if got[i] != want[i]]
        check(not bad, f"{name}: {filters[k]} per {secs} s bucket equals tshark io,stat"
                       + (f" (first differing bucket {bad[0]}: {got[bad[0]]} vs {want[bad[0]]})"
                          if bad else ""))
        done += 1
    return done


def main():
    if len(sys.argv) != 4:
        print(__doc__)
        return 2
    wp, root, shared = os.path.abspath(sys.argv[1]), sys.argv[2], sys.argv[3]
    if shutil.which("tshark") is None:
        print("SKIP: tshark is not installed")
        return 77
    own = sorted(glob.glob(os.path.join(root, "pcaps", "*.pcap*")))
    sample = []
    if os.path.isdir(shared):
        every = sorted(glob.glob(os.path.join(shared, "**", "*.pcap*"), recursive=True))
        sample = every[::6] + [f for f in every if "/process/" in f and f not in every[::6]]
        big = os.path.join(shared, "USTC-TFC2016", "Benign", "Facetime.pcap")
        if os.path.exists(big) and big not in sample:
            sample.append(big)
    coarse = 0
    for path in own + sample:
        name = os.path.relpath(path, root)
        rep = report(wp, [path])
        if rep is None:
            print(f"note  {name}: unreadable, skipped")
            continue
        n = exactness(rep, name)
        t = rep["timeline"]
        if t["bucket_ns"] > 1000000:  # the bucket grew: the capture outgrew 256 ms
            coarse += 1
            check(n >= 128, f"{name}: at least 128 buckets once the bucket grew ({n})")
    check(coarse > 0, "some captures outgrew the first bucket")

    # -j 2 over several files: one timeline
    files = [f for f in own + sample[:12] if report(wp, [f]) is not None][:10]
    rep = report(wp, files, "-j", "2")
    exactness(rep, "-j 2 over %d files" % len(files))

    # the CSV view holds the same series, bucket by bucket
    for path in own + [f for f in sample if "/process/" in f][:2]:
        rep = report(wp, [path])
        if rep is None:
            continue
        out = subprocess.run([wp, "-r", path, "-T", "csv", "--view", "timeline", "-q"],
                             capture_output=True, text=True).stdout
        rows = list(csv.DictReader(io.StringIO(out)))
        tl = rep["timeline"]
        want = {}
        for s in tl["series"]:
            k = ("other", "", "", "") if s["other"] else ("port", s["transport"], str(s["port"] or ""), "")
            want[k] = s["bucket_packets"]
        for a in tl["apple"]:
            want[("apple", "", "", a["service"])] = a["bucket_packets"]
        for p_ in tl["processes"]:
            k = ("other-processes", "", "", "") if p_["other"] else ("process", "", "", p_["name"])
            want[k] = p_["bucket_packets"]
        got = {}
        for r in rows:
            got.setdefault((r["series"], r["transport"], r["port"], r["name"]), []).append(
                int(r["packets"]))
        check(got == want and len(rows) == tl["buckets"] * len(want),
              f"{os.path.relpath(path, root)}: CSV --view timeline holds the JSON series")

    compared = 0
    for path in own + sample[:12] + sample[-1:]:
        compared += versus_tshark(wp, path, os.path.relpath(path, root))
    check(compared >= 5, f"at least 5 port series compared with tshark io,stat ({compared})")
    print(f"{checks - len(failures)} passed, {len(failures)} failed ({compared} series vs tshark)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
