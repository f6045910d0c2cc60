#!/usr/bin/env bash
# Starts the local PostgreSQL and MariaDB the test suite uses, when they are installed but down.
set -u

wait_for() {  # wait_for NAME CHECK-COMMAND...
  local name=$1; shift
  for _ in $(seq 1 30); do "$@" >/dev/null 2>&1 && return 0; sleep 1; done
  echo "start-services: $name did not come up" >&2
  return 1
}

if command -v pg_isready >/dev/null && ! pg_isready -q -h 127.0.0.1 -p 5432; then
  echo "start-services: starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start
  wait_for PostgreSQL pg_isready -q -h 127.0.0.1 -p 5432
fi

if [ -x /usr/sbin/mariadbd ] && ! mysqladmin -h 127.0.0.1 -u root ping >/dev/null 2>&1; then
  echo "start-services: starting MariaDB"
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
  wait_for MariaDB mysqladmin -h 127.0.0.1 -u root ping
fi
exit 0
