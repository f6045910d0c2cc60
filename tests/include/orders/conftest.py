"""Fixtures for the order sync: a sandbox over a month of orders under either reading of N11's date filter, and
the shop database. The data and the runs are in tests/helpers/orders.py (imported here for this directory's
modules)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import Engine

from devtools.sandbox import N11Sandbox
from include.shop_db import engine_for
from tests.helpers.orders import (  # noqa: F401 (this directory's modules import them from here)
    FAST,
    LOADED,
    MODIFIED_MS,
    MONTH_END,
    MONTH_START,
    OPEN,
    READING_IDS,
    READINGS,
    STORE,
    account_of,
    add_package,
    expected,
    month_account,
    served_ms,
    snapshot,
    stored,
    sync,
    sync_every,
    wire_line,
    wire_package,
)
from tests.helpers.sandbox import sandboxes


@pytest.fixture
def reading() -> str:
    """What the sandbox's ``orderByField=true`` filters: the documented last modification unless a test module
    runs its scenarios under both readings by overriding this fixture."""
    return "modified"


@pytest.fixture
def start_sandbox(reading) -> Iterator[Callable[..., N11Sandbox]]:
    """Start a sandbox over an account (a fresh month by default) with SandboxState options, its date filter
    the ``reading`` unless given; stopped after."""
    with sandboxes(month_account, order_date_filter=reading) as start:
        yield start


@pytest.fixture
def month(start_sandbox) -> N11Sandbox:
    return start_sandbox()


@pytest.fixture
def shop(shop_conn) -> Engine:
    """The shop database (SQLite, PostgreSQL, MariaDB) with its tables."""
    return engine_for(shop_conn)
