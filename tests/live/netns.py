# SPDX-License-Identifier: BSD-3-Clause
"""Two network namespaces joined by a veth pair, for the live tests (root)."""

import subprocess


def sh(*cmd, check=True, **kw):
    """Run cmd; its CompletedProcess (text). Raises with its stderr when it
    fails and check is true."""
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)
    if check and p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: {p.stderr.strip()}")
    return p


def veth_pair(ns_a, if_a, ns_b, if_b, addrs_a=(), addrs_b=()):
    """Make namespaces ns_a and ns_b joined by the veth pair if_a/if_b, both
    up with their loopback. addrs_*: "ADDR/LEN" strings for each end (IPv6
    ones without duplicate address detection). An end without an IPv6
    address has IPv6 off, so that the kernel sends nothing of its own there."""
    sh("ip", "netns", "add", ns_a)
    sh("ip", "netns", "add", ns_b)
    sh("ip", "link", "add", if_a, "netns", ns_a, "type", "veth", "peer", "name", if_b,
       "netns", ns_b)
    for ns, ifc, addrs in ((ns_a, if_a, addrs_a), (ns_b, if_b, addrs_b)):
        if not any(":" in a for a in addrs):
            sh("ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1")
            sh("ip", "netns", "exec", ns, "sysctl", "-qw", f"net.ipv6.conf.{ifc}.disable_ipv6=1")
        for a in addrs:
            sh("ip", "-n", ns, "addr", "add", a, "dev", ifc, *(["nodad"] if ":" in a else []))
        sh("ip", "-n", ns, "link", "set", ifc, "up")
        sh("ip", "-n", ns, "link", "set", "lo", "up")


def remove(*namespaces):
    """Delete the namespaces (and so their veth ends); missing ones are fine."""
    for ns in namespaces:
        sh("ip", "netns", "del", ns, check=False)
