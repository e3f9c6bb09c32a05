#!/usr/bin/env bash
# Install Debian's chromium for the headless check of the HTML run report
# (tests/integration/test_report_html.py). Does nothing when a chromium is already on PATH.
# Needs root and apt-get; in CI the report test fails (rather than skips) without chromium.
set -euo pipefail

if command -v chromium >/dev/null || command -v chromium-browser >/dev/null; then
    exit 0
fi
if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null; then
    echo "install_chromium.sh: run as root on Debian/Ubuntu, or install chromium yourself" >&2
    exit 1
fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium
