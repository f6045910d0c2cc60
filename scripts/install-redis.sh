#!/bin/sh
# Redis for `make cluster` and its end-to-end test (the Celery broker): Debian's package, installed when it is missing
# and apt-get is available (CI runs as root on Debian). Only the binary is used: the cluster starts its own
# redis-server on a free port and never touches a system one. Elsewhere the cluster test is skipped.
set -e
if command -v redis-server >/dev/null 2>&1 || [ -x /usr/bin/redis-server ]; then
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "no redis-server and no apt-get: install Redis for make cluster (its test will be skipped)"
    exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo -n"
if ! { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq redis-server; } >/dev/null; then
    echo "could not install redis-server: make cluster needs it (its test will be skipped)"
fi
