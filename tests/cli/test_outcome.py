#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Connection outcomes (issue: whichports says whether traffic got through).

1. pcaps/outcomes.pcap (pcaps/make-outcomes.sh): every flow's outcome,
   Zeek conn_state and blocked_by are known from how the capture was made
   (which program, which nftables rule). The same table is checked against
   tshark's own fields: TCP flags per direction and the addresses, ports,
   type and code of the ICMP errors and the headers they quote.
2. Port rows: outcome counts in JSON, CSV and the text column.
3. Zeek's conn_state against the conn.log baselines of the Zeek project for
   traces in ../shared/pcaps/zeek (skipped when the folder is missing).

usage: test_outcome.py WHICHPORTS SRCROOT [SHARED_PCAPS]"""

import csv
import io
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wptest import Checker, have_tshark, run, wp_json  # noqa: E402

# (transport, family, server port) -> (outcome, zeek_state, blocked_by text, sent_by)
# from pcaps/make-outcomes.sh: the program or the rule behind each port.
EXPECTED = {
    ("tcp", 4, 8001): ("closed", "SF", None, None),        # echo server, clean close
    ("tcp", 6, 8001): ("closed", "SF", None, None),
    ("tcp", 4, 8002): ("refused", "REJ", None, None),      # nobody listens: RST
    ("tcp", 6, 8002): ("refused", "REJ", None, None),
    ("tcp", 4, 8003): ("unanswered", "S0", None, None),    # srv: tcp dport 8003 drop
    ("tcp", 6, 8003): ("unanswered", "S0", None, None),
    ("tcp", 4, 8004): ("blocked", "S0", "icmp 3/13 administratively prohibited", "path"),
    ("tcp", 6, 8004): ("blocked", "S0", "icmp6 1/1 administratively prohibited", "path"),
    ("tcp", 4, 8005): ("blocked", "S0", "icmp 3/3 port unreachable", "server"),  # icmpx
    ("tcp", 6, 8005): ("blocked", "S0", "icmp6 1/4 port unreachable", "server"),
    ("udp", 4, 8006): ("blocked", "S0", "icmp 3/3 port unreachable", "server"),  # closed UDP
    ("udp", 6, 8006): ("blocked", "S0", "icmp6 1/4 port unreachable", "server"),
    ("udp", 4, 8007): ("answered", "SF", None, None),      # UDP echo
    ("udp", 6, 8007): ("answered", "SF", None, None),
    ("tcp", 4, 8008): ("reset", "RSTO", None, None),       # client closes with SO_LINGER 0
    ("tcp", 4, 8009): ("mid-stream", "SF", None, None),    # opened before the capture
    ("udp", 4, 8010): ("unanswered", "S0", None, None),    # srv: udp dport 8010 drop
}
ROUTER = {4: "10.111.1.1", 6: "fd11:1::1"}
SERVER = {4: "10.111.2.20", 6: "fd11:2::20"}

# Zeek's own conn.log baselines (zeek/zeek, testing/btest/Baseline/...):
#   scripts.base.protocols.ftp.cwd-navigation/conn.log: 10.3.22.91:58218 -> 10.167.25.101:21 S1
#   core.pppoe-over-qinq/conn.log: 1.1.1.1:20394 -> 2.2.2.2:443 SF
#   core.tcp.fin-retransmit/out: orig state 5 (CLOSED), resp state 6 (RESET),
#     which main.zeek's conn_state() maps to RSTR
ZEEK_BASELINES = [
    ("zeek/testing/btest/Traces/ftp/cwd-navigation.pcap", ("10.3.22.91", 58218, "10.167.25.101", 21), "S1"),
    ("zeek/testing/btest/Traces/pppoe-over-qinq.pcap", ("1.1.1.1", 20394, "2.2.2.2", 443), "SF"),
    ("zeek/testing/btest/Traces/tcp/fin_retransmission.pcap", ("10.1.30.117", 55344, "17.167.193.62", 443), "RSTR"),
]

FIELDS = ["ip.src", "ip.dst", "ipv6.src", "ipv6.dst", "tcp.srcport", "tcp.dstport",
          "udp.srcport", "udp.dstport", "tcp.flags.syn", "tcp.flags.ack", "tcp.flags.fin",
          "tcp.flags.reset", "tcp.len", "icmp.type", "icmp.code", "icmpv6.type", "icmpv6.code"]


def tshark_rows(path):
    cmd = ["tshark", "-n", "-r", path, "-T", "fields", "-E", "separator=\t",
           "-E", "occurrence=a", "-E", "aggregator=|"]
    for f in FIELDS:
        cmd += ["-e", f]
    rc, out, err = run(cmd)
    rows = []
    for line in out.decode().splitlines():
        cols = (line.split("\t") + [""] * len(FIELDS))[:len(FIELDS)]
        rows.append({f: (c.split("|") if c else []) for f, c in zip(FIELDS, cols)})
    return rows


def outcomes_from_tshark(path):
    """An independent reading of outcomes from tshark's fields: per
    (transport, family, server port), what each side sent and which ICMP
    errors quoted it. Returns {key: (outcome, blocked text, sender)}."""
    conv = {}
    icmp = {}
    for r in tshark_rows(path):
        fam = 4 if r["ip.src"] else 6
        src = (r["ip.src"] or r["ipv6.src"])[0]
        if r["icmp.type"] or r["icmpv6.type"]:
            t = int((r["icmp.type"] or r["icmpv6.type"])[0])
            c = int((r["icmp.code"] or r["icmpv6.code"])[0])
            unreach = (fam == 4 and t == 3) or (fam == 6 and t == 1)
            # quoted transport: the (only) tcp/udp destination port in the frame
            for tr in ("tcp", "udp"):
                if r[tr + ".dstport"] and unreach:
                    key = (tr, fam, int(r[tr + ".dstport"][-1]))
                    icmp[key] = (t, c, src)
            continue
        for tr in ("tcp", "udp"):
            if not r[tr + ".srcport"]:
                continue
            sp, dp = int(r[tr + ".srcport"][0]), int(r[tr + ".dstport"][0])
            srv_port, to_srv = (dp, True) if dp >= 8000 and dp <= 8010 else (sp, False)
            if not 8000 <= srv_port <= 8010:
                continue
            key = (tr, fam, srv_port)
            e = conv.setdefault(key, {"c": 0, "s": 0, "syn": False, "synack": False, "cfin": False,
                                      "sfin": False, "rst_c": False, "rst_s": False})
            e["c" if to_srv else "s"] += 1
            if tr == "tcp":
                syn, ack = r["tcp.flags.syn"][0] in ("1", "True"), r["tcp.flags.ack"][0] in ("1", "True")
                fin, rst = r["tcp.flags.fin"][0] in ("1", "True"), r["tcp.flags.reset"][0] in ("1", "True")
                e["syn"] |= syn and not ack and to_srv
                e["synack"] |= syn and ack and not to_srv
                e["cfin" if to_srv else "sfin"] |= fin
                e["rst_c" if to_srv else "rst_s"] |= rst
    res = {}
    for key, e in conv.items():
        blk = icmp.get(key)
        if key[0] == "udp":
            o = "answered" if e["s"] and e["c"] else "blocked" if blk else "unanswered"
        elif e["synack"]:
            o = "closed" if e["cfin"] and e["sfin"] else "reset" if e["rst_c"] or e["rst_s"] else "established"
        elif e["syn"]:
            o = "refused" if e["rst_s"] else "blocked" if blk and not e["s"] else "unanswered" if not e["s"] else "?"
        else:
            o = "mid-stream" if e["s"] and e["c"] else "one-way"
        txt = None
        if blk and o == "blocked":
            txt = f"{'icmp' if key[1] == 4 else 'icmp6'} {blk[0]}/{blk[1]}"
        res[key] = (o, txt, blk[2] if blk else None)
    return res


def main():
    wp, root = sys.argv[1], sys.argv[2]
    shared = sys.argv[3] if len(sys.argv) > 3 else os.path.join(root, "..", "shared", "pcaps")
    ck = Checker("outcome")
    pcap = os.path.join(root, "pcaps", "outcomes.pcap")

    rc, doc, err = wp_json(wp, ["-r", pcap])
    ck.eq(rc, 0, "outcomes.pcap: exit 0")
    got = {}
    for f in doc["flows"]:
        if f["transport"] not in ("tcp", "udp"):
            continue
        fam = 6 if ":" in f["server"] else 4
        got[(f["transport"], fam, f["server_port"])] = f
    for key, (o, z, blk, by) in sorted(EXPECTED.items()):
        f = got.get(key)
        if not ck.check(f is not None, f"{key}: flow present"):
            continue
        ck.eq(f["outcome"], o, f"{key}: outcome")
        ck.eq(f["zeek_state"], z, f"{key}: zeek_state")
        b = f["blocked_by"]
        ck.eq(b["text"] if b else None, blk, f"{key}: blocked_by")
        if blk:
            ck.eq(b["sent_by"], by, f"{key}: blocked_by sent by the {by}")
            want = ROUTER[key[1]] if by == "path" else SERVER[key[1]]
            ck.eq(b["from"], want, f"{key}: blocked_by from {want}")
    ck.eq(len(got), len(EXPECTED), "no other TCP/UDP flows")

    # the same outcomes from tshark's fields
    if have_tshark():
        ts = outcomes_from_tshark(pcap)
        for key, (o, z, blk, by) in sorted(EXPECTED.items()):
            t = ts.get(key)
            if not ck.check(t is not None, f"tshark: {key} present"):
                continue
            ck.eq(t[0], o, f"tshark: {key} outcome")
            if blk:
                ck.eq(t[1], " ".join(blk.split()[:2]), f"tshark: {key} ICMP type/code quoting it")
                want = ROUTER[key[1]] if by == "path" else SERVER[key[1]]
                ck.eq(t[2], want, f"tshark: {key} ICMP sender")
        # ICMP errors in totals: every unreachable matched, the time exceeded not a block
        rc, out, err = run(["tshark", "-n", "-r", pcap, "-Y", "icmp.type==3 || icmpv6.type==1"])
        n_unreach = len(out.decode().splitlines())
        rc, out, err = run(["tshark", "-n", "-r", pcap, "-Y", "icmp.type==11"])
        n_texc = len(out.decode().splitlines())
        ie = doc["totals"]["icmp_errors"]
        ck.eq(ie["unreachable"], n_unreach, "totals: unreachables = tshark icmp.type==3 || icmpv6.type==1")
        ck.eq(ie["matched"], n_unreach, "totals: every unreachable matched to its flow")
        ck.eq(ie["not_a_block"], n_texc, "totals: time exceeded = tshark icmp.type==11, not a block")
    else:
        print("SKIP: tshark checks (no tshark)")

    # port rows: JSON counts, CSV columns, the text column
    ports = {(p["transport"], p["port"]): p for p in doc["ports"]}
    ck.eq(ports[("tcp", 8002)]["outcomes"]["refused"], 2, "ports: tcp/8002 2 refused")
    ck.eq(ports[("tcp", 8003)]["outcomes"]["unanswered"], 2, "ports: tcp/8003 2 unanswered")
    ck.eq(ports[("tcp", 8004)]["outcomes"]["blocked"], 2, "ports: tcp/8004 2 blocked")
    ck.eq(sorted(ports[("tcp", 8004)]["blocked_by"]),
          ["icmp 3/13 administratively prohibited", "icmp6 1/1 administratively prohibited"],
          "ports: tcp/8004 blocked_by")
    ck.eq(ports[("udp", 8007)]["outcomes"]["answered"], 2, "ports: udp/8007 2 answered")
    for p in doc["ports"]:
        ck.eq(sum(p["outcomes"].values()), p["flows"], f"ports: {p['transport']}/{p['port']} outcomes add up to flows")
    rc, out, err = run([wp, "-q", "-T", "csv", "-r", pcap])
    rows = {(r["transport"], r["port"]): r for r in csv.DictReader(io.StringIO(out.decode(), newline=""))}
    ck.eq(rows[("tcp", "8002")]["refused"], "2", "csv: tcp/8002 refused")
    ck.eq(rows[("udp", "8006")]["blocked"], "2", "csv: udp/8006 blocked")
    rc, out, err = run([wp, "-q", "-T", "csv", "--view", "flows", "-r", pcap])
    fl = list(csv.DictReader(io.StringIO(out.decode(), newline="")))
    ck.check(any(r["server_port"] == "8004" and r["blocked_by"].startswith("icmp 3/13") and
                 r["blocked_sent_by"] == "path" for r in fl), "csv flows: tcp/8004 blocked_by, sent by the path")
    rc, out, err = run([wp, "-q", "-r", pcap])
    text = out.decode()
    for port, want in (("tcp/8001", "ok"), ("tcp/8002", "2 refused"), ("tcp/8003", "2 no answer"),
                       ("tcp/8004", "2 blocked (icmp 3/13, icmp6 1/1)"), ("tcp/8009", "1 mid-stream")):
        line = next((l for l in text.splitlines() if l.startswith(port + " ")), "")
        ck.check(f"  {want}" in line, f"text: {port} shows '{want}'", line)

    # Zeek's own conn.log baselines
    if not os.path.isdir(shared):
        print("SKIP: Zeek baselines (../shared/pcaps missing)")
    for rel, (oh, op, rh, rp), state in ZEEK_BASELINES:
        path = os.path.join(shared, rel)
        if not os.path.exists(path):
            continue
        rc, d, err = wp_json(wp, ["-r", path])
        f = next((f for f in d["flows"] if f["client"] == oh and f["client_port"] == op and
                  f["server"] == rh and f["server_port"] == rp), None)
        if ck.check(f is not None, f"{rel}: flow {oh}:{op} -> {rh}:{rp}"):
            ck.eq(f["zeek_state"], state, f"{rel}: zeek_state as Zeek's baseline")
    ck.finish()


if __name__ == "__main__":
    main()
