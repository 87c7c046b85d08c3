#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""--rules: firewall rules from what was seen succeeding.

1. nft end to end (root, network namespaces): capture a client namespace's
   real traffic (curl over TLS to openssl s_server, IPv4 and IPv6; dig to
   dnsmasq; a python3 UDP exchange) with an open firewall; generate rules;
   load them with `nft -f` into a fresh client namespace (the table's
   output policy is drop); run the same clients again: they succeed; a TCP
   client to a listening port that was not in the capture fails (and
   succeeded before the rules were loaded).
2. pf: every line checked against the pf.conf(5) grammar of the rules we
   write (pf itself is not available here; not loaded on macOS).
3. lsrules: checked against Little Snitch's published .lsrules format
   (keys, value types and allowed values).
4. Hostile names: an HTTP Host carrying quotes, braces and semicolons is
   never written into any format; the outputs stay valid.

usage: test_rules.py WHICHPORTS SRCROOT"""

import ipaddress
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wptest import Checker, run  # noqa: E402

CLI, SRV = "i11r-cli", "i11r-srv"
C4, S4, C6, S6 = "10.112.0.10", "10.112.0.20", "fd12::10", "fd12::20"


def sh(*args, check=True, timeout=30):
    p = subprocess.run(list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
    if check and p.returncode != 0:
        raise RuntimeError(f"{args}: {p.stderr.decode()}")
    return p


def netns(ns, *args, **kw):
    return sh("ip", "netns", "exec", ns, *args, **kw)


def make_client_ns():
    sh("ip", "netns", "del", CLI, check=False)
    sh("ip", "netns", "add", CLI)
    netns(CLI, "ip", "link", "set", "lo", "up")
    netns(CLI, "sysctl", "-qw", "net.ipv6.conf.all.accept_dad=0", "net.ipv6.conf.default.accept_dad=0")
    sh("ip", "link", "add", "i11rc0", "netns", CLI, "type", "veth", "peer", "name", "i11rs0",
       "netns", SRV)
    netns(CLI, "ip", "addr", "add", C4 + "/24", "dev", "i11rc0")
    netns(CLI, "ip", "addr", "add", C6 + "/64", "dev", "i11rc0", "nodad")
    netns(CLI, "ip", "link", "set", "i11rc0", "up")
    netns(SRV, "ip", "addr", "add", S4 + "/24", "dev", "i11rs0")
    netns(SRV, "ip", "addr", "add", S6 + "/64", "dev", "i11rs0", "nodad")
    netns(SRV, "ip", "link", "set", "i11rs0", "up")


def clients(tmp):
    """The clients: results by name (True: success)."""
    res = {}
    p = netns(CLI, "curl", "-sk", "--max-time", "4", f"https://{S4}:8443/", check=False)
    res["curl4"] = p.returncode == 0 and b"s_server" in p.stdout
    p = netns(CLI, "curl", "-sk", "--max-time", "4", f"https://[{S6}]:8443/", check=False)
    res["curl6"] = p.returncode == 0 and b"s_server" in p.stdout
    p = netns(CLI, "dig", "+time=2", "+tries=1", "+short", f"@{S4}", "rules.example", "A", check=False)
    res["dig"] = p.returncode == 0 and b"192.0.2.7" in p.stdout
    code = ("import socket,sys;s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM);s.settimeout(2);"
            f"s.sendto(b'ping',('{S4}',9999));print(s.recv(100))")
    p = netns(CLI, sys.executable, "-c", code, check=False)
    res["udp"] = p.returncode == 0 and b"gnip" in p.stdout
    code = ("import socket;s=socket.create_connection(('%s',7000),timeout=3);print('ok')" % S4)
    p = netns(CLI, sys.executable, "-c", code, check=False)
    res["tcp7000"] = p.returncode == 0
    return res


def nft_end_to_end(ck, wp, tmp):
    for tool in ("nft", "tcpdump", "openssl", "curl", "dig", "dnsmasq"):
        if shutil.which(tool) is None and not os.path.exists("/usr/sbin/" + tool):
            print(f"SKIP: nft end to end ({tool} missing)")
            return
    procs = []
    try:
        sh("ip", "netns", "del", SRV, check=False)
        sh("ip", "netns", "add", SRV)
        netns(SRV, "ip", "link", "set", "lo", "up")
        netns(SRV, "sysctl", "-qw", "net.ipv6.conf.all.accept_dad=0")
        make_client_ns()
        sh("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
           "-nodes", "-days", "2", "-subj", "/CN=rules.example", "-keyout", f"{tmp}/k.pem",
           "-out", f"{tmp}/c.pem")
        srv = [["openssl", "s_server", "-quiet", "-www", "-accept", "8443", "-cert", f"{tmp}/c.pem",
                "-key", f"{tmp}/k.pem"],
               ["/usr/sbin/dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null", "--no-resolv",
                "--no-hosts", "--bind-interfaces", f"--listen-address={S4}", "--user=root",
                "--pid-file=", "--host-record=rules.example,192.0.2.7"],
               [sys.executable, "-c", "import socket\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\n"
                f"s.bind(('{S4}',9999))\nwhile True:\n d,a=s.recvfrom(100);s.sendto(d[::-1],a)"],
               [sys.executable, "-c", "import socket\ns=socket.socket()\n"
                "s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1)\n"
                f"s.bind(('{S4}',7000));s.listen(8)\nwhile True:\n c,a=s.accept();c.close()"]]
        for cmd in srv:
            procs.append(subprocess.Popen(["ip", "netns", "exec", SRV] + cmd,
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        time.sleep(1.5)
        cap = f"{tmp}/open.pcap"
        td = subprocess.Popen(["ip", "netns", "exec", CLI, "tcpdump", "-i", "i11rc0", "-s", "0", "-U",
                               "-n", "-w", cap], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        procs.append(td)
        time.sleep(1.5)
        before = clients(tmp)
        time.sleep(0.5)
        td.send_signal(2)
        td.wait(timeout=10)
        for k in ("curl4", "curl6", "dig", "udp"):
            ck.check(before[k], f"open firewall: {k} succeeds")
        # the capture holds the 7000 connection too: drop it from what the
        # rules are made of, so that 7000 is "a port not in the capture"
        filt = f"{tmp}/nocap7000.pcap"
        sh("tcpdump", "-r", cap, "-w", filt, "not tcp port 7000")
        ck.check(before["tcp7000"], "open firewall: tcp/7000 succeeds")
        rc, out, err = run([wp, "-q", "--rules", "nft", "-r", filt])
        ck.eq(rc, 0, "--rules nft: exit 0")
        rules = out.decode()
        with open(f"{tmp}/r.nft", "w") as fh:
            fh.write(rules)
        ck.check(f"{S4} . 8443" in rules and f"{S6} . 8443" in rules and f"{S4} . 53" in rules
                 and f"{S4} . 9999" in rules, "rules name every destination seen", rules)
        ck.check(not re.search(r" \. 7000\b", rules), "no rule for tcp/7000")
        # a fresh client namespace with the rules
        sh("ip", "netns", "del", CLI)
        time.sleep(0.3)
        make_client_ns()
        p = netns(CLI, "nft", "-f", f"{tmp}/r.nft", check=False)
        ck.eq(p.returncode, 0, "nft -f loads the rules: " + p.stderr.decode())
        p = netns(CLI, "nft", "-f", f"{tmp}/r.nft", check=False)
        ck.eq(p.returncode, 0, "nft -f loads them again (replaces the table)")
        time.sleep(0.5)
        after = clients(tmp)
        for k in ("curl4", "curl6", "dig", "udp"):
            ck.check(after[k], f"rules loaded: {k} still succeeds")
        ck.check(not after["tcp7000"], "rules loaded: tcp/7000 (not in the capture) fails")
    finally:
        for p in procs:
            if p.poll() is None:
                p.terminate()
        for p in procs:
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                p.kill()
        if os.environ.get("WP_KEEP_RULES_TMP"):
            shutil.copy(cap, "/tmp/wp-rules-open.pcap")
        sh("ip", "netns", "del", CLI, check=False)
        sh("ip", "netns", "del", SRV, check=False)


# pf.conf(5): the rules we write are
#   pf-rule = action [ direction ] [ "quick" ] [ "on" ifspec ] [ af ] [ protospec ] hosts [ filteropts ]
#   action = "pass" | "block";  direction = "in" | "out";  af = "inet" | "inet6"
#   protospec = "proto" ( "tcp" | "udp" );  hosts = "all" | "from" host "to" host [ port ]
#   port = "port" ( number | number ":" number );  filteropts = "keep state"
def pf_line_ok(line):
    t = line.split()
    if not t or t[0] not in ("pass", "block"):
        return False
    i = 1
    if i < len(t) and t[i] in ("in", "out"):
        i += 1
    if i < len(t) and t[i] == "quick":
        i += 1
    if i + 1 < len(t) and t[i] == "on":
        if not re.fullmatch(r"[A-Za-z0-9]+", t[i + 1]):
            return False
        i += 2
    if i < len(t) and t[i] in ("inet", "inet6"):
        af = t[i]
        i += 1
    else:
        af = None
    if i + 1 < len(t) and t[i] == "proto":
        if t[i + 1] not in ("tcp", "udp"):
            return False
        i += 2
    if i < len(t) and t[i] == "all":
        return i + 1 == len(t)
    if t[i:i + 3] != ["from", "any", "to"] or i + 3 >= len(t):
        return False
    try:
        a = ipaddress.ip_address(t[i + 3])
    except ValueError:
        return False
    if af != ("inet" if a.version == 4 else "inet6"):
        return False
    i += 4
    if i + 1 < len(t) and t[i] == "port":
        m = re.fullmatch(r"(\d+)(?::(\d+))?", t[i + 1])
        if not m or int(m.group(1)) > 65535 or (m.group(2) and int(m.group(2)) > 65535):
            return False
        i += 2
    return t[i:] == ["keep", "state"]


def pf_ok(text):
    bad = [l for l in text.splitlines() if l.strip() and not l.startswith("#") and not pf_line_ok(l)]
    return bad


LS_TOP = {"name", "description", "rules", "denied-remote-domains", "denied-remote-hosts",
          "denied-remote-addresses", "denied-remote-notes"}
LS_RULE = {"process", "via", "remote-addresses", "remote-hosts", "remote-domains", "remote",
           "direction", "action", "priority", "disabled", "ports", "protocol", "notes"}
HOST = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,252}")


def lsrules_problems(text):
    """Problems against the published .lsrules format (obdev.at)."""
    try:
        d = json.loads(text)
    except ValueError as e:
        return [f"not JSON: {e}"]
    out = []
    if not isinstance(d, dict) or set(d) - LS_TOP:
        out.append(f"top-level keys {sorted(set(d) - LS_TOP)}")
    for r in d.get("rules", []):
        if set(r) - LS_RULE:
            out.append(f"rule keys {sorted(set(r) - LS_RULE)}")
        if not isinstance(r.get("process"), str):
            out.append("rule without process")
        if r.get("action") not in ("allow", "deny", "ask"):
            out.append(f"action {r.get('action')!r}")
        if r.get("direction", "outgoing") not in ("incoming", "outgoing"):
            out.append(f"direction {r.get('direction')!r}")
        if r.get("protocol") not in ("tcp", "udp"):
            out.append(f"protocol {r.get('protocol')!r}")
        m = re.fullmatch(r"(\d+)(?:-(\d+))?", r.get("ports", ""))
        if not m or int(m.group(1)) > 65535 or (m.group(2) and int(m.group(2)) > 65535):
            out.append(f"ports {r.get('ports')!r}")
        if "remote-hosts" in r and not HOST.fullmatch(r["remote-hosts"]):
            out.append(f"remote-hosts {r['remote-hosts']!r}")
        if "remote-addresses" in r:
            try:
                ipaddress.ip_address(r["remote-addresses"])
            except ValueError:
                out.append(f"remote-addresses {r['remote-addresses']!r}")
        if not isinstance(r.get("notes", ""), str):
            out.append("notes not a string")
    return out


def hostile_pcap(path, host):
    """A TCP session (Ethernet, IPv4) whose HTTP request carries Host: `host`."""
    def csum(b):
        if len(b) % 2:
            b += b"\0"
        s = sum(struct.unpack(f"!{len(b)//2}H", b))
        while s >> 16:
            s = (s & 0xffff) + (s >> 16)
        return ~s & 0xffff

    def pkt(src, dst, sp, dp, seq, ack, flags, data=b""):
        tcp = struct.pack("!HHIIBBHHH", sp, dp, seq, ack, 5 << 4, flags, 65535, 0, 0) + data
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 1, 0, 64, 6, 0,
                         bytes(map(int, src.split("."))), bytes(map(int, dst.split("."))))
        ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
        return b"\x02\0\0\0\0\x02\x02\0\0\0\0\x01\x08\x00" + ip + tcp

    c, s = "192.0.2.10", "198.51.100.80"
    req = b"GET / HTTP/1.1\r\nHost: " + host + b"\r\n\r\n"
    frames = [pkt(c, s, 40000, 80, 1, 0, 0x02), pkt(s, c, 80, 40000, 9, 2, 0x12),
              pkt(c, s, 40000, 80, 2, 10, 0x10), pkt(c, s, 40000, 80, 2, 10, 0x18, req),
              pkt(s, c, 80, 40000, 10, 2 + len(req), 0x18, b"HTTP/1.1 200 OK\r\n\r\n"),
              pkt(c, s, 40000, 80, 2 + len(req), 29, 0x11), pkt(s, c, 80, 40000, 29, 3 + len(req), 0x11),
              pkt(c, s, 40000, 80, 3 + len(req), 30, 0x10)]
    with open(path, "wb") as fh:
        fh.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        for i, f in enumerate(frames):
            fh.write(struct.pack("<IIII", 1700000000 + i, 0, len(f), len(f)) + f)


def main():
    wp, root = sys.argv[1], sys.argv[2]
    ck = Checker("rules")
    tmp = tempfile.mkdtemp(prefix="wp-rules.")
    try:
        sample = os.path.join(root, "pcaps", "apple-session.pcap")
        for doc in ([], ["--rules-documented"]):
            rc, out, err = run([wp, "-q", "--rules", "pf", "-r", sample] + doc)
            ck.eq(rc, 0, f"pf {doc}: exit 0")
            bad = pf_ok(out.decode())
            ck.check(not bad, f"pf {doc}: every line follows the pf.conf(5) grammar", "\n".join(bad[:5]))
            rc, out, err = run([wp, "-q", "--rules", "lsrules", "-r", sample] + doc)
            probs = lsrules_problems(out.decode())
            ck.check(not probs, f"lsrules {doc}: valid .lsrules", "; ".join(probs[:5]))
        rc, out, err = run([wp, "-q", "--rules", "lsrules", "-r", sample])
        d = json.loads(out)
        hosts = {r.get("remote-hosts") for r in d["rules"]}
        ck.check({"courier.push.apple.com", "query.ess.apple.com", "gateway.icloud.com"} <= hosts,
                 "lsrules: names seen used as remote-hosts", str(sorted(h for h in hosts if h)))
        ck.check(all("notes" in r and "packets" in r["notes"] for r in d["rules"]),
                 "lsrules: every rule says what it came from")
        rc, out, err = run([wp, "-q", "--rules", "bogus", "-r", sample])
        ck.eq(rc, 2, "--rules bogus: usage error")

        # hostile names never reach the rules
        for i, host in enumerate([b'evil.example" } chain x { accept', b"a;b.example",
                                  b"x.example\\\" comment", b"ok.example"]):
            p = f"{tmp}/hostile{i}.pcap"
            hostile_pcap(p, host)
            for fmt in ("nft", "pf", "lsrules"):
                rc, out, err = run([wp, "-q", "--rules", fmt, "-r", p])
                text = out.decode()
                ck.eq(rc, 0, f"hostile {host!r} {fmt}: exit 0")
                ck.check("198.51.100.80" in text or (fmt == "lsrules" and host == b"ok.example"),
                         f"hostile {host!r} {fmt}: the destination is there")
                if host == b"ok.example":
                    ck.check("ok.example" in text, f"{fmt}: a valid name is used")
                    continue
                ck.check(host.decode() not in text and "evil" not in text and "a;b" not in text,
                         f"hostile {host!r} {fmt}: name left out", text)
                if fmt == "pf":
                    ck.check(not pf_ok(text), f"hostile {host!r} pf: grammar holds")
                if fmt == "lsrules":
                    ck.check(not lsrules_problems(text), f"hostile {host!r} lsrules: valid")
                if fmt == "nft":
                    ck.check(text.count('"') % 2 == 0 and "chain x" not in text,
                             f"hostile {host!r} nft: quotes balanced, nothing injected")

        if os.geteuid() == 0 and shutil.which("ip"):
            nft_end_to_end(ck, wp, tmp)
        else:
            print("SKIP: nft end to end (needs root and ip netns)")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    ck.finish()


if __name__ == "__main__":
    main()
