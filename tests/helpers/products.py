"""The products sync against the sandbox: a shop database with a products source mirroring N11, and the one
driver of a products run (``run_steps``: the steps the products DAG's tasks call, in the DAG's order; the DAG test
checks the order)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import TypeVar

from sqlalchemy import Engine, Table, select, update

from devtools.sandbox import Account, N11Sandbox
from include.products import run as steps
from include.products.groups import N11_FIELDS, PRICE_STOCK, PRODUCT_UPDATE, UPDATABLE_STATUSES
from include.products.run import RunOptions
from include.settings import StoreConfig
from include.tables import n11_product_source, n11_product_sync_errors, n11_product_sync_state
from n11.client import ClientSettings, N11Client
from tests.helpers.common import TEST_KEY, TEST_SECRET

T = TypeVar("T")

# The products DAG's tasks after the gate and the credential check, and the steps each one calls (``finish``, the
# lock's release, also runs from the failure callback of whichever task fails).
DAG_STEPS = {"plan_changes": ("start", "plan"), "push_batches": ("push_run",), "create_products": ("create_run",),
             "collect_results": ("collect", "finish")}

ENDPOINT_PATHS = {PRICE_STOCK: "/ms/product/tasks/price-stock-update",
                  PRODUCT_UPDATE: "/ms/product/tasks/product-update"}
FAST = ClientSettings(requests_per_minute=60000, backoff_seconds=0.01, backoff_max_seconds=0.02, max_attempts=2)


def run_steps(engine: Engine, client: N11Client, store: StoreConfig, run_id: str,
              options: RunOptions | None = None, pokes: int = 10_000,
              retried: Callable[[Callable[[], T]], T] | None = None) -> list[str]:
    """One products run as the DAG runs it, its steps in the DAG's order (``DAG_STEPS``): start, plan (links +
    diff), push, create, collect until N11 has finished the run's tasks (the sensor's pokes); the lock released at
    the end, also after a failure. ``retried`` runs each step as its task with retries (``Retried``). Returns the
    summary lines."""
    step = retried or (lambda call: call())
    options = options or RunOptions()

    def collect(planned: dict) -> list[str]:
        for _ in range(pokes):
            done, lines, _ = steps.collect(engine, client, store, run_id, planned)
            if done:
                return lines
        raise TimeoutError(f"run {run_id}: N11 did not finish within {pokes} pokes")

    try:
        step(lambda: steps.start(engine, client, store, run_id))
        planned = step(lambda: steps.plan(engine, client, store, run_id, options))
        step(lambda: steps.push_run(engine, client, store, run_id))
        step(lambda: steps.create_run(engine, client, store, run_id, options))
        return step(lambda: collect(planned))
    finally:
        steps.finish(engine, store, run_id)


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

    def run(self, run_id: str, retried: Callable[[Callable[[], T]], T] | None = None, update_type: str = "all",
            pokes: int = 10_000) -> list[str]:
        """One run named ``run_id``, each step retried as its task is when ``retried`` is given; the sandbox log
        is kept."""
        return run_steps(self.engine, self.client, self.store(update_type), run_id, pokes=pokes, retried=retried)

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
