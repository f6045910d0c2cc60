#!/bin/sh
# Chromium for the browser test of the Airflow UI (tests/ui/): Debian's package, installed when it is missing
# and apt-get is available (CI runs as root on Debian). Elsewhere the browser test is skipped.
set -e
if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "no chromium and no apt-get: the browser test (tests/ui/) will be skipped"
    exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo -n"
if ! { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium; } >/dev/null; then
    echo "could not install chromium: the browser test (tests/ui/) will be skipped"
fi
