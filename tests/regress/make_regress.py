#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Write the regression inputs of tests/regress/ (README.md there says what
each one found). Each is the smallest input that shows the fault, built
byte by byte here so that it can be read and rebuilt:

    python3 tests/regress/make_regress.py

Files: *.pcap / *.pcapng are captures (replayed by fuzz_pcap and run
through whichports by tests/cli/test_damaged.py); decode/* are fuzz_decode
inputs (byte 0 link-type index, byte 1 flags, then the frame)."""

import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "fuzz"))
import make_corpus as mc  # noqa: E402  (packet and file builders)

TS = 1700000000


def pcap(frames, lt=1):
    return mc.pcap_file([(TS + i, 0, f, len(f)) for i, f in enumerate(frames)], linktype=lt)


def decode_input(lt, flags, frame):
    return bytes([mc.LT_INDEX[lt], flags]) + frame


def files():
    out = {}
    # 1. A frame that is not IP inside MPLS or PPPoE (no outer IP header) is
    #    counted as undecodable with no named reason, instead of as other.
    lcp = mc.eth(mc.pppoe(0xc021, b"\x01\x01\x00\x04"), 0x8864)
    bad_vt = mc.eth(mc.pppoe(0x0021, mc.ipv4(mc.tcp()), vt=0x21), 0x8864)
    mpls_other = mc.eth(mc.mpls(b"\x20" + bytes(30)), 0x8847)
    out["nonip-in-pppoe-mpls-no-reason.pcap"] = pcap([lcp, bad_vt, mpls_other])
    out["decode/nonip-pppoe-lcp-no-reason"] = decode_input(1, 1, lcp)
    out["decode/nonip-mpls-payload-no-reason"] = decode_input(1, 1, mpls_other)

    # 2. pcapng if_tsoffset near INT64_MAX: signed overflow in ts_to_ns
    #    (savefile.c, tsoffset * 1000000000), UBSan "signed integer overflow".
    frame = mc.eth(mc.ipv4(mc.udp(), proto=17), 0x0800)
    out["pcapng-if-tsoffset-overflow.pcapng"] = (
        mc.shb() + mc.idb(1, options=[(14, struct.pack("<q", 0x7fffffffffffffff))]) +
        mc.epb(0, 1, frame))

    # 3. Extreme pcapng timestamps (if_tsresol 9: the 64-bit value is taken
    #    as signed nanoseconds, so any int64 is reachable; a saturated
    #    if_tsoffset gives INT64_MAX/MIN too) overflow the signed arithmetic
    #    done with capture times:
    #    a) text report: t->last_ns - t->first_ns (report_text.c)
    #    b) fragments: now_ns - fe->ts_ns / now_ns - frag_tail->ts_ns (flow.c)
    #    c) idle timeouts: rec->ts_ns + 1000000000 (analyze.c, next expiry) and
    #       now_ns - f->last_ns (analyze.c, wp_engine_expire); needs
    #       --idle-timeout (fuzz_pcap turns timeouts on when size & 8).
    ns9 = [(9, b"\x09")]
    tmax, tmin = 0x7fffffffffffffff, 0x8000000000000000
    u1 = mc.eth(mc.ipv4(mc.udp(1000, 2000), proto=17), 0x0800)
    u2 = mc.eth(mc.ipv4(mc.udp(3000, 4000), proto=17), 0x0800)
    out["pcapng-ts-extremes-text-duration.pcapng"] = (
        mc.shb() + mc.idb(1, options=ns9) + mc.epb(0, tmin, u1) + mc.epb(0, tmax, u2))
    d = mc.udp(5353, 5353, bytes(64))
    f1 = mc.eth(mc.ipv4(d[:40], proto=17, ident=9, flags_off=0x2000))
    f2 = mc.eth(mc.ipv4(d[40:], proto=17, ident=9, flags_off=5))
    out["pcapng-ts-extremes-fragments.pcapng"] = (
        mc.shb() + mc.idb(1, options=ns9) + mc.epb(0, tmin, f1) + mc.epb(0, tmax, f2))
    body = (mc.shb() + mc.idb(1, options=ns9) + mc.epb(0, tmin, u1) +
            mc.epb(0, 1700000000 * 10**9, u2) + mc.epb(0, tmax, u1))
    for k in range(4):                  # fuzz_pcap turns timeouts on when size & 8
        if len(body) & 8:
            break
        body += mc.block(0x00000BAD, struct.pack("<I", 32473) + bytes(4 * k))  # skipped
    out["pcapng-ts-extremes-idle-timeout.pcapng"] = body
    # 3d. The same through the saturation of F2's fix: an interface whose
    #     if_tsoffset is hugely negative gives INT64_MIN; with a record of
    #     another interface at a normal time, the text report's duration
    #     overflows (found by the smoke run within 30 s).
    out["pcapng-if-tsoffset-negative-text-duration.pcapng"] = (
        mc.shb() + mc.idb(1) + mc.idb(1, options=[(14, struct.pack("<q", -2**62))]) +
        mc.epb(0, 1700000000 * 10**6, u1) + mc.epb(1, 1, u2))

    # 4. The timeline's time differences (timeline.c, bucket and reach_back):
    #    a first packet at a normal time, then one at -4611686018 s (an
    #    interface whose if_tsoffset says so) moves bucket 0 back by whole
    #    buckets, to below -2^62 ns; a third at the latest time a capture
    #    gives (2^62 - 1 ns) lies more than 2^63 ns after it: `t -
    #    tl->origin` overflowed (found by the fuzz smoke run of CI).
    out["pcapng-timeline-span-overflow.pcapng"] = (
        mc.shb() + mc.idb(1, options=ns9) +
        mc.idb(1, options=ns9 + [(14, struct.pack("<q", -4611686018))]) +
        mc.epb(0, 1700000000 * 10**9, u1) + mc.epb(1, 0, u2) + mc.epb(0, 2**62 - 1, u1))
    return out


def main():
    for name, data in sorted(files().items()):
        path = os.path.join(HERE, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
        print(f"{name}: {len(data)} bytes")


if __name__ == "__main__":
    main()
