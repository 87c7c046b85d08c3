#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""The HTML report (-T html) opened in a real headless Chromium.

Each page is loaded with `chromium --headless --dump-dom` and the checks
read the DOM Chromium built (after the page's script ran), not the file:
  - the sums of the port rows equal the JSON totals and tshark's count of
    frames and frame bytes (an independent reader); the flows and servers
    shown plus the "rest" notes equal the JSON sums;
  - a click on a column header sorts (the page's ?wp-click=TABLE:COL,...
    clicks headers once loaded): numbers descending then ascending, text
    ascending;
  - the chart has one SVG path per series of the JSON timeline (when the
    report has one);
  - hostile names (pcaps/hostile-names.pcap, and a capture file whose name
    is markup) show as text: no element or attribute comes from them, and
    no script but the page's own ran;
  - Chromium's network log holds no request other than the file itself.
Skips (77) when chromium is missing; the large public capture part skips
when ../shared/pcaps is missing.

usage: test_html.py WHICHPORTS SRC_ROOT [SHARED_PCAPS]
"""
import html.parser
import json
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wptest  # noqa: E402

LARGE = "nDPI/tests/cfgs/default/pcap/1kxun.pcap"
HOSTILE_FILE = ("x\"><img src=x onerror=\"document.documentElement.setAttribute("
                "'data-pwned','file')\"><svg onload=alert(1)>'&amp;.pcap")


class Dom(html.parser.HTMLParser):
    """A small reading of the dumped DOM: every element's tag and
    attributes, the text of each cell of each table's body rows, the
    header cells of each table, and the text of elements by id."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.elements = []          # (tag, attrs dict)
        self.tables = {}            # id -> {"head": [attrs], "rows": [[(text, attrs)]]}
        self.text_by_id = {}
        self._table = None
        self._in_body = False
        self._row = None
        self._cell = None
        self._ids = []              # stack of (tag, id or None, [text parts])

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.elements.append((tag, a))
        if tag == "table" and "id" in a:
            self._table = self.tables.setdefault(a["id"], {"head": [], "rows": []})
        elif tag == "tbody":
            self._in_body = True
        elif tag == "tr" and self._table is not None and self._in_body:
            self._row = []
            self._table["rows"].append(self._row)
        elif tag in ("td", "th") and self._table is not None:
            if self._in_body and self._row is not None:
                self._cell = ["", a]
            elif not self._in_body:
                self._table["head"].append(a)
        if tag not in ("br", "meta", "input", "img", "link", "rect", "path"):
            self._ids.append((tag, a.get("id"), []))

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self._row.append((self._cell[0], self._cell[1]))
            self._cell = None
        elif tag == "tbody":
            self._in_body = False
            self._row = None
        elif tag == "table":
            self._table = None
        while self._ids:
            t, i, parts = self._ids.pop()
            if i is not None:
                self.text_by_id[i] = "".join(parts)
            if self._ids:
                self._ids[-1][2].extend(parts)
            if t == tag:
                break

    def handle_data(self, data):
        if self._cell is not None:
            self._cell[0] += data
        if self._ids:
            self._ids[-1][2].append(data)


def chromium_cmd():
    for c in ("chromium", "chromium-browser"):
        p = shutil.which(c)
        if p:
            return p
    return None


def load(chrome, path, query="", netlog=None):
    """The DOM of file `path` (with ?query) after its script ran."""
    with tempfile.TemporaryDirectory() as prof:
        url = "file://" + urllib.parse.quote(os.path.abspath(path)) + (("?" + query) if query else "")
        cmd = [chrome, "--headless", "--disable-gpu", "--no-first-run",
               "--disable-background-networking", "--disable-component-update",
               "--disable-sync", "--disable-extensions", "--disable-default-apps",
               "--user-data-dir=" + prof, "--virtual-time-budget=3000",
               "--run-all-compositor-stages-before-draw"]
        if os.geteuid() == 0:
            cmd.append("--no-sandbox")
        if netlog:
            cmd += ["--log-net-log=" + netlog, "--net-log-capture-mode=Everything"]
        cmd += ["--dump-dom", url]
        r = subprocess.run(cmd, capture_output=True, timeout=120)
        out = r.stdout.decode("utf-8", "replace")
        d = Dom()
        d.feed(out)
        d.close()
        d.raw = out
        d.rc = r.returncode
        return d


def report(ck, wp, pcap, fmt, out, extra=()):
    r = subprocess.run([wp, "-q", "-r", pcap, "-T", fmt, "-o", out, *extra],
                       capture_output=True, text=True)
    ck.check(r.returncode == 0, f"{os.path.basename(pcap)}: -T {fmt} exit 0",
             f"rc={r.returncode} {r.stderr[-400:]}")


def col(table, i, num=True):
    vals = []
    for row in table["rows"]:
        t, a = row[i]
        vals.append(int(a["data-v"]) if num else t)
    return vals


def tshark_frames(pcap):
    r = subprocess.run(["tshark", "-n", "-r", pcap, "-T", "fields", "-e", "frame.len"],
                       capture_output=True, text=True)
    lens = [int(x) for x in r.stdout.split()]
    return len(lens), sum(lens)


def check_sums(ck, name, dom, js, pcap):
    ports = dom.tables.get("ports-table")
    if not ck.check(ports is not None, f"{name}: ports table rendered"):
        return
    prest = next((a for t, a in dom.elements if a.get("id") == "ports-rest"), {})
    ck.eq(len(ports["rows"]) + int(prest.get("data-ports", -1)), len(js["ports"]),
          f"{name}: port rows shown plus counted equal the JSON port rows")
    pk = sum(col(ports, 3)) + int(prest.get("data-packets", -1))
    by = sum(col(ports, 4)) + int(prest.get("data-bytes", -1))
    fl = sum(col(ports, 5)) if not int(prest.get("data-ports", 0)) else None
    jt = js["totals"]
    ck.eq((pk, by), (sum(p["packets"] for p in js["ports"]), sum(p["bytes"] for p in js["ports"])),
          f"{name}: port rows sum to the JSON port rows")
    if fl is not None:
        ck.eq(fl, sum(p["flows"] for p in js["ports"]), f"{name}: flows column sums to JSON")
    if shutil.which("tshark"):
        n, b = tshark_frames(pcap)
        ck.eq((jt["packets"], jt["bytes"]), (n, b), f"{name}: JSON totals equal tshark's frames")
        head = dom.tables.get("head")
        hv = [int(a["data-v"]) for row in (head or {"rows": []})["rows"] for t, a in row
              if "data-v" in a]
        ck.eq(hv[:2], [n, b], f"{name}: header totals equal tshark's frames and bytes")
        if jt["other_packets"] == 0 and jt["fragments_unattributed"] == 0 \
                and jt["undecodable_packets"] == 0:
            ck.eq((pk, by), (n, b), f"{name}: port rows sum to tshark's frames and bytes")
    flows = dom.tables["flows-table"]
    rest = next(a for t, a in dom.elements if a.get("id") == "flows-rest")
    shown_b = sum(col(flows, 9))
    shown_p = sum(col(flows, 8))
    jb = sum(f["to_server"]["bytes"] + f["to_client"]["bytes"] for f in js["flows"])
    jp = sum(f["to_server"]["packets"] + f["to_client"]["packets"] for f in js["flows"])
    ck.eq((shown_p + int(rest["data-packets"]), shown_b + int(rest["data-bytes"])), (jp, jb),
          f"{name}: flows shown plus the rest equal the JSON flows")
    ck.eq(len(flows["rows"]) + int(rest["data-flows"]), len(js["flows"]),
          f"{name}: flows shown plus the rest counted equal the JSON flow count")
    servers = dom.tables["servers-table"]
    srest = next(a for t, a in dom.elements if a.get("id") == "servers-rest")
    hb = sum(h["bytes"] for h in js["hosts"]) + js.get("hosts_other", {}).get("bytes", 0)
    ck.eq(sum(col(servers, 3)) + int(srest["data-bytes"]), hb,
          f"{name}: servers shown plus the rest equal the JSON hosts")
    if js.get("apple"):
        at = dom.tables.get("apple-table")
        ck.check(at is not None and len(at["rows"]) > 0, f"{name}: Apple table rendered")


def path_points(d):
    """The (x, y) points of an SVG path made of M and L commands."""
    pts = []
    for part in d.replace("Z", "").replace("M", " L").split("L")[1:]:
        x, y = part.split()
        pts.append((float(x), float(y)))
    return pts


def check_chart(ck, name, dom, js):
    paths = [a for t, a in dom.elements if t == "path" and "wp-series" in a.get("class", "")]
    tl = js.get("timeline")
    if tl is None or not tl.get("series"):
        ck.check("chart-none" in dom.text_by_id, f"{name}: no timeline: the chart says so")
        return
    # the page charts the 10 ports with the most bytes and sums the rest in
    # `other`; the JSON lists every port (in the same order, other last)
    named = [s for s in tl["series"] if not s["other"]]
    rest = named[10:] + [s for s in tl["series"] if s["other"]]
    series = named[:10]
    if rest:
        nbk = tl["buckets"]
        series.append({"other": True, "bytes": sum(s["bytes"] for s in rest),
                       "bucket_bytes": [sum(s["bucket_bytes"][b] for s in rest)
                                        for b in range(nbk)]})
    ck.eq(len(paths), len(series), f"{name}: one SVG path per top-10 JSON timeline series "
                                   f"and other")
    nb = tl["buckets"]
    if len(paths) != len(series) or nb == 0:
        return
    # the top edge of the stack, bucket by bucket, against the JSON bucket sums
    totals = [sum(s["bucket_bytes"][b] for s in series) for b in range(nb)]
    top = path_points(paths[-1]["d"])[:2 * nb]
    base = path_points(paths[0]["d"])[-1][1]
    ys = [top[2 * b][1] for b in range(nb)]
    height = base - min(ys)
    mx = max(totals)
    bad = [b for b in range(nb)
           if abs((base - ys[b]) - totals[b] / mx * height) > 0.11 + 1e-9]
    ck.check(height > 0 and not bad,
             f"{name}: the stack's height in each of {nb} buckets is the JSON bucket sum",
             f"buckets off: {bad[:5]}")
    ck.check(all(top[2 * b][1] == top[2 * b + 1][1] for b in range(nb)),
             f"{name}: each bucket drawn flat over its width")
    for i, s in enumerate(series):
        ck.eq(sum(s["bucket_bytes"]), s["bytes"], f"{name}: series {i} buckets sum to its bytes")
    apple = [a for t, a in dom.elements
             if t == "path" and "wp-apple-series" in a.get("class", "")]
    ck.eq(len(apple), len(tl.get("apple", [])),
          f"{name}: one SVG path per Apple service series of the JSON timeline")
    procs = [a for t, a in dom.elements
             if t == "path" and "wp-proc-series" in a.get("class", "")]
    ck.eq(len(procs), len(tl.get("processes", [])),
          f"{name}: one SVG path per process series of the JSON timeline")


def check_print(ck, chrome, name, path, tmp):
    """Chromium prints the page (print CSS) to a PDF of a few pages."""
    pdf = os.path.join(tmp, name + ".pdf")
    with tempfile.TemporaryDirectory() as prof:
        cmd = [chrome, "--headless", "--disable-gpu", "--no-first-run",
               "--disable-background-networking", "--user-data-dir=" + prof,
               "--no-pdf-header-footer", "--print-to-pdf=" + pdf, "file://" + path]
        if os.geteuid() == 0:
            cmd.insert(2, "--no-sandbox")
        subprocess.run(cmd, capture_output=True, timeout=120)
    try:
        with open(pdf, "rb") as f:
            data = f.read()
    except OSError:
        data = b""
    pages = data.count(b"/Type /Page") - data.count(b"/Type /Pages")
    ck.check(data.startswith(b"%PDF") and 1 <= pages <= 20, f"{name}: prints to PDF",
             f"{len(data)} bytes, {pages} pages")


def check_sorting(ck, chrome, name, path):
    d1 = load(chrome, path, "wp-click=ports-table:4")
    d2 = load(chrome, path, "wp-click=ports-table:4,ports-table:4")
    d3 = load(chrome, path, "wp-click=ports-table:2")
    d4 = load(chrome, path, "wp-click=ports-table:1,ports-table:1")
    b1, b2 = col(d1.tables["ports-table"], 4), col(d2.tables["ports-table"], 4)
    ck.check(len(b1) > 1, f"{name}: more than one port row to sort")
    ck.eq(b1, sorted(b1, reverse=True), f"{name}: bytes header click sorts descending")
    ck.eq(b2, sorted(b2), f"{name}: a second click sorts ascending")
    ck.eq(d1.tables["ports-table"]["head"][4].get("aria-sort"), "descending",
          f"{name}: the header says descending")
    svc = [s.lower() for s in col(d3.tables["ports-table"], 2, num=False)]
    ck.eq(svc, sorted(svc), f"{name}: service header click sorts text ascending")
    p4 = col(d4.tables["ports-table"], 1)
    ck.eq(p4, sorted(p4), f"{name}: port header clicked twice sorts ascending")
    d5 = load(chrome, path, "wp-click=flows-table:3")
    srv = [t for t, a in (r[3] for r in d5.tables["flows-table"]["rows"])]
    ck.eq(srv, sorted(srv, key=str.lower), f"{name}: the flows table sorts by server too")
    p1 = col(load(chrome, path).tables["ports-table"], 4)
    ck.check(p1 == b1 and b2 != b1, f"{name}: the page loads in bytes order; sorting changed it")


def page_requests(netlog):
    """The URLs of the requests a page made, from Chromium's network log:
    URL_REQUEST_START_JOB events whose initiator is an origin (the
    browser's own background requests, such as its component updater, say
    "not an origin"). None when the log cannot be read."""
    try:
        with open(netlog) as f:
            log = json.load(f)
    except (OSError, ValueError):
        return None
    types = {v: k for k, v in log["constants"]["logEventTypes"].items()}
    urls = []
    for e in log.get("events", []):
        p = e.get("params") or {}
        if types.get(e.get("type")) == "URL_REQUEST_START_JOB" and "url" in p:
            if p.get("initiator") != "not an origin":
                urls.append(p["url"])
    return urls


def check_netlog(ck, name, netlog):
    urls = page_requests(netlog)
    ck.check(urls == [], f"{name}: the page made no network request (Chromium's net log)",
             repr(urls and urls[:5]))


def check_netlog_control(ck, chrome, tmp):
    """The net-log check sees a page's request: a page with an image on
    loopback (port 9, nothing listens) must show one."""
    page = os.path.join(tmp, "control.html")
    with open(page, "w") as f:
        f.write('<!DOCTYPE html><p>control</p><img src="http://127.0.0.1:9/wp-control.png">')
    netlog = os.path.join(tmp, "control-netlog.json")
    load(chrome, page, netlog=netlog)
    urls = page_requests(netlog) or []
    ck.check(any("wp-control.png" in u for u in urls),
             "control: the net-log check sees a page's own request", repr(urls[:5]))


def check_hostile(ck, chrome, wp, src, tmp):
    pcap = os.path.join(tmp, HOSTILE_FILE)
    shutil.copy(os.path.join(src, "pcaps", "hostile-names.pcap"), pcap)
    out = os.path.join(tmp, "hostile.html")
    jout = os.path.join(tmp, "hostile.json")
    report(ck, wp, pcap, "html", out, ["--top", "0"])
    report(ck, wp, pcap, "json", jout)
    with open(jout) as f:
        js = json.load(f)
    netlog = os.path.join(tmp, "hostile-netlog.json")
    dom = load(chrome, out, netlog=netlog)
    html_attrs = next(a for t, a in dom.elements if t == "html")
    ck.eq(html_attrs.get("data-wp-script"), "ran", "hostile: the page's own script ran")
    ck.check("data-pwned" not in html_attrs, "hostile: no injected script ran")
    tags = [t for t, a in dom.elements]
    ck.eq(tags.count("img"), 0, "hostile: no <img> element from a name")
    ck.eq(tags.count("script"), 2, "hostile: only the page's script and JSON data elements")
    ck.eq(tags.count("svg"), 1 if js.get("timeline") else 0, "hostile: no <svg> from a name")
    ck.check(not any(k.startswith("on") for t, a in dom.elements for k in a),
             "hostile: no event-handler attribute anywhere")
    # the file name (markup) shows as text, exactly
    ck.check(HOSTILE_FILE in dom.text_by_id.get("sources", ""),
             "hostile: the capture's file name shows as text", dom.text_by_id.get("sources"))
    srcs = [a.get("data-source") for t, a in dom.elements if "src" in a.get("class", "").split()]
    ck.eq(srcs, [pcap], "hostile: the file name, as an attribute value, is exactly itself")
    flows = dom.tables.get("flows-table", {"rows": []})
    titles = sorted(r[3][1].get("title") for r in flows["rows"] if "title" in r[3][1])
    jnames = sorted(f["name"] for f in js["flows"] if f["name"] is not None)
    ck.eq(titles, jnames, "hostile: each flow's name, as the server cell's title, is exact")
    # every name of the JSON shows as the text of a names-table cell
    want = sorted({n["name"] for p in js["ports"] for n in p["names"]})
    got = sorted(set(col(dom.tables.get("names-table", {"rows": []}), 0, num=False)))
    ck.check(len(want) >= 6, "hostile: the capture's names were read", repr(want))
    ck.eq(got, want, "hostile: every name shows as text in the names table")
    data = next((a for t, a in dom.elements if a.get("id") == "wp-data"), None)
    ck.check(data is not None and data.get("type") == "application/json",
             "hostile: the data block is not executable")
    block = dom.text_by_id.get("wp-data", "")
    try:
        parsed = json.loads(block)
        ck.eq(sorted(set(parsed["names"])), want, "hostile: the data block holds the names as JSON")
        ck.eq(parsed["sources"], [pcap], "hostile: the data block holds the file name")
    except ValueError as e:
        ck.check(False, "hostile: the data block is JSON", str(e))
    check_netlog(ck, "hostile", netlog)
    check_sorting(ck, chrome, "hostile", out)


def write_scan(path, n_ports):
    """A classic pcap: one UDP datagram (and its answer) to each of n_ports
    ports, IPv4 with a correct header checksum (UDP checksum 0: none)."""
    import struct

    def ip_sum(h):
        t = sum(struct.unpack("!10H", h))
        t = (t >> 16) + (t & 0xffff)
        t += t >> 16
        return (~t) & 0xffff

    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        ts = 1700000000
        for i in range(n_ports):
            for back in (False, True):
                src, dst = (b"\x0a\x00\x00\x01", b"\x0a\x00\x00\x02")
                sp, dp = 40000, 1024 + i
                if back:
                    src, dst, sp, dp = dst, src, dp, sp
                payload = b"x" * 8
                udp = struct.pack("!HHHH", sp, dp, 8 + len(payload), 0) + payload
                h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), i & 0xffff, 0, 64, 17, 0,
                                src, dst)
                h = h[:10] + struct.pack("!H", ip_sum(h)) + h[12:]
                frame = b"\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01\x08\x00" + h + udp
                f.write(struct.pack("<IIII", ts + i // 1000, (i % 1000) * 1000 + back,
                                    len(frame), len(frame)))
                f.write(frame)


def check_scan(ck, chrome, wp, tmp):
    """5,000 ports: the page holds the 2,000 largest port rows and counts
    the rest; shown plus counted equal the JSON rows and totals."""
    pcap = os.path.join(tmp, "scan.pcap")
    write_scan(pcap, 5000)
    out = os.path.join(tmp, "scan.html")
    jout = os.path.join(tmp, "scan.json")
    report(ck, wp, pcap, "html", out)
    report(ck, wp, pcap, "json", jout, ["--no-flows"])
    with open(jout) as f:
        js = json.load(f)
    ck.eq(len(js["ports"]), 5000, "scan: 5,000 port rows in JSON")
    dom = load(chrome, out)
    ports = dom.tables.get("ports-table", {"rows": []})
    rest = next((a for t, a in dom.elements if a.get("id") == "ports-rest"), {})
    ck.eq(len(ports["rows"]), 2000, "scan: 2,000 port rows in the page")
    ck.eq(len(ports["rows"]) + int(rest.get("data-ports", -1)), 5000,
          "scan: port rows shown plus counted are all the rows")
    ck.eq(sum(col(ports, 3)) + int(rest.get("data-packets", -1)), js["totals"]["packets"],
          "scan: their packets are all the packets (10,000)")
    ck.eq(js["totals"]["packets"], 10000, "scan: 10,000 packets")


def check_big(ck, chrome, wp, src, tmp):
    """200,000 flows (bench/make-flood.py): the page lists --top flows and
    counts the rest, and stays small."""
    pcap = os.path.join(tmp, "flood.pcap")
    r = subprocess.run([sys.executable, os.path.join(src, "bench", "make-flood.py"), "-n",
                        "200000", "-o", pcap], capture_output=True, text=True)
    if not ck.check(r.returncode == 0, "flood: capture made", r.stderr[-300:]):
        return
    out = os.path.join(tmp, "flood.html")
    jout = os.path.join(tmp, "flood.json")
    report(ck, wp, pcap, "html", out, ["--top", "25"])
    report(ck, wp, pcap, "json", jout, ["--no-flows"])
    with open(jout) as f:
        js = json.load(f)
    ck.eq(js["totals"]["flows"], 200000, "flood: 200,000 flows")
    ck.check(os.path.getsize(out) < 200000, "flood: the page stays small",
             str(os.path.getsize(out)))
    dom = load(chrome, out)
    flows = dom.tables.get("flows-table", {"rows": []})
    rest = next((a for t, a in dom.elements if a.get("id") == "flows-rest"), {})
    ck.eq(len(flows["rows"]), 25, "flood: --top 25 flows in the page")
    ck.eq(len(flows["rows"]) + int(rest.get("data-flows", -1)), 200000,
          "flood: the flows shown plus those counted are all the flows")
    ck.eq(sum(col(flows, 8)) + int(rest.get("data-packets", -1)), js["totals"]["packets"],
          "flood: their packets are all the packets")


PROCESS_CAPTURES = ["process/ptcpdump/curl-user.pcapng",
                    "process/apple-tcpdump/radar-101007576-iperf.pcapng"]


def check_processes(ck, chrome, wp, root, tmp):
    """Captures whose records name processes: the processes table holds
    the JSON processes, name by name, with their flows and bytes."""
    for rel in PROCESS_CAPTURES:
        pcap = os.path.join(root, rel)
        name = os.path.basename(rel)
        if not os.path.exists(pcap):
            ck.skip(rel + " missing")
            continue
        out = os.path.join(tmp, name + ".html")
        jout = os.path.join(tmp, name + ".json")
        report(ck, wp, pcap, "html", out)
        report(ck, wp, pcap, "json", jout)
        with open(jout) as f:
            js = json.load(f)
        dom = load(chrome, out)
        t = dom.tables.get("processes-table")
        if not ck.check(t is not None and js.get("processes"), f"{name}: processes table"):
            continue
        got = [(r[0][0], int(r[1][1]["data-v"]), int(r[3][1]["data-v"]), int(r[5][1]["data-v"]))
               for r in t["rows"]]
        want = [(p["name"] if p["name"] is not None else got[i][0], p["flows"],
                 p["sent"]["bytes"], p["received"]["bytes"])
                for i, p in enumerate(js["processes"])]
        ck.eq(got, want, f"{name}: processes rows equal the JSON processes")


def main():
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    wp, src = sys.argv[1], sys.argv[2]
    shared = sys.argv[3] if len(sys.argv) > 3 else os.path.join(src, "..", "shared", "pcaps")
    chrome = chromium_cmd()
    if chrome is None:
        print("chromium not found: skipped")
        return wptest.EXIT_SKIP
    ck = wptest.Checker("html")
    with tempfile.TemporaryDirectory() as tmp:
        cases = [("apple-session", os.path.join(src, "pcaps", "apple-session.pcap"))]
        root = wptest.shared_pcaps(ck, shared, "a large public capture in Chromium")
        if root:
            big = os.path.join(root, LARGE)
            if os.path.exists(big):
                cases.append(("1kxun", big))
            else:
                ck.skip(LARGE + " missing")
        for name, pcap in cases:
            out = os.path.join(tmp, name + ".html")
            jout = os.path.join(tmp, name + ".json")
            report(ck, wp, pcap, "html", out)
            report(ck, wp, pcap, "json", jout)
            with open(jout) as f:
                js = json.load(f)
            netlog = os.path.join(tmp, name + "-netlog.json")
            dom = load(chrome, out, netlog=netlog)
            ck.check(dom.rc == 0 and "ports-table" in dom.tables, f"{name}: Chromium rendered it",
                     dom.raw[:300])
            html_attrs = next((a for t, a in dom.elements if t == "html"), {})
            ck.eq(html_attrs.get("data-wp-script"), "ran",
                  f"{name}: the page's script ran (the CSP hash matches)")
            check_sums(ck, name, dom, js, pcap)
            check_chart(ck, name, dom, js)
            check_netlog(ck, name, netlog)
            if name == "apple-session":
                check_sorting(ck, chrome, name, out)
                check_print(ck, chrome, name, out, tmp)
        check_big(ck, chrome, wp, src, tmp)
        check_scan(ck, chrome, wp, tmp)
        if root:
            check_processes(ck, chrome, wp, root, tmp)
        check_hostile(ck, chrome, wp, src, tmp)
        check_netlog_control(ck, chrome, tmp)
    ck.finish()


if __name__ == "__main__":
    sys.exit(main())
