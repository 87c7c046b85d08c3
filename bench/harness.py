#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Time several capture readers on the same inputs, interleaved, and write Markdown.

Called by bench/run.sh, which builds the inputs and the binaries; see
docs/performance.md. For each input, every tool first runs once under
`/usr/bin/time -v`, whose "Maximum resident set size" is the memory column (that
run also warms the caches and sorts out the slow tools). Then the timed runs:
round-robin (every tool once, then every tool again) so that noise from other
work on the machine spreads over all tools alike. Each timed run starts the
tool directly, measures the wall time around it and takes the CPU time and
peak RSS from wait4(). The median of the timed runs is reported.
"""

import argparse
import datetime
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

TIME = "/usr/bin/time"


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def tool_commands(a):
    """name -> function(file, scratch_dir) -> argv. Order = round-robin order."""
    wp = a.whichports
    return {
        "floor": lambda f, d: [a.floor, f],
        "rawfloor": lambda f, d: [a.rawfloor, f],
        "whichports": lambda f, d: [wp, "-q", "-T", "json", "--no-flows", "-r", f, "-o", "/dev/null"],
        "tcpdump": lambda f, d: ["tcpdump", "-r", f, "-w", "/dev/null"],
        "tshark": lambda f, d: ["tshark", "-q", "-r", f, "-z", "conv,tcp", "-z", "conv,udp"],
        "ndpiReader": lambda f, d: ["ndpiReader", "-q", "-i", f],
        "nfpcapd": lambda f, d: ["nfpcapd", "-r", f, "-w", d],
    }


def display_cmd(name, a):
    """The command as documented (paths shortened)."""
    return {
        "floor": "bench/work/bin/floor FILE   (cc -O2 bench/floor.c -lpcap)",
        "rawfloor": "bench/work/bin/rawfloor FILE   (cc -O2 bench/rawfloor.c: read(2) in 4 MiB blocks, record headers walked, no libpcap)",
        "whichports": "build/whichports -q -T json --no-flows -r FILE -o /dev/null",
        "tcpdump": "tcpdump -r FILE -w /dev/null",
        "tshark": "tshark -q -r FILE -z conv,tcp -z conv,udp > /dev/null",
        "ndpiReader": "ndpiReader -q -i FILE",
        "nfpcapd": "nfpcapd -r FILE -w DIR   (DIR a fresh empty directory, deleted after the run)",
    }[name]


def parse_time_v(path):
    r = {}
    with open(path, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            line = line.strip()
            if line.startswith("User time (seconds):"):
                r["user"] = float(line.split(":")[1])
            elif line.startswith("System time (seconds):"):
                r["sys"] = float(line.split(":")[1])
            elif line.startswith("Maximum resident set size (kbytes):"):
                r["maxrss_kb"] = int(line.split(":")[1])
            elif line.startswith("Exit status:"):
                r["rc"] = int(line.split(":")[1])
            elif line.startswith("Command terminated by signal"):
                r["signal"] = line
    return r


def run_once(name, argv_fn, path, work, timeout, time_v=False):
    """Run one tool once. Returns wall, user, sys (and error).

    Timed runs start the tool directly and take its CPU time from wait4(), so
    that no wrapper process adds to the wall time. With time_v the tool runs
    under `/usr/bin/time -v`, whose "Maximum resident set size" is returned as
    maxrss_kb_time_v.
    """
    scratch = tempfile.mkdtemp(prefix=f"{name}-", dir=work)
    tfile = os.path.join(work, f".time-{name}.txt")
    efile = os.path.join(work, f".stderr-{name}.txt")
    argv = argv_fn(path, scratch)
    if time_v:
        argv = [TIME, "-v", "-o", tfile] + argv
    r = {}
    with open(efile, "wb") as err, open(os.devnull, "wb") as null:
        t0 = time.perf_counter()
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=null, stderr=err)
        timer = threading.Timer(timeout, p.kill)  # a hung tool must not hang the benchmark
        timer.start()
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
        timer.cancel()
        p.returncode = os.waitstatus_to_exitcode(status)
    shutil.rmtree(scratch, ignore_errors=True)
    if wall >= timeout:
        return {"error": f"killed after {timeout:.0f} s"}
    # No ru_maxrss here: Linux keeps the high-water mark of the forked copy of
    # this Python process across exec, so only a small parent (/usr/bin/time)
    # gives the tool's own peak RSS.
    r = {"wall": wall, "user": ru.ru_utime, "sys": ru.ru_stime}
    rc = p.returncode
    if time_v:
        tv = parse_time_v(tfile)
        r["maxrss_kb_time_v"] = tv.get("maxrss_kb", 0)
        r["user"], r["sys"] = tv.get("user", r["user"]), tv.get("sys", r["sys"])
        rc = tv.get("rc", rc)
        if "signal" in tv:
            rc = tv["signal"]
    if rc != 0:
        with open(efile, encoding="utf-8", errors="replace") as fh:
            tail = fh.read()[-400:]
        r["error"] = f"exit status {rc}: {tail.strip()}"
    return r


def median(xs):
    return statistics.median(xs) if xs else float("nan")


def fmt_int(n):
    return f"{n:,}"


def fmt_mib(kb):
    return f"{kb / 1024:.1f}"


def fmt_rate(pps):
    if pps >= 1e6:
        return f"{pps / 1e6:.2f} M"
    return f"{pps / 1e3:.0f} k"


def capture(argv):
    try:
        out = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                             errors="replace", timeout=60)
        return (out.stdout + out.stderr).strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def first_line(text, pattern=None):
    for line in text.splitlines():
        if pattern is None or re.search(pattern, line):
            return line.strip()
    return "?"


def machine_info(a):
    cpu = "?"
    cores = os.cpu_count()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = "?"
    try:
        with open("/proc/meminfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("MemTotal:"):
                    mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    os_name = "?"
    try:
        with open("/etc/os-release", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("PRETTY_NAME="):
                    os_name = line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    lscpu = capture(["lscpu"])
    flags = {}
    for line in lscpu.splitlines():
        if ":" in line:
            k, v = line.split(":", 1)
            flags[k.strip()] = v.strip()
    virt = flags.get("Hypervisor vendor", "")
    versions = [
        ("whichports", first_line(capture([a.whichports, "-V"]))
         + (f" ({a.wp_note})" if a.wp_note else "")),
        ("libpcap", first_line(capture(["tcpdump", "--version"]), "libpcap")),
        ("cc", first_line(capture(["cc", "--version"]))),
        ("tcpdump", first_line(capture(["tcpdump", "--version"]), "tcpdump")),
        ("tshark", first_line(capture(["tshark", "--version"]))),
        ("ndpiReader", first_line(capture(["ndpiReader", "-h"]), "nDPI")),
        ("nfpcapd", first_line(capture(["nfpcapd", "-V"]))),
        ("tcprewrite", first_line(capture(["tcprewrite", "-V"]))),
        ("mergecap", first_line(capture(["mergecap", "--version"]))),
        ("python3", platform.python_version()),
    ]
    return {
        "cpu": cpu + (f" ({virt} guest)" if virt else ""),
        "cores": cores,
        "mem": mem,
        "kernel": platform.release(),
        "os": os_name,
        "versions": versions,
    }



def wp_summary(a, path, work):
    """One untimed whichports run for the input table (flows, fragments)."""
    out = os.path.join(work, ".wp-summary.json")
    subprocess.run([a.whichports, "-q", "-T", "json", "--no-flows", "-r", path, "-o", out],
                   stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        with open(out, encoding="utf-8") as fh:
            t = json.load(fh)["totals"]
        return t
    except (OSError, ValueError, KeyError):
        return {}


def floor_count(a, path):
    out = capture([a.floor, path])
    m = re.match(r"(\d+) packets, (\d+) bytes captured, (\d+) bytes on the wire", out)
    if not m:
        sys.exit(f"harness: the floor could not read {path}: {out}")
    return int(m.group(1)), int(m.group(3))


def warm(path):
    with open(path, "rb") as fh:
        while fh.read(1 << 22):
            pass


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--whichports", required=True)
    ap.add_argument("--wp-note", default="")
    ap.add_argument("--floor", required=True)
    ap.add_argument("--rawfloor", default="", help="bench/rawfloor.c built (optional)")
    ap.add_argument("--work", required=True)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--slow-secs", type=float, default=60.0)
    ap.add_argument("--slow-runs", type=int, default=3)
    ap.add_argument("--fast-secs", type=float, default=5.0)
    ap.add_argument("--fast-runs", type=int, default=15)
    ap.add_argument("--timeout", type=float, default=3600.0)
    ap.add_argument("--tools", default="floor,whichports,tcpdump,tshark,ndpiReader,nfpcapd")
    ap.add_argument("--input", action="append", default=[],
                    help="NAME=PATH[=FLOWS]: an input timed with all tools")
    ap.add_argument("--tiny", help="PATH: whichports and floor only, for the memory baseline")
    ap.add_argument("--sources", help="TSV of the captures the mix was made from")
    ap.add_argument("--mix-recipe", default="")
    ap.add_argument("--command", default="bash bench/run.sh")
    ap.add_argument("--out", required=True, help="Markdown file to write")
    ap.add_argument("--json", help="raw results as JSON")
    ap.add_argument("--doc", help="Markdown file whose bench:* sections are rewritten")
    ap.add_argument("--from-json", help="only render the results saved by an earlier --json")
    if "--from-json" in sys.argv:
        # Re-render a saved run, with its own arguments but this call's --out and --doc.
        rp = argparse.ArgumentParser()
        rp.add_argument("--from-json", required=True)
        rp.add_argument("--out")
        rp.add_argument("--doc")
        b = rp.parse_args()
        with open(b.from_json, encoding="utf-8") as fh:
            data = json.load(fh)
        a = argparse.Namespace(**data["args"])
        a.out, a.doc = b.out or a.out, b.doc
        write(a, data)
        return
    a = ap.parse_args()

    cmds = tool_commands(a)
    tools = []
    notes = []
    for t in a.tools.split(","):
        t = t.strip()
        if not t:
            continue
        if t not in cmds:
            sys.exit(f"harness: unknown tool {t}")
        exe = cmds[t]("x", "y")[0]
        if shutil.which(exe) is None and not os.path.exists(exe):
            notes.append(f"{t}: not installed, skipped")
            log(f"harness: {t} not found, skipped")
            continue
        tools.append(t)
    if "floor" not in tools:
        sys.exit("harness: the floor is needed for the ratios")

    inputs = []
    for spec in a.input:
        name, path = spec.split("=", 1)
        flows = None
        head, _, tail = path.rpartition("=")
        if head and tail.isdigit():
            path, flows = head, int(tail)
        inputs.append({"name": name, "path": path, "flows_made": flows, "tools": tools})
    if a.tiny:
        inputs.append({"name": "tiny", "path": a.tiny, "flows_made": None,
                       "tools": [t for t in tools if t in ("floor", "whichports")]})

    started = datetime.datetime.now(datetime.timezone.utc)
    load_start = load()
    results = {}
    memory = {}
    for inp in inputs:
        path = inp["path"]
        warm(path)
        inp["size"] = os.path.getsize(path)
        inp["packets"], inp["wire_bytes"] = floor_count(a, path)
        inp["wp_totals"] = wp_summary(a, path, a.work)
        log(f"== {inp['name']}: {path}, {inp['packets']:,} packets, {inp['size']:,} bytes")
        # First, one run of each tool under /usr/bin/time -v: its peak RSS is the
        # memory column, and it warms the caches and tells the slow tools apart.
        want, mem, slow_note = {}, {}, {}
        for t in inp["tools"]:
            r = run_once(t, cmds[t], path, a.work, a.timeout, time_v=True)
            mem[t] = r
            if "error" in r:
                log(f"   {t}: FAILED: {r['error']}")
                want[t] = 0
                continue
            log(f"   /usr/bin/time -v {t:<11} {r['wall']:8.3f} s  maxrss {r['maxrss_kb_time_v'] / 1024:8.1f} MiB")
            if r["wall"] > a.slow_secs and a.slow_runs < a.runs:
                want[t] = max(1, a.slow_runs)
                slow_note[t] = (f"{t} on {inp['name']}: one run took {r['wall']:.0f} s "
                                f"(> {a.slow_secs:.0f} s), so {want[t]} timed runs instead of {a.runs}")
                log("   " + slow_note[t])
            elif r["wall"] < a.fast_secs:
                want[t] = max(a.runs, a.fast_runs)
            else:
                want[t] = a.runs
        res = {t: [] for t in inp["tools"]}
        rnd = 0
        while any(len(res[t]) < want[t] for t in inp["tools"]):
            rnd += 1
            for t in inp["tools"]:
                if len(res[t]) >= want[t]:
                    continue
                r = run_once(t, cmds[t], path, a.work, a.timeout)
                res[t].append(r)
                if "error" in r:
                    log(f"   {t}: FAILED: {r['error']}")
                    want[t] = len(res[t])  # do not repeat a failing tool
                    continue
                log(f"   round {rnd:2} {t:<11} {r['wall']:8.3f} s  user {r['user']:7.2f}"
                    f"  sys {r['sys']:6.2f}")
        notes.extend(slow_note.values())
        results[inp["name"]] = res
        memory[inp["name"]] = mem

    finished = datetime.datetime.now(datetime.timezone.utc)
    data = {"args": vars(a), "started": started.isoformat(), "finished": finished.isoformat(),
            "load_start": load_start, "load_end": load(), "inputs": inputs, "notes": notes,
            "results": results, "memory_runs": memory}
    if a.json:
        with open(a.json, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=1)
    write(a, data)


def load():
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def write(a, data):
    inputs, results, memory = data["inputs"], data["results"], data["memory_runs"]
    summary = summarize(inputs, results, memory)
    mach = machine_info(a)
    mach["load_start"], mach["load_end"] = data["load_start"], data["load_end"]
    sections = render(a, inputs, summary, data["notes"], mach,
                      datetime.datetime.fromisoformat(data["started"]),
                      datetime.datetime.fromisoformat(data["finished"]))
    out = []
    for name, text in sections.items():
        out.append(f"<!-- bench:{name}:begin -->\n{text}\n<!-- bench:{name}:end -->\n")
    with open(a.out, "w", encoding="utf-8") as fh:
        fh.write("\n".join(out))
    if a.doc:
        update_doc(a.doc, sections)


def update_doc(doc, sections):
    """Replace each <!-- bench:NAME:begin --> ... <!-- bench:NAME:end --> of doc."""
    with open(doc, encoding="utf-8") as fh:
        text = fh.read()
    for name, new in sections.items():
        begin, end = f"<!-- bench:{name}:begin -->", f"<!-- bench:{name}:end -->"
        i, j = text.find(begin), text.find(end)
        if i < 0 or j < i:
            log(f"harness: {doc} has no {begin} ... {end}; that section is left out")
            continue
        text = text[: i + len(begin)] + "\n" + new + "\n" + text[j:]
    with open(doc, "w", encoding="utf-8") as fh:
        fh.write(text)
    log(f"harness: updated {doc}")


def summarize(inputs, results, memory):
    s = {}
    for inp in inputs:
        res = results[inp["name"]]
        floor_ok = [r for r in res.get("floor", []) if "error" not in r]
        floor_wall = median([r["wall"] for r in floor_ok])
        floor_cpu = median([r["user"] + r["sys"] for r in floor_ok])
        raw_ok = [r for r in res.get("rawfloor", []) if "error" not in r]
        raw_wall = median([r["wall"] for r in raw_ok]) if raw_ok else 0
        raw_cpu = median([r["user"] + r["sys"] for r in raw_ok]) if raw_ok else 0
        rows = {}
        for t, runs in res.items():
            ok = [r for r in runs if "error" not in r]
            if not ok:
                rows[t] = {"error": runs[0].get("error", "no runs") if runs else "no runs"}
                continue
            walls = sorted(r["wall"] for r in ok)
            w = median(walls)
            cpu = median([r["user"] + r["sys"] for r in ok])
            m = memory[inp["name"]].get(t, {})
            rss = m.get("maxrss_kb_time_v", 0)
            rows[t] = {
                "runs": len(ok),
                "wall": w,
                "wall_min": walls[0],
                "wall_max": walls[-1],
                "cpu": cpu,
                "pps": inp["packets"] / w if w > 0 else float("nan"),
                "ns_per_pkt": w * 1e9 / inp["packets"] if inp["packets"] else float("nan"),
                "ratio": w / floor_wall if floor_wall > 0 else float("nan"),
                "cpu_ratio": cpu / floor_cpu if floor_cpu > 0 else float("nan"),
                "raw_ratio": w / raw_wall if raw_wall > 0 else float("nan"),
                "raw_cpu_ratio": cpu / raw_cpu if raw_cpu > 0 else float("nan"),
                "maxrss_kb": rss,
            }
        s[inp["name"]] = rows
    return s


def render(a, inputs, summary, notes, mach, started, finished):
    """Markdown sections: {"inputs": ..., "results": ..., "machine": ...}."""
    sections = {}
    L = []
    L.append(f"Generated by `{a.command}` on {finished:%Y-%m-%d %H:%M} UTC.")
    L.append("")
    L.append("| input | file | packets | file size | bytes on the wire | flows (whichports) | IP packets |")
    L.append("|---|---|---:|---:|---:|---:|---:|")
    for inp in inputs:
        t = inp.get("wp_totals", {})
        L.append(f"| {inp['name']} | `{os.path.basename(inp['path'])}` | {fmt_int(inp['packets'])} "
                 f"| {inp['size'] / 1e6:.1f} MB | {fmt_int(inp['wire_bytes'])} "
                 f"| {fmt_int(t['flows']) if 'flows' in t else '?'} "
                 f"| {fmt_int(t['ip_packets']) if 'ip_packets' in t else '?'} |")
    L.append("")
    if a.mix_recipe:
        L.append(a.mix_recipe)
        L.append("")
    if a.sources and os.path.exists(a.sources):
        rows = []
        with open(a.sources, encoding="utf-8") as fh:
            for line in fh:
                parts = line.rstrip("\n").split("\t")
                if len(parts) >= 3:
                    rows.append(parts)
        total = sum(int(r[2]) for r in rows if r[2].isdigit())
        L.append(f"<details><summary>The {len(rows)} source captures of one copy of the mix "
                 f"({fmt_int(total)} packets)</summary>")
        L.append("")
        L.append("| group | capture | packets |")
        L.append("|---|---|---:|")
        for r in rows:
            L.append(f"| {r[0]} | `{r[1]}` | {fmt_int(int(r[2])) if r[2].isdigit() else r[2]} |")
        L.append("")
        L.append("</details>")
        L.append("")

    sections["inputs"] = "\n".join(L).rstrip("\n")
    L = []
    L.append(f"Generated by `{a.command}` on {finished:%Y-%m-%d %H:%M} UTC (it took "
             f"{(finished - started).total_seconds() / 60:.0f} min, load average "
             f"{mach['load_start']} before and {mach['load_end']} after); "
             f"medians of interleaved runs, the runs column says how many.")
    L.append("")
    for inp in inputs:
        rows = summary[inp["name"]]
        L.append(f"**{inp['name']}** ({fmt_int(inp['packets'])} packets, "
                 f"{inp['size'] / 1e6:.1f} MB)")
        L.append("")
        L.append("| tool | runs | median wall s (min-max) | packets/s | ns/packet | x floor (wall) | CPU s | x floor (CPU) | peak RSS MiB |")
        L.append("|---|---:|---|---:|---:|---:|---:|---:|---:|")
        for t in inp["tools"]:
            r = rows.get(t)
            if r is None:
                continue
            if "error" in r:
                L.append(f"| {t} | 0 | failed: {r['error'][:80]} | | | | | | |")
                continue
            L.append(f"| {t} | {r['runs']} | {r['wall']:.3f} ({r['wall_min']:.3f}-{r['wall_max']:.3f}) "
                     f"| {fmt_rate(r['pps'])} | {r['ns_per_pkt']:.0f} | {r['ratio']:.2f} "
                     f"| {r['cpu']:.2f} | {r['cpu_ratio']:.2f} | {fmt_mib(r['maxrss_kb'])} |")
        L.append("")

    # Targets
    L.append("Targets (for whichports; they are set for the full ~2M-packet mix and 1M-flow flood):")
    L.append("")
    L.append("| target | measured | met |")
    L.append("|---|---|---|")
    by = {i["name"]: i for i in inputs}

    def wp(name):
        r = summary.get(name, {}).get("whichports")
        return r if r and "error" not in r else None

    mix = wp("mix")
    if mix:
        L.append(f"| mix: whichports time <= 1.3 x floor (aim 1.1) | {mix['ratio']:.2f} x "
                 f"(CPU time: {mix['cpu_ratio']:.2f} x) "
                 f"| {'yes' if mix['ratio'] <= 1.3 else 'no'}"
                 f"{' (and <= 1.1)' if mix['ratio'] <= 1.1 else ''} |")
        if mix["raw_ratio"] == mix["raw_ratio"]:  # not NaN: the raw floor ran
            L.append(f"| mix: whichports time <= 2.5 x raw read floor (read(2), no libpcap) | "
                     f"{mix['raw_ratio']:.2f} x (CPU time: {mix['raw_cpu_ratio']:.2f} x) "
                     f"| {'yes' if mix['raw_ratio'] <= 2.5 else 'no'} |")
        L.append(f"| mix: whichports peak RSS < 32 MB | {mix['maxrss_kb'] / 1024:.1f} MiB "
                 f"({mix['maxrss_kb'] * 1024 / 1e6:.1f} MB) | "
                 f"{'yes' if mix['maxrss_kb'] * 1024 < 32e6 else 'no'} |")
    fl = wp("flood")
    tiny = wp("tiny")
    if fl:
        L.append(f"| flood: whichports time <= 3 x floor | {fl['ratio']:.2f} x "
                 f"(CPU time: {fl['cpu_ratio']:.2f} x) "
                 f"| {'yes' if fl['ratio'] <= 3 else 'no'} |")
        if fl["raw_ratio"] == fl["raw_ratio"]:
            L.append(f"| flood: whichports time / raw read floor (for reference) | "
                     f"{fl['raw_ratio']:.2f} x (CPU time: {fl['raw_cpu_ratio']:.2f} x) | - |")
        if tiny and by["flood"].get("flows_made"):
            n = by["flood"]["flows_made"]
            bpf = (fl["maxrss_kb"] - tiny["maxrss_kb"]) * 1024 / n
            L.append(f"| flood: < 200 bytes per flow, (peak RSS flood - peak RSS tiny) / {fmt_int(n)} "
                     f"| ({fmt_mib(fl['maxrss_kb'])} - {fmt_mib(tiny['maxrss_kb'])} MiB) / "
                     f"{fmt_int(n)} = {bpf:.0f} B | {'yes' if bpf < 200 else 'no'} |")
    L.append("")
    busy = max(float(mach[k].split(",")[0]) for k in ("load_start", "load_end"))
    if mach["cores"] and busy > mach["cores"]:
        notes = list(notes) + [
            f"the machine was busy with other work (1-minute load average up to {busy:.1f} on "
            f"{mach['cores']} cores), so the absolute times are inflated and noisy; the ratios, "
            "from interleaved runs, less so, and the CPU-time ratios least"]
    if notes:
        L.append("Notes: " + "; ".join(notes) + ".")
        L.append("")

    L.append("How it was measured:")
    L.append("")
    L.append("For each input, every tool first runs once as `/usr/bin/time -v CMD`: its "
             "\"Maximum resident set size\" is the peak RSS column (the run also warms the caches). "
             "Then the timed runs, round-robin over the tools (each tool once, then each again), "
             f"standard output to /dev/null: {a.runs} per tool, {max(a.runs, a.fast_runs)} for a tool "
             f"whose first run took under {a.fast_secs:.0f} s, {a.slow_runs} for one that took over "
             f"{a.slow_secs:.0f} s. `bench/harness.py` measures the wall time around each "
             "process (no wrapper) and takes its CPU time (user + system) from wait4(). "
             "\"x floor\" is the tool's median wall time over the floor's median wall time on the "
             "same input; packets/s and ns/packet come from the median wall time, startup included "
             "(see the tiny input for the fixed cost of starting a process).")
    L.append("")
    L.append("```")
    for t in [t for t in tool_commands(a) if any(t in i["tools"] for i in inputs)]:
        L.append(f"{t:<11} {display_cmd(t, a)}")
    L.append("```")
    L.append("")

    sections["results"] = "\n".join(L).rstrip("\n")
    L = []
    L.append(f"- CPU: {mach['cpu']}, {mach['cores']} cores; RAM {mach['mem']}")
    L.append(f"- OS: {mach['os']}, kernel {mach['kernel']}")
    for k, v in mach["versions"]:
        L.append(f"- {k}: {v}")
    L.append(f"- load average (1, 5, 15 min): {mach['load_start']} when the timing started, "
             f"{mach['load_end']} when it ended")
    sections["machine"] = "\n".join(L)
    return sections


if __name__ == "__main__":
    main()
