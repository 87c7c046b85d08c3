#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# report-screenshot.sh -- make docs/report.png, the README's picture of the
# HTML report of pcaps/apple-session.pcap, with headless Chromium.
#
#   bash tools/report-screenshot.sh [BUILD_DIR]     (default: build)
#
# Builds whichports (ninja -C BUILD_DIR), writes the report to a temporary
# directory, and has Chromium draw the top of the page at 1200 x 1400 CSS
# pixels. Needs chromium (Debian package chromium).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${1:-build}"
cd "$ROOT"
command -v chromium >/dev/null || { echo "report-screenshot.sh: chromium is needed" >&2; exit 1; }
ninja -C "$BUILD" >/dev/null
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
"$BUILD/whichports" -q -r pcaps/apple-session.pcap -T html -o "$TMP/report.html"
SANDBOX=()
[[ $EUID -eq 0 ]] && SANDBOX=(--no-sandbox)
chromium --headless --disable-gpu "${SANDBOX[@]}" --user-data-dir="$TMP/profile" \
    --no-first-run --disable-background-networking --hide-scrollbars \
    --window-size=1200,1400 --screenshot="$TMP/report.png" "file://$TMP/report.html" \
    >/dev/null 2>"$TMP/chromium.err" || { cat "$TMP/chromium.err" >&2; exit 1; }
cp "$TMP/report.png" docs/report.png
echo "wrote docs/report.png" >&2
