"""Runs as Airflow would make them, against a sandbox: order intervals and product runs, step by step, each
step retried like a task with retries (``Retried``)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Engine, select

from devtools.sandbox import N11Sandbox
from include.orders.sync import OrderSyncError, sync_orders
from include.products import links, push, results, sync
from include.registry import StoreConfig
from include.tables import n11_product_sync_state
from n11.client import ClientSettings, N11Client
from n11.errors import N11BadResponse, N11Unavailable
from tests.conftest import TEST_KEY, TEST_SECRET
from tests.include.products.conftest import Harness
from tests.reliability.conftest import Retried

BASELINE_VALUES = [c for c in n11_product_sync_state.columns if not c.name.endswith("_at")]


def client_of(sandbox: N11Sandbox, settings: ClientSettings) -> N11Client:
    return N11Client(TEST_KEY, TEST_SECRET, sandbox.url, settings)


def order_intervals(sandbox: N11Sandbox, engine: Engine, store: StoreConfig, start: datetime, end: datetime,
                    step: timedelta, settings: ClientSettings) -> tuple[Retried, list[int]]:
    """Consecutive intervals of ``step`` as scheduled runs; returns the tries and where in the sandbox log each
    try started."""
    retried, marks = Retried(OrderSyncError), []
    client = client_of(sandbox, settings)

    def attempt(lower: datetime) -> None:
        marks.append(len(sandbox.requests))
        sync_orders(client, engine, store, lower, lower + step)

    try:
        while start < end:
            retried(lambda lower=start: attempt(lower))
            start += step
    finally:
        client.close()
    return retried, marks


def products_run(harness: Harness, run_id: str, retried: Retried, update_type: str = "all") -> None:
    """One products DAG run: plan (links + diff), push, then collect until N11 has finished every task."""
    engine, client, store = harness.engine, harness.client, harness.store(update_type)

    def plan() -> list[push.BatchRef]:
        links.refresh(engine, client, store)
        return sync.plan_run(engine, store, run_id, sync.RunOptions())[1]

    refs = retried(plan)
    retried(lambda: push.send_all(engine, client, store.slug, run_id, refs))
    retried(lambda: until_collected(harness, run_id))


def until_collected(harness: Harness, run_id: str) -> None:
    """Poke until N11 has finished every task of the run (the results sensor)."""
    while not results.collect(harness.engine, harness.client, "shop1", run_id):
        pass


PRODUCT_ERRORS = (N11Unavailable, N11BadResponse)


def baseline_values(engine: Engine) -> list[dict]:
    """The baseline without its timestamps: the values N11 confirmed, per SKU."""
    with engine.connect() as conn:
        query = select(*BASELINE_VALUES).order_by(n11_product_sync_state.c.stock_code)
        return [dict(row) for row in conn.execute(query).mappings()]
