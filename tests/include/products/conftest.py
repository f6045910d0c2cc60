"""The products sync against the sandbox: ``harness`` runs on SQLite, PostgreSQL and MariaDB (for tests where
the database matters: the diff, the baseline, the errors); ``quick_harness`` on SQLite only. The harness and the
one products-run driver (``run_steps``) are in tests/helpers/products.py (imported here for this directory's
modules).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from include.shop_db import dispose_engines, engine_for
from tests.helpers.products import FAST, Harness, mirror  # noqa: F401 (this directory's modules import them from here)


@pytest.fixture
def harness(shop_conn, sandbox) -> Iterator[Harness]:
    """On SQLite, PostgreSQL and MariaDB."""
    yield Harness(engine_for(shop_conn), sandbox)


@pytest.fixture
def quick_harness(sqlite_shop, sandbox) -> Iterator[Harness]:
    """On SQLite only, for tests where the database is not the point."""
    yield Harness(engine_for(sqlite_shop), sandbox)
    dispose_engines()
