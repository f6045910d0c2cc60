"""The reliability suite's tools: Airflow-like task retries, retry bounds read from the sandbox log, figures, and
runs as Airflow would make them against a sandbox (order intervals; product runs go through ``run_steps``).

Each test records what it measured with ``record``; the figures are printed at the end of the session (also
under xdist: the workers send theirs to the controller) and written to ``$AIRFLOW_HOME/reliability-figures.json``
(docs/RELIABILITY.md quotes them).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from itertools import groupby
from typing import TypeVar

from sqlalchemy import Engine, select

from devtools.sandbox import N11Sandbox
from devtools.sandbox.server import RequestRecord
from include.orders.errors import OrderLoadError
from include.orders.run import load_orders
from include.products import results
from include.products import run as steps
from include.products.groups import LIVE_GROUPS
from include.settings import StoreConfig
from include.tables import n11_product_sync_state
from n11.client import ClientSettings, N11Client
from n11.errors import N11BadResponse, N11Unavailable
from tests.helpers.common import TEST_KEY, TEST_SECRET
from tests.helpers.figures import record  # noqa: F401 (the reliability tests import it from here)
from tests.helpers.products import Harness

T = TypeVar("T")

# Fast retries, and a read timeout that a "slow" fault (SLOW_SECONDS) overruns.
FAULTY = ClientSettings(requests_per_minute=600_000, connect_timeout=1.0, read_timeout=0.05, max_attempts=4,
                        max_retry_seconds=3.0, backoff_seconds=0.001, backoff_max_seconds=0.004)
SLOW_SECONDS = 0.08
TASK_RETRIES = 5  # what a DAG task gets from Airflow (3 in dags/n11_stores.py; more here to bound luck)


class Retried:
    """Runs a step as Airflow runs a task with retries: again on ``errors`` until it succeeds; counts tries."""

    def __init__(self, *errors: type[Exception]) -> None:
        self.errors = errors
        self.tries = 0
        self.failed = 0

    def __call__(self, step: Callable[[], T]) -> T:
        for attempt in range(TASK_RETRIES + 1):
            self.tries += 1
            try:
                return step()
            except self.errors:
                self.failed += 1
                if attempt == TASK_RETRIES:
                    raise
        raise AssertionError("unreachable")


def longest_repeat(records: list[RequestRecord]) -> int:
    """The most consecutive requests for the same thing (method, path, query, body): one call's attempts."""
    keys = [(r.method, r.path, sorted(r.query.items()), json.dumps(r.body, sort_keys=True, default=str))
            for r in records]
    return max((len(list(group)) for _, group in groupby(keys)), default=0)


def bound_seconds(settings: ClientSettings) -> float:
    """The longest one call can take: every attempt timing out, plus the backoffs between them."""
    attempt = settings.connect_timeout + settings.read_timeout
    return min(settings.max_attempts * attempt + settings.max_attempts * settings.backoff_max_seconds,
               settings.max_retry_seconds + attempt)


class Stopwatch:
    def __enter__(self) -> Stopwatch:
        self.start = time.monotonic()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.monotonic() - self.start


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
