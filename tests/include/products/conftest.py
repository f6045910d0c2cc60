"""The products sync against the sandbox: a shop database with a products source mirroring N11, and a runner.

A run calls the steps the products DAG's tasks call, in the DAG's order (``run_steps``; the DAG test checks the
order). ``harness`` runs on SQLite, PostgreSQL and MariaDB (for tests where the database matters: the diff, the
baseline, the errors); ``quick_harness`` on SQLite only.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from sqlalchemy import Engine, Table, select, update

from devtools.sandbox import Account, N11Sandbox
from include.products import run as products_run
from include.products.groups import N11_FIELDS, PRICE_STOCK, PRODUCT_UPDATE, UPDATABLE_STATUSES
from include.products.run import RunOptions
from include.settings import StoreConfig
from include.shop_db import dispose_engines, engine_for
from include.tables import n11_product_source, n11_product_sync_errors, n11_product_sync_state
from n11.client import ClientSettings, N11Client
from tests.conftest import TEST_KEY, TEST_SECRET

# The products DAG's tasks after the gate and the credential check, and the steps each one calls (``finish``, the
# lock's release, also runs from the failure callback of whichever task fails).
DAG_STEPS = {"plan_changes": ("start", "plan"), "push_batches": ("push_run",), "create_products": ("create_run",),
             "collect_results": ("collect", "finish")}

ENDPOINT_PATHS = {PRICE_STOCK: "/ms/product/tasks/price-stock-update",
                  PRODUCT_UPDATE: "/ms/product/tasks/product-update"}
FAST = ClientSettings(requests_per_minute=60000, backoff_seconds=0.01, backoff_max_seconds=0.02, max_attempts=2)


def run_steps(engine: Engine, client: N11Client, store: StoreConfig, run_id: str,
              options: RunOptions | None = None, pokes: int = 10_000) -> list[str]:
    """One products run as the DAG runs it, step by step (the lock released at the end, also after a failure);
    returns the summary lines."""
    try:
        products_run.start(engine, client, store, run_id)
        planned = products_run.plan(engine, client, store, run_id, options or RunOptions())
        products_run.push_run(engine, client, store, run_id)
        products_run.create_run(engine, client, store, run_id, options or RunOptions())
        for _ in range(pokes):
            done, lines, _ = products_run.collect(engine, client, store, run_id, planned)
            if done:
                return lines
        raise TimeoutError(f"run {run_id}: N11 did not finish within {pokes} pokes")
    finally:
        products_run.finish(engine, store, run_id)


def mirror(account: Account) -> list[dict]:
    """The shop side of every N11 product, equal to what N11 shows: nothing has changed yet."""
    return [{"stock_code": p["stockCode"], "title": p["title"],
             **{column: p[field] for column, field in N11_FIELDS.items()},
             "status": p["status"] if p["status"] in UPDATABLE_STATUSES else "Active"}
            for p in account.products.values()]


class Harness:
    """A shop and its N11 account: change shop rows, run the sync, read what reached N11 and what was recorded."""

    def __init__(self, engine: Engine, sandbox: N11Sandbox, rows: list[dict] | None = None,
                 source: Table = n11_product_source):
        self.engine, self.sandbox, self.source = engine, sandbox, source
        self.account = sandbox.state.account(TEST_KEY)
        self.client = N11Client(TEST_KEY, TEST_SECRET, sandbox.url, FAST)
        self.runs = 0
        source.metadata.create_all(engine)
        with engine.begin() as conn:
            conn.execute(source.insert(), rows or mirror(self.account))

    def store(self, update_type: str = "all", **settings) -> StoreConfig:
        return StoreConfig(slug="shop1", name="Test Mağaza", start_date=date(2026, 1, 1), update_type=update_type,
                           products_source=self.source.name, **settings)

    def sync(self, update_type: str = "all", settings: dict | None = None, **options) -> list[str]:
        """One run; the sandbox log then holds only this run's requests."""
        self.sandbox.clear_log()
        self.runs += 1
        return run_steps(self.engine, self.client, self.store(update_type, **(settings or {})), self.run_id,
                         RunOptions(**options))

    @property
    def run_id(self) -> str:
        return f"run-{self.runs}"

    def change(self, code: str, **values) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(self.source).where(self.source.c.stock_code == code).values(**values))

    def sent(self, endpoint: str) -> list[dict]:
        """The SKU entries this run POSTed to an endpoint."""
        return [sku for call in self.calls(endpoint) for sku in call.body["payload"]["skus"]]

    def calls(self, endpoint: str) -> list:
        return self.sandbox.calls("POST", ENDPOINT_PATHS[endpoint])

    def writes(self) -> int:
        return sum(len(self.calls(endpoint)) for endpoint in ENDPOINT_PATHS)

    def n11(self, code: str) -> dict:
        return self.account.products[code]

    def plain(self, count: int = 1, status: str = "Active") -> list[str]:
        """SKUs N11 updates without a fuss: in ``status`` and not catalogue-matched."""
        codes = [p["stockCode"] for p in self.account.products.values() if p["status"] == status
                 and p["catalogId"] is None]
        return sorted(codes)[:count]

    def catalogue(self) -> str:
        return min(p["stockCode"] for p in self.account.products.values()
                   if p["status"] == "Active" and p["catalogId"] is not None)

    def baseline(self, code: str) -> dict:
        state = n11_product_sync_state
        with self.engine.connect() as conn:
            return dict(conn.execute(select(state).where(state.c.stock_code == code)).mappings().one())

    def errors(self, **where) -> list[dict]:
        errors = n11_product_sync_errors
        query = select(errors).where(*(errors.c[k] == v for k, v in where.items())).order_by(errors.c.stock_code)
        with self.engine.connect() as conn:
            return [dict(row) for row in conn.execute(query).mappings()]


@pytest.fixture
def harness(shop_conn, sandbox) -> Iterator[Harness]:
    """On SQLite, PostgreSQL and MariaDB."""
    yield Harness(engine_for(shop_conn), sandbox)


@pytest.fixture
def quick_harness(sqlite_shop, sandbox) -> Iterator[Harness]:
    """On SQLite only, for tests where the database is not the point."""
    yield Harness(engine_for(sqlite_shop), sandbox)
    dispose_engines()
