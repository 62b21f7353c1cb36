#!/usr/bin/env bash
# The browser test drives Debian's Chromium through its ChromeDriver; install both when missing.
# Without them the test fails with a message saying so: it is never skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/apt_install.sh
if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then
    exit 0
fi
status=0
apt_install "the browser test" chromium chromium-driver || status=$?
if [ "$status" -ne 0 ] && [ "$status" -ne 2 ]; then
    echo "warning: installing chromium failed; the browser test will fail and say so" >&2
fi
exit 0
