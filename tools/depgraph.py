#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""The call graph between source files, from the symbols of the core library.

For each src/X.c, the other source files whose wp_* functions or variables
it uses. Prints the graph; exits 1 when it has a cycle or when a report file
calls a report file above it (docs/design.md, "Dependency graph"), 77 when
nm is not available.

usage: depgraph.py LIBWPCORE.a
"""
import collections
import re
import shutil
import subprocess
import sys

# The report layer, top first: a file may call only files after it.
REPORT_LAYERS = [
    {"report"},
    {"report_text", "report_json", "report_csv", "report_html"},
    {"report_apple"},
    {"report_proc", "report_outcome"},
    {"report_baseline"},
    {"report_model", "report_filter"},
    {"report_model_proc"},
]


def module(member):
    # "libwpcore.a:src_report_csv.c.o" or "src_report_csv.c.o"
    m = member.rsplit(":", 1)[-1]
    m = m.rsplit("/", 1)[-1]
    if not m.startswith("src_"):
        return None  # generated (the embedded data files)
    return m[4:].split(".c.o")[0]


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    if shutil.which("nm") is None:
        print("nm not found: skipped")
        return 77
    out = subprocess.run(["nm", "-A", sys.argv[1]], capture_output=True, text=True,
                         check=True).stdout
    defs, uses = {}, collections.defaultdict(set)
    for line in out.splitlines():
        # "libwpcore.a:src_agg.c.o:0000000000000010 T wp_agg_new"
        # "libwpcore.a:src_agg.c.o:                 U wp_hash_bytes"
        m = re.match(r"^(.*?\.o):\s*[0-9a-fA-F]*\s+(\w)\s+(\S+)$", line)
        if m is None:
            continue
        mod, kind, sym = module(m.group(1)), m.group(2), m.group(3)
        if mod is None or not sym.startswith("wp_"):
            continue
        if kind in "TDBRC":
            defs[sym] = mod
        elif kind == "U":
            uses[mod].add(sym)
    graph = collections.defaultdict(set)
    for mod, syms in uses.items():
        for s in syms:
            if s in defs and defs[s] != mod:
                graph[mod].add(defs[s])
    mods = sorted(set(defs.values()) | set(uses))
    for m in mods:
        print(f"{m} -> {' '.join(sorted(graph[m]))}".rstrip())

    bad = 0
    state, stack = {}, []

    def dfs(u):
        nonlocal bad
        state[u] = 1
        stack.append(u)
        for v in sorted(graph[u]):
            if state.get(v) == 1:
                print("cycle: " + " -> ".join(stack[stack.index(v):] + [v]))
                bad += 1
            elif v not in state:
                dfs(v)
        stack.pop()
        state[u] = 2

    for m in mods:
        if m not in state:
            dfs(m)
    level = {m: i for i, layer in enumerate(REPORT_LAYERS) for m in layer}
    for m in mods:
        for v in graph[m]:
            if m in level and v in level and level[v] <= level[m]:
                print(f"layering: {m} calls {v}, which is not below it")
                bad += 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
