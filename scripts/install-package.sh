#!/bin/sh
# install-package.sh PACKAGE WHAT COMMAND...: Debian's PACKAGE, installed when none of the COMMANDs exists and apt-get
# is available (CI runs as root on Debian); WHAT names what needs it, for the message when it cannot be installed.
set -e
package=$1 what=$2
shift 2
for command in "$@"; do
    if command -v "$command" >/dev/null 2>&1; then
        exit 0
    fi
done
if ! command -v apt-get >/dev/null 2>&1; then
    echo "no $package and no apt-get: $what"
    exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo -n"
if ! { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$package"; } >/dev/null; then
    echo "could not install $package: $what"
fi
