"""The host name a process of `make cluster` reports (``[core] hostname_callable``): its ``N11_HOSTNAME``.

Workers on one machine share its host name; each Celery worker of the local cluster gets its own (``worker-1`` ...),
so a task instance shows which worker ran it, as containers' host names show in docker-compose. Kept apart from
devtools.cluster: every task process imports it.
"""

import os
import socket


def hostname() -> str:
    return os.environ.get("N11_HOSTNAME") or socket.getfqdn()
