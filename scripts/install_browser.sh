#!/usr/bin/env bash
# The browser test drives Debian's Chromium through its ChromeDriver; install both when missing.
# Without them the test fails with a message saying so: it is never skipped.
set -euo pipefail
if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "warning: no apt-get here: install Chromium at /usr/bin/chromium and ChromeDriver at /usr/bin/chromedriver" >&2
    exit 0
fi
if [ "$(id -u)" -eq 0 ]; then
    as_root=()
elif command -v sudo >/dev/null 2>&1; then
    as_root=(sudo)
else
    echo "warning: run as root: apt-get install chromium chromium-driver (the browser test needs them)" >&2
    exit 0
fi
echo "Installing Debian's chromium and chromium-driver for the browser test ..."
if ! { "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q \
       && "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium chromium-driver; } >/dev/null; then
    echo "warning: installing chromium failed; the browser test will fail and say so" >&2
fi
