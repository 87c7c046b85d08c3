#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Damaged and hostile input (issue: never crashes, never lies).

1. whichports runs over every file under SHARED_PCAPS (recursively, when the
   folder exists; one line per file with its exit status) and over the
   regression captures of tests/regress/ (also with --max-flows 2
   --idle-timeout 1), as JSON, text and CSV (JSON only in a sanitizer build).
2. Systematically damaged copies of real captures, written to a temporary
   directory only: pcaps/apple-session.pcap and a few small public captures
   of different formats (pcapng with several interfaces, big-endian pcap,
   nanosecond pcap, ...), each
     - cut at every offset of its first 200 bytes and at ~100 evenly spaced
       offsets,
     - with bytes flipped at random positions (fixed seed),
     - with length fields set to 0, 0xffff and 0xffffffff: pcap record caplen
       and len; pcapng block total lengths, EPB caplen/len, SPB length and
       option lengths; in the frames, IPv4 total length and IHL, IPv6 payload
       length, UDP length and TCP data offset, at offsets computed from the
       file structure.
3. Crafted captures with one frame per malformation reason and one per
   truncation point, built byte by byte (the depth limits are read from
   include/wp/decode.h): each named counter must be exactly 1 in JSON, the
   names must show in the text report, and CSV must work; and non-IP frames
   (ARP, LLDP, 802.3, PPPoE control, MPLS with a non-IP payload) must count
   as other, with and without --no-tunnels.

In a sanitizer build (detected from the binary) the variants are fewer: the
test stays within a few minutes.

Every run must: exit with 0, 1 or 3 (not a signal, not 2); print nothing that
looks like a sanitizer report; with 0 or 3 write a complete JSON report that
parses, whose totals add up (wptest.check_invariant) and in which every
undecodable frame has a named reason (undecodable <= truncated +
malformed); with 3 say
input.complete == false and warn on stderr naming the file; with 1 print a
one-line error naming the file.

WP_DAMAGED_KEEP=DIR copies every input that failed into DIR.

usage: test_damaged.py WHICHPORTS SOURCE_ROOT SHARED_PCAPS
"""

import concurrent.futures
import csv
import io
import json
import os
import random
import re
import shutil
import struct
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wptest  # noqa: E402
from wptest import run  # noqa: E402

SANITIZER = re.compile(r"ERROR: (Address|Leak|Thread|Memory|UndefinedBehavior)Sanitizer|"
                       r"runtime error:|==\d+==ERROR|SUMMARY: \w+Sanitizer")

# Public captures damaged in part 2 (relative to SHARED_PCAPS): format notes.
DAMAGE_PUBLIC = [
    "nDPI/tests/cfgs/default/pcap/stun.pcap",                           # pcapng, 5 interfaces, ns
    "pcapng-test-generator/output_le/difficult/test202.pcapng",         # 3 sections, both orders
    "pcapng-test-generator/output_be/basic/test006.pcapng",             # BE, EN10MB + NULL
    "nDPI/tests/cfgs/default/pcap/nfsv3.pcap",                          # big-endian pcap
    "arkime/tests/pcap/ipv6-gtp6.pcap",                                 # nanosecond pcap, GTP
    "suricata-verify/tests/decode-sll2-01/input.pcap",                  # LINUX_SLL2
    "tcpdump/tests/LINKTYPE_PKTAP.pcap",                                # PKTAP
    "process/apple-tcpdump/radar-88502733.pcapng",                      # Darwin process blocks
    "process/ptcpdump/curl-user.pcapng",                                # process comments
]

# Files of SHARED_PCAPS whose exit status is known (MANIFEST.md).
EXPECTED_STATUS = {
    "suricata-verify/tests/http-mime-truncated/input.pcap": 3,          # last record cut short
    "suricata-verify/tests/bug-1450-04/tls_DER-incomplete-header.pcap": 3,
    "suricata-verify/tests/bug-6875-01/fuzz.pcap": 3,
    "nDPI/tests/cfgs/default/pcap/fuzz-2021-10-13.pcap": 3,
    "zeek/testing/btest/Traces/echo-connections.pcap.gz": 1,            # gzip
    "MANIFEST.md": 1,
    "manifest.tsv": 1,
}


class Limited(wptest.Checker):
    """A thread-safe Checker that prints at most `limit` failures per kind (a
    systematic fault would otherwise print thousands), and keeps failing
    inputs when WP_DAMAGED_KEEP is set."""

    def __init__(self, name, limit=8):
        super().__init__(name)
        self.limit = limit
        self.kinds = {}
        self.keep = os.environ.get("WP_DAMAGED_KEEP")
        self.lock = threading.RLock()

    def check(self, cond, what, detail=""):
        with self.lock:
            return super().check(cond, what, detail)

    def ok(self):
        with self.lock:
            self.passed += 1

    def fail_kind(self, kind, what, detail="", path=None):
        with self.lock:
            n = self.kinds.get(kind, 0) + 1
            self.kinds[kind] = n
            if self.keep and path and os.path.isfile(path):
                os.makedirs(self.keep, exist_ok=True)
                shutil.copy(path, os.path.join(self.keep, os.path.basename(path)))
            if n <= self.limit:
                self.check(False, what, detail)
            else:
                self.failed += 1
                if n == self.limit + 1:
                    print(f"FAIL: ... further '{kind}' failures not shown")


class Quiet(wptest.Checker):
    """Collects failures of wptest.check_invariant without printing them."""

    def __init__(self):
        super().__init__("quiet")
        self.failures = []

    def check(self, cond, what, detail=""):
        if cond:
            self.passed += 1
        else:
            self.failed += 1
            self.failures.append(f"{what}: {detail}")
        return cond


def is_sanitized(wp):
    with open(wp, "rb") as f:
        return b"__asan_init" in f.read()


# ---- one run and its assertions -----------------------------------------------


def check_run(ck, wp, path, label, fmt_args=("-T", "json")):
    """Run whichports on `path` and check the contract. Returns (status, doc)."""
    rc, out, err = run([wp] + list(fmt_args) + ["-r", path], timeout=300)
    json_fmt = "json" in fmt_args
    what = f"{label}"
    if rc not in (0, 1, 3):
        ck.fail_kind("status", f"{what}: exit status {rc} (want 0, 1 or 3)",
                     err.strip()[-2000:], path)
        return rc, None
    if SANITIZER.search(err):
        ck.fail_kind("sanitizer", f"{what}: sanitizer report", err.strip()[-3000:], path)
    ck.ok()
    if rc == 1:
        lines = [ln for ln in err.splitlines() if ln.strip()]
        if len(lines) != 1 or path not in lines[0]:
            ck.fail_kind("error-message", f"{what}: status 1 needs one error line naming the file",
                         f"stderr: {err.strip()[:500]!r}", path)
        if out:
            ck.fail_kind("error-stdout", f"{what}: status 1 but something on stdout",
                         out[:200].decode("utf-8", "replace"), path)
        return rc, None
    doc = None
    if json_fmt:
        try:
            doc = json.loads(out)
        except ValueError as e:
            ck.fail_kind("json", f"{what}: the JSON report does not parse: {e}",
                         out[-300:].decode("utf-8", "replace"), path)
            return rc, None
        q = Quiet()
        wptest.check_invariant(q, doc, what)
        if q.failures:
            ck.fail_kind("invariant", q.failures[0], "; ".join(q.failures[1:4]), path)
        else:
            ck.ok()
        t = doc["totals"]
        named = t["truncated"] + sum(t["malformed"].values())
        if t["undecodable_packets"] > named:
            ck.fail_kind("reason", f"{what}: {t['undecodable_packets']} undecodable frames but "
                         f"only {named} truncated or malformed ones: some have no named reason",
                         "", path)
        complete = doc.get("input", {}).get("complete")
        if rc == 3 and complete is not False:
            ck.fail_kind("complete", f"{what}: status 3 but input.complete is {complete!r}",
                         "", path)
        if rc == 0 and complete is not True:
            ck.fail_kind("complete", f"{what}: status 0 but input.complete is {complete!r}",
                         "", path)
    elif not out:
        ck.fail_kind("empty", f"{what}: status {rc} but no report", "", path)
    if rc == 3:
        warned = [ln for ln in err.splitlines()
                  if ln.startswith("whichports: warning:") and path in ln]
        if not warned:
            ck.fail_kind("warning", f"{what}: status 3 without a warning naming the file",
                         f"stderr: {err.strip()[:500]!r}", path)
    return rc, doc


# ---- part 1: every shared capture ------------------------------------------


def all_files(top):
    out = []
    for d, dirs, files in os.walk(top):
        dirs.sort()
        for f in sorted(files):
            out.append(os.path.join(d, f))
    return out


def part_shared(ck, wp, shared, root, pool, slow):
    paths = []
    if os.path.isdir(shared):
        paths = all_files(shared)
    else:
        print(f"{shared}: not present, the public captures are not run")
    regress = os.path.join(root, "tests", "regress")
    n_shared = len(paths)
    if os.path.isdir(regress):
        paths += [p for p in all_files(regress) if p.endswith((".pcap", ".pcapng"))]
    formats = [("-T", "json"), ("-T", "text"), ("-T", "csv", "--view", "flows")]
    if slow:
        formats = formats[:1]
    # regression captures also with eviction and idle timeouts
    bounded = ("-T", "json", "--max-flows", "2", "--idle-timeout", "1")
    work = [(p, f) for p in paths for f in formats]
    work += [(p, bounded) for p in paths[n_shared:]]
    jobs = {pool.submit(check_run, ck, wp, p, (os.path.relpath(p, shared) if p.startswith(shared)
                                               else os.path.relpath(p, root)) + " " + " ".join(f),
                        f): (p, f) for p, f in work}
    status = {}
    for fut in concurrent.futures.as_completed(jobs):
        p, f = jobs[fut]
        rc, _ = fut.result()
        status.setdefault(p, {})[" ".join(f[1:])] = rc
    for p in paths:
        rel = os.path.relpath(p, shared) if p.startswith(shared) else os.path.relpath(p, root)
        st = status[p]
        print(f"  exit {st['json']}  {rel}" + ("" if len(set(st.values())) == 1
                                               else f"  (by options: {st})"))
        ck.check(len(set(st.values())) == 1, f"{rel}: the same status with every option", str(st))
        if rel in EXPECTED_STATUS:
            ck.eq(st["json"], EXPECTED_STATUS[rel], f"{rel}: exit status")
    print(f"part 1: {len(paths)} files, {len(work)} runs")


# ---- part 2: damaged copies ----------------------------------------------------


def pcap_records(data):
    """Classic pcap: (endian, rec_hdr_len, linktype, [(hdr_off, data_off, caplen)])."""
    magic = data[:4]
    table = {b"\xd4\xc3\xb2\xa1": ("<", 16), b"\x4d\x3c\xb2\xa1": ("<", 16),
             b"\x34\xcd\xb2\xa1": ("<", 24), b"\xa1\xb2\xc3\xd4": (">", 16),
             b"\xa1\xb2\x3c\x4d": (">", 16), b"\xa1\xb2\xcd\x34": (">", 24)}
    e, hl = table[magic]
    lt = struct.unpack(e + "I", data[20:24])[0] & 0xffff
    recs, off = [], 24
    while off + hl <= len(data):
        cap = struct.unpack(e + "I", data[off + 8:off + 12])[0]
        if off + hl + cap > len(data):
            break
        recs.append((off, off + hl, cap))
        off += hl + cap
    return e, hl, lt, recs


def pcapng_blocks(data):
    """pcapng: [(offset, endian, type, total_len)] and [(data_off, caplen, linktype)]."""
    blocks, frames, off, e, ifaces = [], [], 0, "<", []
    while off + 12 <= len(data):
        t = struct.unpack("<I", data[off:off + 4])[0]
        if t == 0x0A0D0D0A:
            e = "<" if data[off + 8:off + 12] == b"\x4d\x3c\x2b\x1a" else ">"
            ifaces = []
        t = struct.unpack(e + "I", data[off:off + 4])[0]
        n = struct.unpack(e + "I", data[off + 4:off + 8])[0]
        if n < 12 or off + n > len(data):
            break
        blocks.append((off, e, t, n))
        if t == 1:
            ifaces.append(struct.unpack(e + "H", data[off + 8:off + 10])[0])
        elif t == 6 and off + 28 <= len(data):
            ifid, _, _, cap = struct.unpack(e + "IIII", data[off + 8:off + 24])
            if ifid < len(ifaces):
                frames.append((off + 28, cap, ifaces[ifid]))
        elif t == 3 and ifaces:
            frames.append((off + 12, min(struct.unpack(e + "I", data[off + 8:off + 12])[0],
                                         n - 16), ifaces[0]))
        off += n
    return blocks, frames


def options_at(data, start, end, e):
    """Offsets of the length fields of the options in data[start:end]."""
    out = []
    while start + 4 <= end:
        code, ln = struct.unpack(e + "HH", data[start:start + 4])
        out.append(start + 2)
        if code == 0:
            break
        start += 4 + ((ln + 3) & ~3)
    return out


def ip_offset(frame, lt):
    """Offset of the IP header in a frame of link type lt, or None."""
    if lt == 1:
        off = 12
        while off + 2 <= len(frame):
            t = struct.unpack(">H", frame[off:off + 2])[0]
            if t in (0x8100, 0x88a8):
                off += 4
                continue
            return off + 2 if t in (0x0800, 0x86dd) else None
        return None
    if lt in (0, 108):
        return 4
    if lt in (101, 12, 14, 228, 229):
        return 0
    if lt == 113:
        return 16
    if lt == 276:
        return 20
    if lt in (258, 149) and len(frame) >= 12:
        hl, _, dlt = struct.unpack("<III", frame[:12])
        inner = ip_offset(frame[hl:], dlt) if hl < len(frame) else None
        return hl + inner if inner is not None else None
    return None


def frame_fields(frame, lt):
    """[(offset, size, name, values)] of the length fields of an IP frame."""
    ip = ip_offset(frame, lt)
    if ip is None or ip >= len(frame):
        return []
    v = frame[ip] >> 4
    out = []
    if v == 4 and ip + 20 <= len(frame):
        ihl = (frame[ip] & 15) * 4
        out.append((ip + 2, 2, "ipv4.total_length", (0, 1, 0xffff)))
        out.append((ip, 1, "ipv4.ihl", (0x40, 0x43, 0x4f)))
        proto, l4 = frame[ip + 9], ip + ihl
    elif v == 6 and ip + 40 <= len(frame):
        out.append((ip + 4, 2, "ipv6.payload_length", (0, 1, 0xffff)))
        proto, l4 = frame[ip + 6], ip + 40
    else:
        return out
    if proto == 17 and l4 + 8 <= len(frame):
        out.append((l4 + 4, 2, "udp.length", (0, 5, 0xffff)))
    if proto == 6 and l4 + 20 <= len(frame):
        out.append((l4 + 12, 1, "tcp.data_offset", (0x00, 0x20, 0xf0)))
    return out


def put(data, off, size, e, value):
    d = bytearray(data)
    if size == 1:
        d[off] = value & 0xff
    else:
        struct.pack_into(e + {2: "H", 4: "I"}[size], d, off, value & ((1 << (8 * size)) - 1))
    return bytes(d)


def damaged_variants(name, data, n_flips, n_spaced, rng, slow):
    """[(label, bytes)] for one capture. `slow` (a sanitizer build): every
    fourth of the first 200 offsets, and length fields in 4 frames, not 8."""
    out = []
    cuts = set(range(0, min(200, len(data)), 4 if slow else 1))
    if len(data) > 200:
        step = (len(data) - 200) / n_spaced
        cuts.update(200 + int(i * step) for i in range(n_spaced))
    for c in sorted(cuts):
        out.append((f"{name} cut at {c}", data[:c]))
    for i in range(n_flips):
        d = bytearray(data)
        k = 1 + i % 4                                  # 1 to 4 bytes changed
        where = []
        for _ in range(k):
            p = rng.randrange(len(d))
            d[p] ^= 1 << rng.randrange(8) if i % 2 else rng.randrange(1, 256)
            where.append(p)
        out.append((f"{name} flip {i} at {where}", bytes(d)))

    # length fields, found from the structure of the file
    fields = []   # (offset, size, endian, name, values)
    frames = []   # (data offset, caplen, linktype)
    if data[:4] == b"\x0a\x0d\x0d\x0a":
        blocks, frames = pcapng_blocks(data)
        n_pick = 4 if slow else 6
        pick = blocks[:n_pick] + [b for b in blocks[n_pick:] if b[2] in (1, 3, 6)][:n_pick]
        for off, e, t, n in pick:
            fields.append((off + 4, 4, e, f"block {t:#x}@{off}.total_length",
                           (0, 0xffff, 0xffffffff)))
            fields.append((off + n - 4, 4, e, f"block {t:#x}@{off}.trailer_length",
                           (0, 0xffff, 0xffffffff)))
            if t == 6:
                fields.append((off + 20, 4, e, f"epb@{off}.caplen", (0, 0xffff, 0xffffffff)))
                fields.append((off + 24, 4, e, f"epb@{off}.len", (0, 0xffff, 0xffffffff)))
                cap = struct.unpack(e + "I", data[off + 20:off + 24])[0]
                ostart = off + 28 + ((cap + 3) & ~3)
            elif t == 3:
                fields.append((off + 8, 4, e, f"spb@{off}.len", (0, 0xffff, 0xffffffff)))
                ostart = None
            elif t == 1:
                ostart = off + 16
            elif t == 0x0A0D0D0A:
                ostart = off + 24
            else:
                ostart = None
            if ostart is not None:
                for o in options_at(data, ostart, off + n - 4, e)[:2 if slow else 3]:
                    fields.append((o, 2, e, f"option@{o}.length", (0, 3, 0xffff)))
    else:
        e, hl, lt, recs = pcap_records(data)
        fields.append((16, 4, e, "snaplen", (0, 0xffff, 0xffffffff)))
        idx = sorted({0, 1, len(recs) // 2, len(recs) - 1} & set(range(len(recs))))
        for i in idx:
            off = recs[i][0]
            fields.append((off + 8, 4, e, f"record {i}.caplen", (0, 0xffff, 0xffffffff)))
            fields.append((off + 12, 4, e, f"record {i}.len", (0, 0xffff, 0xffffffff)))
        frames = [(d, cap, lt) for _, d, cap in recs]
    n_frames = 0
    for doff, cap, lt in frames:
        ff = frame_fields(data[doff:doff + cap], lt)
        if ff:
            n_frames += 1
            for off, size, fname, values in ff:
                fields.append((doff + off, size, ">", f"frame@{doff}.{fname}", values))
        if n_frames >= (4 if slow else 8):
            break
    for off, size, e, fname, values in fields:
        for v in values:
            out.append((f"{name} {fname}={v:#x}", put(data, off, size, e, v)))
    return out


def part_damaged(ck, wp, root, shared, tmp, pool, slow):
    sources = [os.path.join(root, "pcaps", "apple-session.pcap")]
    sources += [os.path.join(shared, p) for p in DAMAGE_PUBLIC
                if os.path.isfile(os.path.join(shared, p))]
    rng = random.Random(20261123)
    total = 0
    for src in sources:
        data = open(src, "rb").read()
        name = os.path.basename(os.path.dirname(src)) + "-" + os.path.basename(src) \
            if os.path.basename(src) == "input.pcap" else os.path.basename(src)
        main = src.endswith("apple-session.pcap")
        n_flips = (200 if main else 80) // (4 if slow else 1)
        n_spaced = 100 // (4 if slow else 1)
        variants = damaged_variants(name, data, n_flips, n_spaced, rng, slow)
        jobs = []
        for i, (label, blob) in enumerate(variants):
            ext = ".pcapng" if data[:4] == b"\x0a\x0d\x0d\x0a" else ".pcap"
            p = os.path.join(tmp, f"{name}.{i:04d}{ext}")
            with open(p, "wb") as f:
                f.write(blob)
            jobs.append(pool.submit(check_run, ck, wp, p, label))
        counts = {}
        for j in jobs:
            rc, _ = j.result()
            counts[rc] = counts.get(rc, 0) + 1
        for p in os.listdir(tmp):
            os.unlink(os.path.join(tmp, p))
        total += len(variants)
        print(f"  {name}: {len(variants)} damaged copies, exit status counts "
              + ", ".join(f"{k}: {v}" for k, v in sorted(counts.items())))
    print(f"part 2: {len(sources)} captures, {total} damaged copies")


# ---- part 3: known malformed frames, byte by byte ---------------------------------


MAC = bytes.fromhex("020000000002020000000001")   # destination, source
SRC4, DST4 = bytes([10, 1, 0, 1]), bytes([10, 1, 0, 2])
SRC6 = bytes.fromhex("fd000000000000000000000000000001")
DST6 = bytes.fromhex("fd000000000000000000000000000002")


def eth(etype, payload):
    return MAC + struct.pack(">H", etype) + payload


def ip4(proto, payload, ihl=5, total=None, flags=0x4000):
    if total is None:
        total = 20 + len(payload)
    return struct.pack(">BBHHHBBH4s4s", 0x40 | ihl, 0, total, 1, flags, 64, proto, 0, SRC4,
                       DST4) + payload


def ip6(nh, payload, plen=None):
    if plen is None:
        plen = len(payload)
    return struct.pack(">IHBB16s16s", 6 << 28, plen, nh, 64, SRC6, DST6) + payload


def tcp(doff=5, sport=40000, dport=443):
    return struct.pack(">HHIIBBHHH", sport, dport, 1, 0, doff << 4, 0x02, 65535, 0, 0)


def udp(length=None, payload=b"", sport=40000, dport=53):
    return struct.pack(">HHHH", sport, dport, 8 + len(payload) if length is None else length,
                       0) + payload


def pktap(frame, hdrlen=108):
    h = struct.pack("<III", hdrlen, 1, 1) + bytes(96)
    return h + frame


def nested(n, packet):
    """`packet` inside n IPv4-in-IPv4 headers."""
    for _ in range(n):
        packet = ip4(4, packet)
    return packet


def limits(root):
    """The decoder's depth limits, read from its headers so that the frames
    below go exactly one past them: (VLAN tags, IPv6 extension headers,
    tunnels, MPLS labels)."""
    def grab(path, pattern, default):
        try:
            with open(os.path.join(root, path)) as f:
                m = re.search(pattern, f.read())
        except OSError:
            m = None
        return int(m.group(1)) if m else default
    return (grab("include/wp/decode.h", r"#define WP_MAX_VLAN_DEPTH (\d+)", 8),
            grab("include/wp/decode.h", r"#define WP_MAX_IPV6_EXT (\d+)", 8),
            grab("include/wp/decode.h", r"#define WP_MAX_TUNNEL_DEPTH (\d+)", 4),
            grab("include/wp/counters.h", r"MPLS label stack deeper than (\d+)", 8))


def ext_chain(n, last):
    """n IPv6 destination-options headers, the last one followed by `last`."""
    return b"".join(bytes([60 if i < n - 1 else last, 0]) + bytes(6) for i in range(n))


def malformed_frames(root):
    """{reason: (link type, frame)}: one frame per malformation reason."""
    max_vlan, max_ext, max_tun, max_mpls = limits(root)
    v5 = bytearray(ip4(17, udp()))
    v5[0] = 0x55                                     # version 5: neither 4 nor 6
    return {
        "ipv4_bad_ihl": (1, eth(0x0800, ip4(6, tcp(), ihl=3) + bytes(20))),
        "tcp_bad_data_offset": (1, eth(0x0800, ip4(6, tcp(doff=2)))),
        "udp_bad_length": (1, eth(0x0800, ip4(17, udp(length=5)))),
        "ipv6_ext_chain_too_long": (1, eth(0x86dd, ip6(60, ext_chain(max_ext + 1, 17) + udp()))),
        "vlan_too_deep": (1, MAC + b"".join(struct.pack(">HH", 0x8100, i + 1)
                                            for i in range(max_vlan + 1))
                          + struct.pack(">H", 0x0800) + ip4(17, udp())),
        "ipv4_bad_version": (1, eth(0x0800, bytes(v5))),
        "ipv4_bad_total_length": (1, eth(0x0800, ip4(6, tcp(), total=12))),
        "ipv4_total_length_exceeds_frame": (1, eth(0x0800, ip4(6, tcp(), total=400))),
        "ipv6_bad_version": (1, eth(0x86dd, ip4(17, udp()) + bytes(20))),
        "ipv6_payload_length_exceeds_frame": (1, eth(0x86dd, ip6(17, udp(), plen=900))),
        "ipv6_ext_exceeds_payload": (1, eth(0x86dd, ip6(0, bytes([17, 1]) + bytes(14), plen=8))),
        "tcp_data_offset_exceeds_segment": (1, eth(0x0800, ip4(6, tcp(doff=15)))),
        "transport_exceeds_payload": (1, eth(0x0800, ip4(6, tcp()[:10]) + bytes(16))),
        "tunnel_too_deep": (1, eth(0x0800, nested(max_tun + 1, ip4(17, udp())))),
        "gre_bad_header": (1, eth(0x0800, ip4(47, struct.pack(">HH", 0x0002, 0x0800)
                                              + ip4(17, udp())))),
        "mpls_too_deep": (1, eth(0x8847, b"".join(
            struct.pack(">I", ((16 + i) << 12) | (0x100 if i == max_mpls else 0) | 64)
            for i in range(max_mpls + 1)) + ip4(17, udp()))),
        # GTP-U G-PDU whose inner packet has version 5
        "ip_bad_version": (1, eth(0x0800, ip4(17, udp(
            payload=struct.pack(">BBHI", 0x30, 0xff, 20, 1) + b"\x55" + bytes(19),
            sport=2152, dport=2152)))),
        "pktap_bad_header_length": (258, pktap(eth(0x0800, ip4(17, udp())), hdrlen=50)),
    }


# reason: (link type, frame, wire length)
TRUNCATED_FRAMES = {
    "link": (1, eth(0x0800, ip4(6, tcp()))[:10], 54),
    "vlan": (1, MAC + b"\x81\x00\x00", 64),
    "ipv4": (1, eth(0x0800, ip4(6, tcp()))[:24], 54),
    "ipv6": (1, eth(0x86dd, ip6(17, udp()))[:44], 62),
    "ipv6_ext": (1, eth(0x86dd, ip6(0, bytes([17, 4]) + bytes(46)))[:55], 102),
    "tcp": (1, eth(0x0800, ip4(6, tcp()))[:44], 54),
    "udp": (1, eth(0x0800, ip4(17, udp()))[:38], 42),
    "icmp": (1, eth(0x0800, ip4(1, bytes(8)))[:36], 42),
    "icmpv6": (1, eth(0x86dd, ip6(58, bytes(8)))[:56], 62),
    "tunnel": (1, eth(0x0800, ip4(17, udp(payload=bytes(8) + bytes(34), sport=40000,
                                          dport=4789)))[:46], 92),
    "pktap": (258, pktap(eth(0x0800, ip4(17, udp())))[:60], 150),
}


# Frames that are not IP, in every way whichports knows: all count as other.
NON_IP_FRAMES = {
    "arp": eth(0x0806, bytes.fromhex("0001080006040001") + MAC[6:] + SRC4 + bytes(6) + DST4),
    "lldp": eth(0x88cc, bytes(30)),
    "ieee802.3-llc": eth(0x0026, b"\x42\x42\x03" + bytes(35)),
    "pppoe-discovery": eth(0x8863, struct.pack(">BBHH", 0x11, 0x09, 0, 0)),
    "pppoe-session-lcp": eth(0x8864, struct.pack(">BBHHH", 0x11, 0, 0x42, 6, 0xc021)
                             + b"\x01\x01\x00\x04"),
    "mpls-non-ip-payload": eth(0x8847, struct.pack(">I", (16 << 12) | 0x100 | 64) + b"\x20"
                               + bytes(30)),
}


def write_pcap(path, lt, frames):
    """frames: [(bytes, wirelen)]"""
    out = [struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, lt)]
    for i, (f, wl) in enumerate(frames):
        out.append(struct.pack("<IIII", 1700000000 + i, 0, len(f), wl) + f)
    with open(path, "wb") as fp:
        fp.write(b"".join(out))


def part_malformed(ck, wp, root, tmp):
    MALFORMED_FRAMES = malformed_frames(root)
    files = []
    for name, table in (("malformed", MALFORMED_FRAMES), ("truncated", TRUNCATED_FRAMES)):
        for lt in (1, 258):
            frames = []
            for v in table.values():
                if v[0] == lt:
                    frames.append((v[1], v[2] if len(v) > 2 else len(v[1])))
            p = os.path.join(tmp, f"{name}-lt{lt}.pcap")
            write_pcap(p, lt, frames)
            files.append(p)
    args = []
    for p in files:
        args += ["-r", p]
    rc, out, err = run([wp, "-T", "json"] + args)
    ck.eq(rc, 0, "crafted malformed/truncated captures: exit status")
    ck.check(not SANITIZER.search(err), "crafted captures: no sanitizer report", err[-2000:])
    doc = json.loads(out) if rc in (0, 3) else None
    if doc is None:
        ck.check(False, "crafted captures: a JSON report", err)
        return
    wptest.check_invariant(ck, doc, "crafted captures")
    t = doc["totals"]
    for reason in t["malformed"]:
        want = 1 if reason in MALFORMED_FRAMES else 0
        ck.eq(t["malformed"][reason], want, f"totals.malformed.{reason}")
    for reason in MALFORMED_FRAMES:
        ck.check(reason in t["malformed"], f"totals.malformed has {reason}")
    for where in t["truncated_at"]:
        want = 1 if where in TRUNCATED_FRAMES else 0
        ck.eq(t["truncated_at"][where], want, f"totals.truncated_at.{where}")
    for where in TRUNCATED_FRAMES:
        ck.check(where in t["truncated_at"], f"totals.truncated_at has {where}")
    ck.eq(t["truncated"], len(TRUNCATED_FRAMES), "totals.truncated")
    n = len(MALFORMED_FRAMES) + len(TRUNCATED_FRAMES)
    ck.eq(t["packets"], n, "totals.packets")
    ck.eq(t["snapped"], len(TRUNCATED_FRAMES), "totals.snapped")

    rc, out, err = run([wp, "-T", "text"] + args)
    ck.eq(rc, 0, "crafted captures, text: exit status")
    text = out.decode("utf-8", "replace")
    mal_line = next((ln for ln in text.splitlines() if ln.strip().startswith("malformed:")), "")
    tr_line = next((ln for ln in text.splitlines() if ln.strip().startswith("truncated in:")), "")
    for reason in MALFORMED_FRAMES:
        ck.check(re.search(rf"\b{reason} 1\b", mal_line) is not None,
                 f"text report shows 'malformed: ... {reason} 1'", mal_line)
    for where in TRUNCATED_FRAMES:
        ck.check(re.search(rf"\b{where} 1\b", tr_line) is not None,
                 f"text report shows 'truncated in: ... {where} 1'", tr_line)

    for view in ("ports", "flows", "hosts", "tunnels"):
        rc, out, err = run([wp, "-T", "csv", "--view", view] + args)
        ck.eq(rc, 0, f"crafted captures, csv --view {view}: exit status")
        ck.check(not err.strip(), f"crafted captures, csv --view {view}: nothing on stderr", err)
        rows = list(csv.reader(io.StringIO(out.decode("utf-8"))))
        ck.check(len(rows) >= 1 and all(len(r) == len(rows[0]) for r in rows),
                 f"csv --view {view}: a header and rows of equal width", repr(rows[:3]))
        if view == "ports" and rows:
            i = rows[0].index("packets")
            s = sum(int(r[i]) for r in rows[1:])
            ck.eq(s, t["packets"] - t["other_packets"] - t["undecodable_packets"],
                  "csv ports: packets = IP packets of the JSON report")
    p = os.path.join(tmp, "non-ip.pcap")
    write_pcap(p, 1, [(f, len(f)) for f in NON_IP_FRAMES.values()])
    for opt in ([], ["--no-tunnels"]):
        rc, out, err = run([wp, "-T", "json"] + opt + ["-r", p])
        if not ck.eq(rc, 0, f"non-IP frames {' '.join(opt)}: exit status"):
            continue
        t = json.loads(out)["totals"]
        ck.eq((t["other_packets"], t["undecodable_packets"]), (len(NON_IP_FRAMES), 0),
              f"non-IP frames {' '.join(opt)}: (other, undecodable) packets "
              f"[{', '.join(NON_IP_FRAMES)}]")
    print(f"part 3: {len(MALFORMED_FRAMES)} malformed, {len(TRUNCATED_FRAMES)} truncated, "
          f"{len(NON_IP_FRAMES)} non-IP frames")


def main():
    wp, root, shared = sys.argv[1], sys.argv[2], os.path.abspath(sys.argv[3])
    ck = Limited("damaged")
    slow = is_sanitized(wp)
    tmp = tempfile.mkdtemp(prefix="wp-damaged-")
    workers = max(2, os.cpu_count() or 2)
    t0 = time.monotonic()
    try:
        with concurrent.futures.ThreadPoolExecutor(workers) as pool:
            part_malformed(ck, wp, root, tmp)
            part_shared(ck, wp, shared, root, pool, slow)
            part_damaged(ck, wp, root, shared, tmp, pool, slow)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if ck.kinds:
        print("failures by kind: " + ", ".join(f"{k} {v}" for k, v in sorted(ck.kinds.items())))
    print(f"{time.monotonic() - t0:.0f} s" + (" (sanitizer build: fewer variants)" if slow else ""))
    ck.finish()


if __name__ == "__main__":
    main()
