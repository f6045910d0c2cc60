"""One Airflow pool per store, ``n11_<slug>``, so that a backfill of many intervals beside the schedule
cannot run more of the store's N11 work at once than ``pool_slots`` (default 1). Each task's client limits
itself to ``requests_per_minute / pool_slots`` (``store_run``), so the store's tasks together stay within the
connection's requests_per_minute, across processes and workers.

``python -m include.cli.pools`` creates or updates the pools of the registry with ``airflow pools import``;
``make airflow``, the compose file's init service and the scheduler test run it. (A DAG file may not touch
the database at parse time, so the DAG factory cannot create them itself.)
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from include.registry import Registry, load_registry


def pools_of(registry: Registry) -> dict[str, dict]:
    """The pool definitions in the format of ``airflow pools import``."""
    return {
        store.pool: {"slots": store.pool_slots, "include_deferred": False,
                     "description": f"N11 calls of store {store.slug!r} ({store.name})"}
        for store in registry.stores
    }


@contextmanager
def pools_file() -> Iterator[str]:
    """The registry's pools in a temporary file for ``airflow pools import``."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "pools.json"
        path.write_text(json.dumps(pools_of(load_registry())), encoding="utf-8")
        yield str(path)


def main() -> int:
    with pools_file() as path:
        result = subprocess.run([sys.executable, "-m", "airflow", "pools", "import", path], check=False)
    if result.returncode == 0:
        print(f"pools ready: {', '.join(sorted(pools_of(load_registry())))}")
    return result.returncode


if __name__ == "__main__":
    sys.exit(main())
