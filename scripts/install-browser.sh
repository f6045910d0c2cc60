#!/bin/sh
# Chromium for the browser test of the Airflow UI (tests/ui/): Debian's package, installed when it is missing.
# Elsewhere the browser test is skipped.
exec "$(dirname "$0")/install-package.sh" chromium "the browser test (tests/ui/) will be skipped" chromium chromium-browser
