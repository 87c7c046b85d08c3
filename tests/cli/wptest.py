# SPDX-License-Identifier: BSD-3-Clause
"""Shared helpers for the whole-program tests: running whichports and tshark,
counting results, and printing a 'N passed, N failed' summary."""

import collections
import json
import os
import shutil
import subprocess
import sys


class Checker:
    """Counts checks; prints each failure with its context."""

    def __init__(self, name):
        self.name = name
        self.passed = 0
        self.failed = 0
        self.skipped = []

    def check(self, cond, what, detail=""):
        if cond:
            self.passed += 1
        else:
            self.failed += 1
            print(f"FAIL: {what}" + (f"\n      {detail}" if detail else ""))
        return cond

    def eq(self, got, want, what):
        return self.check(got == want, what, f"got {got!r}, want {want!r}")

    def skip(self, what):
        """Record a part that could not run (its input is missing): the test
        then ends with SKIP unless something failed."""
        self.skipped.append(what)
        print(f"SKIP: {what}")

    def finish(self):
        """Exit 1 when a check failed, else 77 (meson: SKIP) when a part was
        skipped, else 0."""
        print(f"{self.name}: {self.passed} passed, {self.failed} failed"
              + (f", {len(self.skipped)} parts skipped" if self.skipped else ""))
        if self.failed:
            sys.exit(1)
        if self.skipped:
            sys.exit(EXIT_SKIP)
        sys.exit(0)


EXIT_SKIP = 77  # meson's and automake's "skipped" exit status


def shared_pcaps(ck, path, part):
    """The public-captures folder `path` (../shared/pcaps, or the meson
    option shared_pcaps) when it is a directory; otherwise None, with `part`
    recorded as skipped on `ck`, so that a tree without it ends in SKIP
    rather than in a pass that checked less."""
    if path and os.path.isdir(path):
        return path
    ck.skip(f"{part}: public captures folder {path or '(none given)'} is not present")
    return None


def run(cmd, stdin=None, env=None, timeout=600):
    """Run a command; return (exit code, stdout bytes, stderr text)."""
    e = dict(os.environ)
    e.update({"LC_ALL": "C", "TZ": "UTC"})
    if env:
        e.update(env)
    p = subprocess.run(cmd, input=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       env=e, timeout=timeout)
    return p.returncode, p.stdout, p.stderr.decode("utf-8", "replace")


def wp_json(wp, args, stdin=None):
    rc, out, err = run([wp, "-q", "-T", "json"] + args, stdin=stdin)
    doc = json.loads(out) if out else None
    return rc, doc, err


def have_tshark():
    return shutil.which("tshark") is not None


TSHARK_FIELDS = ["frame.len", "ip.src", "ip.dst", "ipv6.src", "ipv6.dst", "tcp.srcport",
                 "tcp.dstport", "udp.srcport", "udp.dstport", "tcp.stream", "udp.stream",
                 "ip.proto", "ipv6.nxt", "icmp.type", "icmpv6.type"]


def tshark_frames(path, extra=None, display_filter=None):
    """Per-frame fields from tshark, one dict per frame. Multi-valued fields
    (tunnels, ICMP quotes) are lists; the first value is the outermost."""
    cmd = ["tshark", "-n", "-r", path, "-T", "fields", "-E", "separator=\t",
           "-E", "occurrence=a", "-E", "aggregator=|"]
    cmd += extra or []
    if display_filter:
        cmd += ["-Y", display_filter]
    for f in TSHARK_FIELDS:
        cmd += ["-e", f]
    rc, out, err = run(cmd)
    if rc != 0:
        raise RuntimeError(f"tshark failed on {path}: {err.strip()}")
    frames = []
    for line in out.decode("utf-8", "replace").splitlines():
        cols = line.split("\t")
        cols += [""] * (len(TSHARK_FIELDS) - len(cols))
        d = {}
        for name, v in zip(TSHARK_FIELDS, cols):
            d[name] = v.split("|") if v else []
        frames.append(d)
    return frames


def frame_len(fr):
    return int(fr["frame.len"][0])


def port_rows(doc):
    """{(transport, port): row} from a whichports JSON report."""
    return {(r["transport"], r["port"]): r for r in doc["ports"]}


def check_invariant(ck, doc, what):
    """Every frame lands in exactly one place."""
    t = doc["totals"]
    pk = sum(r["packets"] for r in doc["ports"]) + t["other_packets"] + t["undecodable_packets"]
    by = sum(r["bytes"] for r in doc["ports"]) + t["other_bytes"] + t["undecodable_bytes"]
    ck.eq(pk, t["packets"], f"{what}: ports + other + undecodable packets = total")
    ck.eq(by, t["bytes"], f"{what}: ports + other + undecodable bytes = total")
    for r in doc["ports"]:
        s = r["to_service"]["packets"] + r["from_service"]["packets"] + r["unattributed"]["packets"]
        ck.eq(s, r["packets"], f"{what}: {r['transport']}/{r['port']} split adds up")


def conversations_from_tshark(frames):
    """TCP and UDP conversations as tshark groups them (tcp.stream /
    udp.stream), using the innermost transport of each frame, merged by
    endpoints (whichports does not split a reused 4-tuple). Returns
    {(transport, frozenset of two (addr, port) endpoints): {endpoint: [frames, bytes]}}."""
    conv = collections.defaultdict(lambda: collections.defaultdict(lambda: [0, 0]))
    for fr in frames:
        for proto in ("tcp", "udp"):
            if not fr[f"{proto}.stream"]:
                continue
            src = (fr["ipv6.src"] or fr["ip.src"])[-1:]
            dst = (fr["ipv6.dst"] or fr["ip.dst"])[-1:]
            sp = fr[f"{proto}.srcport"][-1:]
            dp = fr[f"{proto}.dstport"][-1:]
            if not (src and dst and sp and dp):
                continue
            a = (src[0], int(sp[0]))
            b = (dst[0], int(dp[0]))
            key = (proto, frozenset([a, b]))
            conv[key][a][0] += 1
            conv[key][a][1] += frame_len(fr)
    return conv


def conversations_from_wp(doc):
    """The same shape from whichports' flows (TCP and UDP only)."""
    conv = {}
    for f in doc["flows"]:
        if f["transport"] not in ("tcp", "udp"):
            continue
        c = (f["client"], f["client_port"])
        s = (f["server"], f["server_port"])
        key = (f["transport"], frozenset([c, s]))
        d = conv.setdefault(key, collections.defaultdict(lambda: [0, 0]))
        d[c][0] += f["to_server"]["packets"]
        d[c][1] += f["to_server"]["bytes"]
        d[s][0] += f["to_client"]["packets"]
        d[s][1] += f["to_client"]["bytes"]
    return conv
