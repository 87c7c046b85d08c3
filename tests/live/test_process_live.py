#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Live process attribution (Linux) between two network namespaces.

A client namespace runs whichports -i on its end of a veth pair and the
programs to attribute; a server namespace runs the servers (openssl
s_server, dnsmasq, Python UDP and TCP servers). Each client program is
started by the test, which knows its pid and name; every flow of the report
must carry exactly that pid and name (source "live"), the executable path
(from /proc/PID/exe, read by the test while the program runs... or its
resolved command path) and the user.

Then the hit rate for short-lived flows: 100 one-query dig runs and 100
short curl runs, each flow checked against the pid the test started; the
rates are printed, and no flow may be attributed to a wrong process.

Then -Z nobody: with libcap, whichports keeps exactly CAP_SYS_PTRACE and
CAP_DAC_READ_SEARCH (checked in /proc/PID/status) and still attributes a
root-owned curl; without libcap it says in the report that attribution
stopped. And --no-process: nothing is looked up.

Needs root. Exits 77 (skipped) with a message when namespaces cannot be
made or a needed program is missing.

usage: test_process_live.py WHICHPORTS SOURCE_ROOT
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "cli"))
import wptest  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from netns import remove, sh, veth_pair  # noqa: E402

TAG = f"i10-live-{os.getpid() % 100000}"
NS_C, NS_S = f"{TAG}c", f"{TAG}s"
IF_C, IF_S = f"i10l{os.getpid() % 10000}c", f"i10l{os.getpid() % 10000}s"
C4, S4 = "10.77.1.1", "10.77.1.2"
C6, S6 = "fd77:1::1", "fd77:1::2"
PORTS = {"curl": 4433, "s_client": 4434, "dns": 53, "udp4": 9999, "udp6": 9998, "nc": 7000}
NEEDED = ["ip", "openssl", "curl", "dig", "dnsmasq", "nc"]


def setup():
    veth_pair(NS_C, IF_C, NS_S, IF_S, [f"{C4}/24", f"{C6}/64"], [f"{S4}/24", f"{S6}/64"])


def teardown(procs):
    for p in procs:
        if p.poll() is None:
            p.kill()
            p.wait()
    remove(NS_C, NS_S)


UDP_SERVER = r"""
import socket, sys
fam = socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET
s = socket.socket(fam, socket.SOCK_DGRAM)
s.bind((sys.argv[1], int(sys.argv[2])))
while True:
    d, a = s.recvfrom(2048)
    s.sendto(d, a)
"""

TCP_SERVER = r"""
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2])))
s.listen(16)
while True:
    c, a = s.accept()
    c.recv(4096)
    time.sleep(0.2)  # nc stays a moment, as most programs do
    c.sendall(b"ok\n")
    c.close()
"""

# An upstream for dnsmasq that answers after 200 ms (NOERROR, no records),
# so that the dig of the first scenario holds its socket for a while.
SLOW_DNS = r"""
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", int(sys.argv[1])))
while True:
    d, a = s.recvfrom(2048)
    if len(d) < 12:
        continue
    time.sleep(0.2)
    s.sendto(d[:2] + bytes([d[2] | 0x80, 0x80]) + d[4:], a)
"""

UDP_CLIENT = r"""
import socket, sys, time
fam = socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET
s = socket.socket(fam, socket.SOCK_DGRAM)
for i in range(3):
    s.sendto(b"hello %d" % i, (sys.argv[1], int(sys.argv[2])))
    s.recvfrom(2048)
    time.sleep(0.1)
"""


def servers(tmp):
    """Start the servers in the server namespace; returns the processes."""
    key, crt = os.path.join(tmp, "key.pem"), os.path.join(tmp, "crt.pem")
    sh("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out",
       crt, "-days", "2", "-subj", "/CN=server.test")
    ns = ["ip", "netns", "exec", NS_S]
    dn = subprocess.DEVNULL
    procs = [
        subprocess.Popen(ns + ["openssl", "s_server", "-quiet", "-www", "-accept",
                               str(PORTS["curl"]), "-cert", crt, "-key", key],
                         stdin=dn, stdout=dn, stderr=dn),
        subprocess.Popen(ns + ["openssl", "s_server", "-quiet", "-rev", "-accept",
                               str(PORTS["s_client"]), "-cert", crt, "-key", key],
                         stdin=dn, stdout=dn, stderr=dn),
        subprocess.Popen(ns + ["dnsmasq", "--no-daemon", "--no-resolv", "--no-hosts",
                               f"--listen-address={S4}", "--bind-interfaces", "--pid-file=",
                               "--address=/example.test/192.0.2.7", "--user=root",
                               "--server=/slow.test/127.0.0.1#5300"],
                         stdin=dn, stdout=dn, stderr=dn),
        subprocess.Popen(ns + [sys.executable, "-c", SLOW_DNS, "5300"]),
        subprocess.Popen(ns + [sys.executable, "-c", UDP_SERVER, S4, str(PORTS["udp4"])]),
        subprocess.Popen(ns + [sys.executable, "-c", UDP_SERVER, S6, str(PORTS["udp6"])]),
        subprocess.Popen(ns + [sys.executable, "-c", TCP_SERVER, S4, str(PORTS["nc"])]),
    ]
    time.sleep(1.5)
    for p in procs:
        if p.poll() is not None:
            raise RuntimeError(f"server {p.args} exited")
    return procs


def start_wp(wp, args):
    p = subprocess.Popen(["ip", "netns", "exec", NS_C, wp, "-i", IF_C, "-T", "json"] + args,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         env=dict(os.environ, LC_ALL="C", TZ="UTC"))
    line = p.stderr.readline().decode()
    while line and "listening on" not in line:
        p.early = getattr(p, "early", "") + line
        line = p.stderr.readline().decode()
    if "listening on" not in line:
        out, err = p.communicate(timeout=10)
        raise RuntimeError(f"whichports did not start: {line}{err.decode()}")
    p.collected = []
    p.reader = threading.Thread(target=lambda: p.collected.append(p.stdout.read()))
    p.reader.start()
    time.sleep(0.5)  # the helper fills its cache before the first flow
    return p


def finish_wp(p):
    time.sleep(0.5)
    p.send_signal(signal.SIGINT)
    p.wait(timeout=30)
    p.reader.join(timeout=30)
    err = getattr(p, "early", "") + p.stderr.read().decode()
    out = b"".join(p.collected).decode()
    docs = [json.loads(line) for line in out.splitlines() if line.strip()]
    return p.returncode, docs[-1] if docs else None, err


def client(argv, stdin=None):
    """Run a client in the client namespace; return (pid, exe) once it ends.
    `ip netns exec` execs the program, so the pid is the program's."""
    p = subprocess.Popen(["ip", "netns", "exec", NS_C] + argv, stdin=subprocess.PIPE,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    p.communicate(input=stdin, timeout=30)
    return p.pid


def flows_by_port(doc):
    """Flows by their server port."""
    out = {}
    for f in doc["flows"]:
        out.setdefault(f.get("server_port"), []).append(f)
    return out


def exe_of(name):
    return os.path.realpath(shutil.which(name))


def check_flow(ck, f, pid, name, exe, what):
    pr = f.get("process")
    if not ck.check(isinstance(pr, dict), f"{what}: the flow has a process", f"flow {f}"):
        return False
    ok = ck.eq(pr.get("pid"), pid, f"{what}: pid")
    ok &= ck.eq(pr.get("name"), name, f"{what}: name")
    ok &= ck.eq(pr.get("source"), "live", f"{what}: source")
    ok &= ck.eq(pr.get("path"), exe, f"{what}: executable path")
    ok &= ck.eq(pr.get("user"), "root", f"{what}: user")
    return ok


# Why a flow has no process (docs/output.md): the live attribution's reasons,
# named as its totals counters are.
REASONS = {"not_local", "gone", "no_permission", "queue_full", "lookup_failed", "unanswered"}


def check_reasons(ck, doc, what, exact=False):
    """Every TCP/UDP flow without a process says why, with a documented
    reason; a flow with a process, or of another transport (not looked up),
    says nothing. Flows listed are a subset of those counted (eviction), so
    each reason's flows are at most its counter; `exact`: equal to it."""
    pa = doc["totals"].get("process_attribution", {})
    seen = {}
    for f in doc["flows"]:
        r = f.get("process_unknown")
        looked_up = f["transport"] in ("tcp", "udp") and pa.get("state") == "on"
        if f.get("process") is None and looked_up:
            ck.check(r in REASONS, f"{what}: flow {f['client_port']}->{f['server_port']} "
                     f"without a process has a reason", f"got {r!r}")
        else:
            ck.check(r is None, f"{what}: flow {f['transport']} {f['server_port']}: no reason",
                     f"got {r!r}")
        if r is not None:
            seen[r] = seen.get(r, 0) + 1
    counted = dict(pa.get("unknown") or {}, unanswered=pa.get("unanswered", 0))
    for r, n in seen.items():
        c = counted.get(r, 0)
        ck.check(n == c if exact else n <= c, f"{what}: {n} flow(s) '{r}', counted {c}")
    return seen


def scenario_not_local(ck, wp):
    """Traffic that only passes by: the server namespace sends UDP to
    10.77.1.99, an address nobody has, through the client's interface (a
    static neighbour entry gives it the client's MAC), so whichports sees a
    flow with neither end local. That flow is 'not_local'; a curl beside it
    is attributed."""
    mac = json.loads(sh("ip", "-n", NS_C, "-j", "link", "show", IF_C).stdout)[0]["address"]
    sh("ip", "-n", NS_S, "neigh", "replace", "10.77.1.99", "lladdr", mac, "dev", IF_S,
       "nud", "permanent")
    p = start_wp(wp, [])
    sender = ("import socket\ns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
              "for i in range(3):\n    s.sendto(b'passing by', ('10.77.1.99', 9111))\n")
    sh("ip", "netns", "exec", NS_S, sys.executable, "-c", sender)
    client(["curl", "-sk", "--max-time", "10", f"https://{S4}:{PORTS['curl']}/"])
    rc, doc, err = finish_wp(p)
    if not ck.check(rc == 0 and doc is not None, "not local: whichports ran", err):
        return
    fl = flows_by_port(doc).get(9111, [])
    if ck.check(len(fl) == 1, "not local: one flow to 10.77.1.99:9111", f"got {len(fl)}"):
        ck.eq(fl[0].get("process"), None, "not local: no process")
        ck.eq(fl[0].get("process_unknown"), "not_local", "not local: the reason")
    seen = check_reasons(ck, doc, "not local", exact=True)
    ck.check(seen.get("not_local", 0) >= 1, "not local: counted per flow", str(seen))


class Recorder:
    """Checks of one attempt, kept until it is known whether they count."""

    def __init__(self):
        self.results = []

    def check(self, cond, what, detail=""):
        self.results.append((bool(cond), what, detail))
        return cond

    def eq(self, got, want, what):
        return self.check(got == want, what, f"got {got!r}, want {want!r}")

    def failed(self):
        return [r for r in self.results if not r[0]]

    def replay(self, ck):
        for cond, what, detail in self.results:
            ck.check(cond, what, detail)


def scenario_programs(ck, wp):
    """Each program's flow carries its pid, name, path and user. A socket
    can close before it is looked up (counted as `gone`, the race the hit
    rates measure): such an attempt is repeated, up to three times. A flow
    given a wrong process fails at once."""
    for attempt in range(3):
        rec = Recorder()
        gone, wrong = programs_attempt(rec, wp)
        if not rec.failed() or wrong or not gone or attempt == 2:
            break
        print(f"programs: attempt {attempt + 1}: {gone} flow(s) gone before lookup; again")
    rec.replay(ck)


def programs_attempt(ck, wp):
    """One attempt; returns (flows gone before lookup, flows with a wrong process)."""
    p = start_wp(wp, [])
    started = {}
    started["curl"] = client(["curl", "-sk", "--max-time", "10",
                              f"https://{S4}:{PORTS['curl']}/"])
    started["s_client"] = client(["openssl", "s_client", "-quiet", "-no_ign_eof", "-connect",
                                  f"{S4}:{PORTS['s_client']}"], stdin=b"hello\n")
    started["dns"] = client(["dig", "+short", "+tries=1", "+time=2", f"@{S4}",
                             "slow.test"])
    started["udp4"] = client([sys.executable, "-c", UDP_CLIENT, S4, str(PORTS["udp4"])])
    started["udp6"] = client([sys.executable, "-c", UDP_CLIENT, S6, str(PORTS["udp6"])])
    started["nc"] = client(["nc", "-N", "-w", "3", S4, str(PORTS["nc"])], stdin=b"hello\n")
    rc, doc, err = finish_wp(p)
    if not ck.check(rc == 0 and doc is not None, "programs: whichports ran", err):
        return 0, 0
    pa = doc["totals"].get("process_attribution", {})
    ck.eq(pa.get("state"), "on", "programs: attribution on by default")
    wrong = 0
    names = {"curl": ("curl", exe_of("curl")), "s_client": ("openssl", exe_of("openssl")),
             "dns": ("dig", exe_of("dig")),
             "udp4": (os.path.basename(sys.executable)[:15], os.path.realpath(sys.executable)),
             "udp6": (os.path.basename(sys.executable)[:15], os.path.realpath(sys.executable)),
             "nc": ("nc", exe_of("nc"))}
    byport = flows_by_port(doc)
    for what, port in PORTS.items():
        fl = byport.get(port, [])
        if not ck.check(len(fl) == 1, f"programs: one flow to port {port} ({what})",
                        f"got {len(fl)}"):
            continue
        name, exe = names[what]
        pr = fl[0].get("process")
        if isinstance(pr, dict) and pr.get("pid") != started[what]:
            wrong += 1
        check_flow(ck, fl[0], started[what], name, exe, f"programs: {what}")
    ck.eq(pa.get("attributed"), len(PORTS), "programs: attributed count = flows started")
    check_reasons(ck, doc, "programs")
    return (pa.get("unknown") or {}).get("gone", 0), wrong


def hit_rate(ck, wp, what, argv, port, n, name):
    p = start_wp(wp, [])
    pids = [client(argv) for _ in range(n)]
    rc, doc, err = finish_wp(p)
    if not ck.check(rc == 0 and doc is not None, f"{what}: whichports ran", err):
        return
    fl = flows_by_port(doc).get(port, [])
    pidset = set(pids)
    hits = wrong = 0
    for f in fl:
        pr = f.get("process")
        if isinstance(pr, dict) and pr.get("pid") is not None:
            if pr.get("pid") in pidset and pr.get("name") == name:
                hits += 1
                pidset.discard(pr.get("pid"))
            else:
                wrong += 1
    pa = doc["totals"].get("process_attribution", {})
    check_reasons(ck, doc, what)
    # Two runs that happen to use the same source port make one flow (UDP;
    # TCP too, as the server closes first and keeps the TIME-WAIT): the
    # rate is over the flows seen.
    rate = 100.0 * hits / max(len(fl), 1)
    print(f"hit rate {what}: {hits}/{len(fl)} flows = {rate:.0f} % attributed to the pid "
          f"started ({n} runs; unknown: {pa.get('unknown')}; load average "
          f"{os.getloadavg()[0]:.1f})")
    ck.check(0.8 * n <= len(fl) <= n, f"{what}: one flow per run (but for reused ports)",
             f"{len(fl)} flows for {n} runs")
    ck.eq(wrong, 0, f"{what}: no flow attributed to a wrong process")
    # The aim is 90 %; how soon the helper thread runs after a packet varies
    # with the machine (docs/performance.md: 60 to 99 % for dig here), so
    # the test fails only well below, where lookups stopped working (the
    # main capture's batches alone attribute dig 1 time in 30).
    ck.check(rate >= 40, f"{what}: hit rate at least 40 % (aim 90 %)", f"{rate:.0f} %")


def caps_of(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            out[k] = v.strip()
    return out


def scenario_drop(ck, wp):
    p = start_wp(wp, ["-Z", "nobody"])
    # the whichports process: the child of `ip netns exec` is itself (exec)
    st = caps_of(p.pid)
    pid = client(["curl", "-sk", "--max-time", "10", f"https://{S4}:{PORTS['curl']}/"])
    rc, doc, err = finish_wp(p)
    if not ck.check(rc == 0 and doc is not None, "-Z nobody: whichports ran", err):
        return
    uid = st["Uid"].split()
    ck.check(all(u != "0" for u in uid), "-Z nobody: no uid 0 left", st["Uid"])
    pa = doc["totals"].get("process_attribution", {})
    if pa.get("state") == "on":
        want = (1 << 2) | (1 << 19)  # CAP_DAC_READ_SEARCH, CAP_SYS_PTRACE
        ck.eq(int(st["CapEff"], 16), want, "-Z nobody: effective = the two capabilities")
        ck.eq(int(st["CapPrm"], 16), want, "-Z nobody: permitted = the two capabilities")
        ck.eq(int(st.get("CapAmb", "0"), 16), 0, "-Z nobody: no ambient capabilities")
        fl = flows_by_port(doc).get(PORTS["curl"], [])
        if ck.check(len(fl) == 1, "-Z nobody: one curl flow"):
            check_flow(ck, fl[0], pid, "curl", exe_of("curl"), "-Z nobody: curl (root)")
    else:
        # built without libcap: the documented fallback
        ck.eq(pa.get("state"), "off", "-Z nobody: attribution off")
        ck.check("-Z nobody" in (pa.get("reason") or ""), "-Z nobody: the report says why",
                 pa.get("reason"))
        ck.eq(int(st["CapEff"], 16), 0, "-Z nobody: no capabilities")
        ck.check("process attribution off" in err, "-Z nobody: warned on stderr", err)


def scenario_off(ck, wp):
    p = start_wp(wp, ["--no-process"])
    client(["curl", "-sk", "--max-time", "10", f"https://{S4}:{PORTS['curl']}/"])
    rc, doc, err = finish_wp(p)
    if not ck.check(rc == 0 and doc is not None, "--no-process: whichports ran", err):
        return
    pa = doc["totals"].get("process_attribution", {})
    ck.eq(pa.get("state"), "off", "--no-process: state off")
    ck.eq(pa.get("reason"), "--no-process", "--no-process: reason")
    ck.check(all(f.get("process") is None for f in doc["flows"]),
             "--no-process: no flow has a process")
    ck.check(all("process_unknown" not in f for f in doc["flows"]),
             "--no-process: nothing looked up, no flow gives a reason")


def main():
    wp = os.path.abspath(sys.argv[1])
    if not sys.platform.startswith("linux"):
        print("SKIP: live process attribution is Linux only")
        sys.exit(77)
    if os.geteuid() != 0:
        print("SKIP: needs root to create network namespaces")
        sys.exit(77)
    missing = [t for t in NEEDED if shutil.which(t) is None]
    if missing:
        print(f"SKIP: missing {' '.join(missing)}")
        sys.exit(77)
    procs = []
    tmp = tempfile.mkdtemp()
    try:
        try:
            setup()
            procs = servers(tmp)
        except (RuntimeError, FileNotFoundError) as e:
            print(f"SKIP: cannot set up the namespaces and servers: {e}")
            sys.exit(77)
        ck = wptest.Checker("process-live")
        scenario_programs(ck, wp)
        hit_rate(ck, wp, "dig x100", ["dig", "+short", "+tries=1", "+time=2", f"@{S4}",
                                      "example.test"], PORTS["dns"], 100, "dig")
        hit_rate(ck, wp, "curl x100", ["curl", "-sk", "--max-time", "10",
                                       f"https://{S4}:{PORTS['curl']}/"], PORTS["curl"], 100,
                 "curl")
        scenario_not_local(ck, wp)
        scenario_drop(ck, wp)
        scenario_off(ck, wp)
    finally:
        teardown(procs)
        shutil.rmtree(tmp, ignore_errors=True)
    ck.finish()


if __name__ == "__main__":
    main()
