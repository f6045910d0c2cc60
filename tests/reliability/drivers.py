"""Runs as Airflow would make them, against a sandbox: order intervals and product runs, step by step, each
step retried like a task with retries (``Retried``)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Engine, select

from devtools.sandbox import N11Sandbox
from include.orders.errors import OrderLoadError
from include.orders.run import load_orders
from include.products import results
from include.products import run as steps
from include.products.groups import LIVE_GROUPS
from include.settings import StoreConfig
from include.tables import n11_product_sync_state
from n11.client import ClientSettings, N11Client
from n11.errors import N11BadResponse, N11Unavailable
from tests.conftest import TEST_KEY, TEST_SECRET
from tests.include.products.conftest import Harness
from tests.reliability.conftest import Retried

# The baseline without timestamps nor the confirmed stock and price (those are compared with N11's live values,
# so a write whose receipt was lost is never confirmed, and need not be: the scan shows N11 has it).
BASELINE_VALUES = [c for c in n11_product_sync_state.columns if not c.name.endswith("_at")
                   and c.name not in {column for group in LIVE_GROUPS for column in group.columns}]


def client_of(sandbox: N11Sandbox, settings: ClientSettings) -> N11Client:
    return N11Client(TEST_KEY, TEST_SECRET, sandbox.url, settings)


def order_intervals(sandbox: N11Sandbox, engine: Engine, store: StoreConfig, start: datetime, end: datetime,
                    step: timedelta, settings: ClientSettings) -> tuple[Retried, list[int]]:
    """Consecutive intervals of ``step`` as scheduled runs; returns the tries and where in the sandbox log each
    try started."""
    retried, marks = Retried(OrderLoadError), []
    client = client_of(sandbox, settings)

    def attempt(lower: datetime) -> None:
        marks.append(len(sandbox.requests))
        load_orders(engine, client, store, lower, lower + step, now=lower + step + timedelta(minutes=5))

    try:
        while start < end:
            retried(lambda lower=start: attempt(lower))
            start += step
    finally:
        client.close()
    return retried, marks


def products_run(harness: Harness, run_id: str, retried: Retried, update_type: str = "all") -> None:
    """One products DAG run, its steps in the DAG's order (``DAG_STEPS``), each retried as its task is: start,
    plan (links + diff), push, create, collect until N11 has finished the run's tasks; finish even after a failure."""
    engine, client, store = harness.engine, harness.client, harness.store(update_type)
    try:
        retried(lambda: steps.start(engine, client, store, run_id))
        planned = retried(lambda: steps.plan(engine, client, store, run_id, steps.RunOptions()))
        retried(lambda: steps.push_run(engine, client, store, run_id))
        retried(lambda: steps.create_run(engine, client, store, run_id, steps.RunOptions()))
        retried(lambda: until_collected(harness, run_id, planned))
    finally:
        steps.finish(engine, store, run_id)


def until_collected(harness: Harness, run_id: str, planned: dict | None = None) -> None:
    """Poke until N11 has finished every task of the run (the results sensor)."""
    if planned is None:
        while not results.collect(harness.engine, harness.client, "shop1", run_id):
            pass
        return
    while not steps.collect(harness.engine, harness.client, harness.store(), run_id, planned)[0]:
        pass


PRODUCT_ERRORS = (N11Unavailable, N11BadResponse)


def baseline_values(engine: Engine) -> list[dict]:
    """The baseline without its timestamps: the values N11 confirmed, per SKU."""
    with engine.connect() as conn:
        query = select(*BASELINE_VALUES).order_by(n11_product_sync_state.c.stock_code)
        return [dict(row) for row in conn.execute(query).mappings()]
