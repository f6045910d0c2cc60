#!/bin/sh
# Redis for `make cluster` and its end-to-end test (the Celery broker): Debian's package, installed when it is
# missing. Only the binary is used: the cluster starts its own redis-server on a free port and never touches a system
# one. Elsewhere the cluster test is skipped.
PATH="$PATH:/usr/sbin:/usr/bin"
exec "$(dirname "$0")/install-package.sh" redis-server "make cluster needs it (its test will be skipped)" redis-server
