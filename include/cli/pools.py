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
from pathlib import Path

from include.registry import Registry, load_registry


def pools_of(registry: Registry) -> dict[str, dict]:
    """The pool definitions in the format of ``airflow pools import``."""
    return {
        store.pool: {"slots": store.pool_slots, "include_deferred": False,
                     "description": f"N11 calls of store {store.slug!r} ({store.name})"}
        for store in registry.stores
    }


def main() -> int:
    pools = pools_of(load_registry())
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as file:
        json.dump(pools, file)
    try:
        result = subprocess.run([sys.executable, "-m", "airflow", "pools", "import", file.name], check=False)
    finally:
        Path(file.name).unlink()
    if result.returncode == 0:
        print(f"pools ready: {', '.join(sorted(pools))}")
    return result.returncode


if __name__ == "__main__":
    sys.exit(main())
