"""Fixtures for the returns: a sandbox over a month of orders and their return claims, and the shop database. The
runs and the shop's requests are in tests/helpers/returns.py."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import Engine

from devtools.sandbox import N11Sandbox
from include.shop_db import engine_for
from tests.helpers.orders import month_account
from tests.helpers.sandbox import sandboxes


@pytest.fixture
def start_sandbox() -> Iterator[Callable[..., N11Sandbox]]:
    """Start a sandbox over an account (a fresh month by default) with SandboxState options; stopped after."""
    with sandboxes(month_account) as start:
        yield start


@pytest.fixture
def n11(start_sandbox) -> N11Sandbox:
    return start_sandbox()


@pytest.fixture
def shop(shop_conn) -> Engine:
    """The shop database (SQLite, PostgreSQL, MariaDB) with its tables."""
    return engine_for(shop_conn)
