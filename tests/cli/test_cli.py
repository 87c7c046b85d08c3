#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""The command line as a user meets it: every exit status and its message,
every input format, every output format.

Captures in other formats are made at test time from pcaps/apple-session.pcap
by rewriting its bytes here (byte order, timestamp precision, pcapng), so the
expected numbers are those of the original file, which test_tshark.py checks
against tshark.

usage: test_cli.py WHICHPORTS SOURCE_ROOT
"""

import csv
import gzip
import io
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wptest  # noqa: E402
from wptest import run  # noqa: E402


def read_pcap(data):
    """Parse a little-endian microsecond pcap: (header fields, [(sec, usec, caplen, len, bytes)])."""
    magic, vmaj, vmin, zone, sig, snap, lt = struct.unpack("<IHHiIII", data[:24])
    assert magic == 0xa1b2c3d4, hex(magic)
    recs, off = [], 24
    while off < len(data):
        sec, usec, cap, ln = struct.unpack("<IIII", data[off:off + 16])
        recs.append((sec, usec, cap, ln, data[off + 16:off + 16 + cap]))
        off += 16 + cap
    return (vmaj, vmin, snap, lt), recs


def write_pcap(hdr, recs, big=False, nanos=False):
    vmaj, vmin, snap, lt = hdr
    e = ">" if big else "<"
    magic = 0xa1b23c4d if nanos else 0xa1b2c3d4
    out = [struct.pack(e + "IHHiIII", magic, vmaj, vmin, 0, 0, snap, lt)]
    for sec, usec, cap, ln, b in recs:
        out.append(struct.pack(e + "IIII", sec, usec * 1000 if nanos else usec, cap, ln) + b)
    return b"".join(out)


def pcapng_block(btype, body, big=False):
    e = ">" if big else "<"
    pad = (4 - len(body) % 4) % 4
    body = body + b"\0" * pad
    n = 12 + len(body)
    return struct.pack(e + "II", btype, n) + body + struct.pack(e + "I", n)


def write_pcapng(hdr, recs, big=False, split_iface=False):
    """pcapng with one SHB, one or two IDBs (same data, link type of hdr)
    and EPBs with microsecond timestamps; records alternate interfaces when
    split_iface."""
    e = ">" if big else "<"
    _, _, snap, lt = hdr
    out = [pcapng_block(0x0A0D0D0A, struct.pack(e + "IHHq", 0x1A2B3C4D, 1, 0, -1), big)]
    nif = 2 if split_iface else 1
    for _ in range(nif):
        out.append(pcapng_block(1, struct.pack(e + "HHI", lt, 0, snap), big))
    for i, (sec, usec, cap, ln, b) in enumerate(recs):
        ts = sec * 1000000 + usec
        body = struct.pack(e + "IIIII", i % nif, ts >> 32, ts & 0xffffffff, cap, ln) + b
        out.append(pcapng_block(6, body, big))
    return b"".join(out)


def main():
    wp, root = sys.argv[1], sys.argv[2]
    ck = wptest.Checker("cli")
    sample = os.path.join(root, "pcaps", "apple-session.pcap")
    tmp = tempfile.mkdtemp(prefix="wp-cli-")
    try:
        body(ck, wp, root, sample, tmp)
    finally:
        shutil.rmtree(tmp)
    ck.finish()


def body(ck, wp, root, sample, tmp):
    def path(name):
        return os.path.join(tmp, name)

    raw = open(sample, "rb").read()
    hdr, recs = read_pcap(raw)
    n_recs = len(recs)
    n_bytes = sum(r[3] for r in recs)

    # ---- help, version, usage errors: exit 0 and 2 ------------------------
    rc, out, err = run([wp, "--help"])
    ck.eq(rc, 0, "--help exits 0")
    text = out.decode()
    ck.check("Exit status" in text and "  3  " in text, "--help documents the exit codes")
    rc, out, err = run([wp, "--version"])
    ck.check(rc == 0 and out.decode().startswith("whichports "), "--version")
    for args, msg in [([], "nothing to read"),
                      (["--bogus"], "unknown option"),
                      (["-r"], "needs an argument"),
                      (["-r", sample, "-T", "xml"], "expected text, json, csv or html"),
                      (["-r", sample, "--view", "flows"], "--view applies to --format csv"),
                      (["-i", "lo", "-T", "html", "--interval", "1"],
                       "--interval and -T html cannot be combined"),
                      (["-r", sample, "-i", "lo"], "cannot be combined"),
                      (["-r", sample, "-c", "0"], "count must be"),
                      (["-r", sample, "--top", "x"], "--top"),
                      (["-r", sample, "--idle-timeout", "tcp=x"], "--idle-timeout"),
                      (["-r", sample, "-f", "tcp", "udp"], "also as words")]:
        rc, out, err = run([wp] + args)
        ck.eq(rc, 2, f"usage error {args} exits 2")
        ck.check(msg in err and "--help" in err, f"usage error {args} says '{msg}'", err)

    # ---- cannot run: exit 1, message names the file and the reason --------
    open(path("text.txt"), "w").write("hello, this is not a capture\n" * 10)
    open(path("empty.pcap"), "wb").close()
    with gzip.open(path("sample.pcap.gz"), "wb") as g:
        g.write(raw)
    os.mkdir(path("adir"))
    bad_version = bytearray(raw[:24])
    struct.pack_into("<H", bad_version, 4, 1)
    open(path("v1.pcap"), "wb").write(bytes(bad_version))
    cases = [(path("missing.pcap"), "No such file"),
             (path("text.txt"), "not a pcap or pcapng capture"),
             (path("empty.pcap"), "empty file"),
             (path("sample.pcap.gz"), "gzip-compressed"),
             (path("adir"), "directory"),
             (path("v1.pcap"), "unsupported pcap version 1.4")]
    for p, msg in cases:
        rc, out, err = run([wp, "-r", p])
        ck.eq(rc, 1, f"{os.path.basename(p)} exits 1")
        ck.check(p in err and msg in err, f"{os.path.basename(p)}: message names file and '{msg}'",
                 err)
        ck.eq(out, b"", f"{os.path.basename(p)}: no report")
    # a bad file among good ones fails before any work
    rc, out, err = run([wp, "-r", sample, "-r", path("missing.pcap")])
    ck.check(rc == 1 and out == b"", "a missing second file exits 1 with no report")
    # filters that do not compile
    rc, out, err = run([wp, "-r", sample, "tcp", "port"])
    ck.check(rc == 1 and "filter 'tcp port'" in err, "bad filter exits 1 naming it", err)
    rc, out, err = run([wp, "-r", sample, "-F", path("missing-filter")])
    ck.check(rc == 1 and "missing-filter" in err, "-F with a missing file exits 1 naming it", err)
    # bad data files: error names file and line
    open(path("prefixes.txt"), "w").write("# ok\nipv4 17.0.0.0/8 apple current \"x\" S1\n"
                                          "ipv4 17.0.0.1/8 apple current \"x\" S1\n")
    rc, out, err = run([wp, "-r", sample, "--prefixes", path("prefixes.txt")])
    ck.check(rc == 1 and f"{path('prefixes.txt')}:3:" in err and "host bits" in err,
             "--prefixes: bad line is an error naming file:line", err)
    open(path("services.txt"), "w").write("tcp 80 http any \"Web\"\ntcp 99999 x any \"y\"\n")
    rc, out, err = run([wp, "-r", sample, "--services", path("services.txt")])
    ck.check(rc == 1 and f"{path('services.txt')}:2:" in err, "--services: bad line names file:line",
             err)
    rc, out, err = run([wp, "-r", sample, "-o", path("no/such/dir/out.json")])
    ck.check(rc == 1 and "no/such/dir/out.json" in err, "unwritable -o exits 1 naming it", err)

    # ---- the reference report ------------------------------------------------
    rc, ref, err = wptest.wp_json(wp, ["-r", sample])
    ck.eq(rc, 0, "sample exits 0")
    ck.eq(ref["schema"], "whichports/4", "schema name")
    ck.eq(ref["input"]["mode"], "file", "input.mode")
    ck.eq(ref["input"]["link_types"], ["EN10MB"], "input.link_types")
    ck.eq(ref["input"]["complete"], True, "input.complete")
    ck.eq(ref["totals"]["packets"], n_recs, "packets = records in the file")
    ck.eq(ref["totals"]["bytes"], n_bytes, "bytes = sum of record lengths")
    wptest.check_invariant(ck, ref, "sample")
    first = recs[0][0] + recs[0][1] / 1e6
    ck.check(ref["totals"]["first"].endswith("Z") and ref["totals"]["first"][:19] ==
             __import__("time").strftime("%Y-%m-%dT%H:%M:%S", __import__("time").gmtime(first)),
             "totals.first is the first record's time in UTC", ref["totals"]["first"])
    ck.eq(len(ref["flows"]), ref["totals"]["flows"], "every flow listed")

    def same_numbers(doc, what):
        ck.eq(doc["totals"]["packets"], ref["totals"]["packets"], f"{what}: packets")
        ck.eq(doc["totals"]["bytes"], ref["totals"]["bytes"], f"{what}: bytes")
        ck.eq(doc["ports"], ref["ports"], f"{what}: port rows identical")
        ck.eq(len(doc["flows"]), len(ref["flows"]), f"{what}: flows")

    # ---- every input format gives the same numbers ----------------------------
    variants = {
        "be.pcap": write_pcap(hdr, recs, big=True),
        "ns.pcap": write_pcap(hdr, recs, nanos=True),
        "be-ns.pcap": write_pcap(hdr, recs, big=True, nanos=True),
        "le.pcapng": write_pcapng(hdr, recs),
        "be.pcapng": write_pcapng(hdr, recs, big=True),
        "two-ifaces.pcapng": write_pcapng(hdr, recs, split_iface=True),
        "misnamed.txt": raw,
    }
    for name, data in variants.items():
        open(path(name), "wb").write(data)
        rc, doc, err = wptest.wp_json(wp, ["-r", path(name)])
        ck.eq(rc, 0, f"{name} exits 0")
        same_numbers(doc, name)
    rc, doc, err = wptest.wp_json(wp, ["-r", path("ns.pcap")])
    ck.check(len(doc["totals"]["first"]) == len("2026-01-01T00:00:00.123456789Z"),
             "nanosecond input gives nanosecond timestamps", doc["totals"]["first"])
    # standard input
    rc, doc, err = wptest.wp_json(wp, ["-r", "-"], stdin=raw)
    ck.eq(rc, 0, "-r - exits 0")
    same_numbers(doc, "-r -")
    ck.eq(doc["input"]["sources"], ["-"], "standard input named '-'")
    # two files are one analysis
    half = n_recs // 2
    open(path("a.pcap"), "wb").write(write_pcap(hdr, recs[:half]))
    open(path("b.pcap"), "wb").write(write_pcap(hdr, recs[half:]))
    rc, doc, err = wptest.wp_json(wp, ["-r", path("a.pcap"), "-r", path("b.pcap")])
    ck.eq(rc, 0, "two files exit 0")
    same_numbers(doc, "split in two files")
    rc, doc2, err = wptest.wp_json(wp, ["-j", "2", "-r", path("a.pcap"), "-r", path("b.pcap")])
    ck.eq(doc2["ports"], doc["ports"], "-j 2 gives the same port rows as one thread")
    ck.eq(doc2["flows"], doc["flows"], "-j 2 gives the same flows as one thread")

    # ---- damaged: exit 3, warning naming the file, report of what was read ----
    cut_at = 24 + sum(16 + r[2] for r in recs[:100]) + 16 + 7   # inside record 101's data
    open(path("cut.pcap"), "wb").write(raw[:cut_at])
    rc, out, err = run([wp, "-T", "json", "-r", path("cut.pcap")])
    ck.eq(rc, 3, "file cut inside a record exits 3")
    ck.check(path("cut.pcap") in err and "record 101" in err, "warning names file and record",
             err)
    doc = json.loads(out)
    ck.eq(doc["totals"]["packets"], 100, "report covers the 100 complete records")
    ck.eq(doc["totals"]["bytes"], sum(r[3] for r in recs[:100]), "bytes of the 100 records")
    ck.eq(doc["input"]["complete"], False, "input.complete false")
    ck.check(len(doc["input"]["errors"]) == 1, "input.errors has the message")
    rc, out, err = run([wp, "-r", path("cut.pcap")])
    ck.check(rc == 3 and b"WARNING" in out, "text report shows the warning")
    # a cut record header
    open(path("cuthdr.pcap"), "wb").write(raw[:24 + 16 + recs[0][2] + 9])
    rc, out, err = run([wp, "-T", "json", "-q", "-r", path("cuthdr.pcap")])
    ck.check(rc == 3 and json.loads(out)["totals"]["packets"] == 1, "cut record header: exit 3, 1 packet")
    ck.eq(err, "", "-q silences the warning")

    # ---- filters ------------------------------------------------------------------
    rc, doc, err = wptest.wp_json(wp, ["-r", sample, "tcp", "port", "5223"])
    ck.eq(rc, 0, "filter as trailing words")
    ck.eq(sorted((r["transport"], r["port"]) for r in doc["ports"]), [("tcp", 5223)],
          "only tcp/5223 passes 'tcp port 5223'")
    want = sum(1 for r in ref["ports"] if (r["transport"], r["port"]) == ("tcp", 5223))
    ck.eq(doc["ports"][0]["packets"], [r for r in ref["ports"] if r["port"] == 5223
                                       and r["transport"] == "tcp"][0]["packets"],
          "filtered row equals the unfiltered row")
    ck.eq(want, 1, "reference has a tcp/5223 row")
    rc, doc2, err = wptest.wp_json(wp, ["-r", sample, "-f", "tcp port 5223"])
    ck.eq(doc2["ports"], doc["ports"], "-f EXPR equals trailing words")
    open(path("filter.txt"), "w").write("tcp\nport 5223\n")
    rc, doc3, err = wptest.wp_json(wp, ["-r", sample, "-F", path("filter.txt")])
    ck.eq(doc3["ports"], doc["ports"], "-F FILE equals trailing words")
    rc, doc, err = wptest.wp_json(wp, ["-r", sample, "-c", "10"])
    ck.eq(doc["totals"]["packets"], 10, "-c 10 reads 10 packets")
    ck.eq(doc["totals"]["bytes"], sum(r[3] for r in recs[:10]), "-c 10: their bytes")

    # ---- outputs ------------------------------------------------------------------
    rc, out, err = run([wp, "-T", "json", "-r", sample, "-o", path("out.json")])
    ck.check(rc == 0 and out == b"", "-o writes nothing to stdout")
    ck.eq(json.load(open(path("out.json")))["ports"], ref["ports"], "-o FILE holds the report")
    rc, doc, err = wptest.wp_json(wp, ["-r", sample, "--no-flows"])
    ck.check("flows" not in doc and doc["ports"] == ref["ports"], "--no-flows omits flows only")
    # CSV: RFC 4180, one view at a time, numbers equal JSON
    for view, rows_ref, keyf in [
            ("ports", ref["ports"], lambda r: (r["transport"], r["port"] or "")),
            ("flows", ref["flows"], lambda r: (r["transport"], r["client"], str(r["client_port"]))),
            ("hosts", ref["hosts"], lambda r: (r["addr"],))]:
        rc, out, err = run([wp, "-T", "csv", "--view", view, "-r", sample])
        ck.eq(rc, 0, f"csv {view} exits 0")
        ck.check(b"\r\n" in out, f"csv {view}: CRLF line ends (RFC 4180)")
        rows = list(csv.DictReader(io.StringIO(out.decode(), newline="")))
        ck.eq(len(rows), len(rows_ref), f"csv {view}: one row per JSON entry")
        if view == "ports":
            for r in rows:
                j = [x for x in ref["ports"] if x["transport"] == r["transport"] and
                     str(x["port"] if x["port"] is not None else "") == r["port"]][0]
                ck.eq((int(r["packets"]), int(r["bytes"]), int(r["apple_bytes"])),
                      (j["packets"], j["bytes"], j["apple"]["bytes"]),
                      f"csv ports {r['transport']}/{r['port']} = json")
    # CSV totals: every counter of the JSON totals, malformed reasons included
    rc, out, err = run([wp, "-T", "csv", "--view", "totals", "-r", sample])
    rows = {r["counter"]: int(r["value"]) for r in csv.DictReader(io.StringIO(out.decode(), newline=""))}
    ck.eq(rows.get("packets"), ref["totals"]["packets"], "csv totals: packets")
    ck.eq(rows.get("bytes"), ref["totals"]["bytes"], "csv totals: bytes")
    for reason, v in ref["totals"]["malformed"].items():
        ck.eq(rows.get("malformed." + reason), v, f"csv totals: malformed.{reason}")
    for layer, v in ref["totals"]["truncated_at"].items():
        ck.eq(rows.get("truncated_at." + layer), v, f"csv totals: truncated_at.{layer}")
    for k, v in ref["totals"]["names"].items():
        ck.eq(rows.get("names." + k), v, f"csv totals: names.{k}")
    ck.eq(rows.get("complete"), 1, "csv totals: complete")

    # text: header, tables, aligned and within 80 columns for the ports table
    rc, out, err = run([wp, "-r", sample])
    lines = out.decode().splitlines()
    ck.check(lines[0].startswith("whichports ") and f"{n_recs} packets" in lines[1],
             "text header gives packets", "\n".join(lines[:3]))
    start = lines.index(next(l for l in lines if l.startswith("SERVICE PORTS")))
    table = []
    for l in lines[start + 1:]:
        if not l.strip():
            break
        table.append(l)
    ck.check(all(len(l) <= 80 for l in table), "ports table fits 80 columns",
             max(table, key=len))
    ck.check(table[0].split()[:3] == ["PORT", "PACKETS", "BYTES"], "ports table header")
    col = table[0].index("BYTES") + len("BYTES")
    ck.check(all(l[col - 1] != " " for l in table[1:]), "BYTES column right-aligned")
    ck.check("TOP FLOWS (10 of" in out.decode(), "--top defaults to 10")
    rc, out, err = run([wp, "-r", sample, "--top", "3"])
    ck.check("TOP FLOWS (3 of" in out.decode(), "--top 3")
    rc, out, err = run([wp, "-r", sample, "--filters"])
    ck.check("wireshark: tcp.port == 5223" in out.decode(), "--filters shows display filters")


if __name__ == "__main__":
    main()
