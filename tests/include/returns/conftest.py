"""Fixtures for the returns: a sandbox over a month of orders and their return claims, and the shop database. The
runs and the shop's requests are in tests/helpers/returns.py."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import Engine

from devtools.sandbox import Account, N11Sandbox, SandboxState
from include.shop_db import engine_for
from tests.helpers.orders import month_account


@pytest.fixture
def start_sandbox() -> Iterator[Callable[..., N11Sandbox]]:
    """Start a sandbox over an account (a fresh month by default) with SandboxState options; stopped after."""
    started: list[N11Sandbox] = []

    def start(account: Account | None = None, **options) -> N11Sandbox:
        started.append(N11Sandbox(SandboxState([account or month_account()], **options)).start())
        return started[-1]

    yield start
    for sandbox in started:
        sandbox.stop()


@pytest.fixture
def n11(start_sandbox) -> N11Sandbox:
    return start_sandbox()


@pytest.fixture
def shop(shop_conn) -> Engine:
    """The shop database (SQLite, PostgreSQL, MariaDB) with its tables."""
    return engine_for(shop_conn)
