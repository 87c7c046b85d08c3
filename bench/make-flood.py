#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Write a "flow flood" capture: N distinct TCP flows, each one SYN and one SYN-ACK.

The capture is a classic pcap (microsecond timestamps, Ethernet). Flow i goes
from client 10.x.y.z (one of --clients addresses, counting up from 10.0.0.1)
and an ephemeral port to one of --servers servers in 198.18.0.0/15 (the
benchmarking range of RFC 2544) on port 443. The SYN-ACK of flow i follows the
SYN of flow i + --lag, so a one-entry flow cache never helps and --lag flows are
half-open at any time. Packets are 58 bytes (TCP with an MSS option), 5 us apart,
with correct IPv4 and TCP checksums.

    python3 bench/make-flood.py -o flood.pcap            # 1,000,000 flows, 2,000,000 packets
    python3 bench/make-flood.py -n 100000 -o small.pcap

Runs in a few seconds: the packets are built from one struct and the checksums
are computed from the few fields that change.
"""

import argparse
import os
import struct
import sys

ETH_DST_CLIENT = bytes.fromhex("020000000001")  # locally administered MACs
ETH_DST_SERVER = bytes.fromhex("020000000002")

REC = struct.Struct("<IIII")
# Ethernet | IPv4 (20) | TCP (20 + 4 bytes of MSS option)
PKT = struct.Struct("!6s6sH" "BBHHHBBHII" "HHIIHHHHI")
IP_LEN = 20 + 24
FRAME_LEN = 14 + IP_LEN
MSS_OPT = 0x020405B4  # kind 2, len 4, 1460
WINDOW = 64240


def fold(s):
    s = (s & 0xFFFF) + (s >> 16)
    s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-o", "--output", required=True, help="pcap file to write")
    ap.add_argument("-n", "--flows", type=int, default=1_000_000, help="flows (default 1000000)")
    ap.add_argument("--clients", type=int, default=65_536, help="client addresses (default 65536)")
    ap.add_argument("--servers", type=int, default=256, help="server addresses (default 256)")
    ap.add_argument("--lag", type=int, default=1000,
                    help="SYN-ACK of flow i follows the SYN of flow i+LAG (default 1000)")
    ap.add_argument("--start", type=int, default=1767225600,
                    help="first timestamp, Unix seconds (default 2026-01-01T00:00:00Z)")
    a = ap.parse_args()
    if a.flows < 1 or a.clients < 1 or a.servers < 1 or a.lag < 0:
        ap.error("counts must be positive")
    if a.clients > (1 << 24) - 2 or a.servers > (1 << 17) - 2:
        ap.error("too many clients or servers for their prefixes")
    # Each (client, port) pair must be distinct: clients * ports >= flows.
    nports = -(-a.flows // a.clients)
    if nports > 64511:
        ap.error("too few clients for that many flows (at most 64511 ports each)")

    n = a.flows
    lag = a.lag
    pack_rec = REC.pack_into
    pack_pkt = PKT.pack_into
    rec_size = REC.size
    step = rec_size + FRAME_LEN
    chunk = 65536  # packets per write
    buf = bytearray(step * chunk)
    # Constant parts of the checksums.
    # IPv4 header: 0x4500 + total length + id + 0x4000 (DF) + 0x4006 (TTL 64, TCP) + addresses
    ip_const = 0x4500 + IP_LEN + 0x4000 + 0x4006
    # TCP: pseudo-header (proto 6, TCP length 24) + offset/flags + window + MSS option
    tcp_const = 6 + 24 + WINDOW + (MSS_OPT >> 16) + (MSS_OPT & 0xFFFF)
    base_client = (10 << 24) + 1
    base_server = (198 << 24) | (18 << 16) | 1
    clients = a.clients
    servers = a.servers
    sec0 = a.start

    def flow(i):
        c = base_client + i % clients
        s = base_server + i % servers
        cport = 1024 + i // clients
        iss = (i * 2654435761) & 0xFFFFFFFF
        irs = (i * 40503 + 12345) & 0xFFFFFFFF
        return c, s, cport, iss, irs

    tmp = a.output + ".tmp"
    with open(tmp, "wb") as out:
        out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        k = 0  # packets in buf
        pkt_no = 0
        total = 2 * n
        # The packet order: SYN(0) .. SYN(lag-1), then SYN(i), SYNACK(i-lag) pairs,
        # then the remaining SYN-ACKs.
        def events():
            for i in range(n):
                yield i, True
                j = i - lag
                if j >= 0:
                    yield j, False
            for j in range(max(0, n - lag), n):
                yield j, False

        for i, syn in events():
            c, s, cport, iss, irs = flow(i)
            ts = pkt_no * 5  # microseconds
            sec = sec0 + ts // 1_000_000
            usec = ts % 1_000_000
            ipid = pkt_no & 0xFFFF
            addr_sum = (c >> 16) + (c & 0xFFFF) + (s >> 16) + (s & 0xFFFF)
            ipsum = fold(ip_const + ipid + addr_sum)
            off = k * step
            pack_rec(buf, off, sec, usec, FRAME_LEN, FRAME_LEN)
            if syn:
                flags = 0x6002  # data offset 6 words, SYN
                tsum = fold(tcp_const + addr_sum + cport + 443 + (iss >> 16) + (iss & 0xFFFF)
                            + flags)
                pack_pkt(buf, off + rec_size, ETH_DST_SERVER, ETH_DST_CLIENT, 0x0800,
                         0x45, 0, IP_LEN, ipid, 0x4000, 64, 6, ipsum, c, s,
                         cport, 443, iss, 0, flags, WINDOW, tsum, 0, MSS_OPT)
            else:
                ack = (iss + 1) & 0xFFFFFFFF
                flags = 0x6012  # SYN, ACK
                tsum = fold(tcp_const + addr_sum + cport + 443 + (irs >> 16) + (irs & 0xFFFF)
                            + (ack >> 16) + (ack & 0xFFFF) + flags)
                pack_pkt(buf, off + rec_size, ETH_DST_CLIENT, ETH_DST_SERVER, 0x0800,
                         0x45, 0, IP_LEN, ipid, 0x4000, 64, 6, ipsum, s, c,
                         443, cport, irs, ack, flags, WINDOW, tsum, 0, MSS_OPT)
            k += 1
            pkt_no += 1
            if k == chunk:
                out.write(buf)
                k = 0
        out.write(memoryview(buf)[: k * step])
    assert pkt_no == total
    os.replace(tmp, a.output)
    print(f"{a.output}: {n} flows, {total} packets, {os.path.getsize(a.output)} bytes",
          file=sys.stderr)


if __name__ == "__main__":
    main()
