# SPDX-License-Identifier: BSD-3-Clause
# Sourced by the live benchmarks: two network namespaces $NA and $NB joined
# by the veth pair $IA/$IB, up, without IPv6 (the kernel sends nothing of its
# own), and a scratch directory $TMP; all removed on exit.
# Usage: . bench/netns.sh PREFIX   (names made of PREFIX and the shell's pid)

NA=${1}$$a NB=${1}$$b IA=${1:0:3}$$x IB=${1:0:3}$$y
TMP=$(mktemp -d)
netns_cleanup() { ip netns del "$NA" 2>/dev/null || true; ip netns del "$NB" 2>/dev/null || true; rm -rf "$TMP"; }
trap netns_cleanup EXIT
ip netns add "$NA"; ip netns add "$NB"
ip link add "$IA" netns "$NA" type veth peer name "$IB" netns "$NB"
for pair in "$NA:$IA" "$NB:$IB"; do
    ns=${pair%%:*} ifc=${pair##*:}
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
    ip netns exec "$ns" sysctl -qw "net.ipv6.conf.$ifc.disable_ipv6=1"
    ip -n "$ns" link set "$ifc" up
    ip -n "$ns" link set lo up
done
