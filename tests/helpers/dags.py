"""Running the store DAGs through Airflow (``dag.test()``) against the sandbox and a shop database: the registry,
the connections, the demo's shop side, and what the code logs. Its fixtures (``store_env``, ``demo_shop``,
``logged``) are registered for every test module by tests/conftest.py."""

from __future__ import annotations

import logging
import sqlite3
from datetime import datetime
from pathlib import Path

import pytest
import yaml
from sqlalchemy import create_engine, select

from tests.helpers.common import ROOT, TEST_KEY, TEST_SECRET, Conn

PRICE_STOCK = "/ms/product/tasks/price-stock-update"
PRODUCT_UPDATE = "/ms/product/tasks/product-update"


def write_registry(path: Path, **overrides) -> Path:
    """A one-store registry (slug ``shop1``) using the connections ``n11_shop1`` and ``shop_db``."""
    entry = {"slug": "shop1", "name": "Test Mağaza", "store_url": "https://www.n11.com/magaza/test",
             "start_date": "2026-01-01", **overrides}
    path.write_text(yaml.safe_dump({"stores": [entry]}, allow_unicode=True), encoding="utf-8")
    return path


def registry_of(tmp_path, monkeypatch, count: int, broken: dict | None = None) -> None:
    """A registry of ``count`` stores ``store_000``... (one of them ``broken`` with these values) in use."""
    stores = [{"slug": f"store_{i:03d}", "name": f"Mağaza {i}", "start_date": "2026-01-01"} for i in range(count)]
    if broken:
        stores[count // 2] = {**stores[count // 2], **broken}
    path = tmp_path / "stores.yaml"
    path.write_text(yaml.safe_dump({"stores": stores}, allow_unicode=True), encoding="utf-8")
    monkeypatch.setenv("N11_STORES_FILE", str(path))


@pytest.fixture
def store_env(monkeypatch, tmp_path, sandbox, airflow_db, sqlite_shop):
    """Registry, N11 connection (pointing at the sandbox) and shop connection for the store ``shop1``."""

    def configure(shop: Conn = sqlite_shop, secret: str = TEST_SECRET, variable: str | None = None, **store):
        monkeypatch.setenv("N11_STORES_FILE", str(write_registry(tmp_path / "stores.yaml", **store)))
        n11 = Conn("n11_shop1", "n11", sandbox.url, TEST_KEY, secret, extra_json='{"requests_per_minute": 6000, '
                   '"max_attempts": 2, "backoff_seconds": 0.1}')
        for conn in (n11, shop):
            for key, value in conn.env().items():
                monkeypatch.setenv(key, value)
        if variable is None:
            monkeypatch.delenv("AIRFLOW_VAR_N11_STORE_SHOP1", raising=False)
        else:
            monkeypatch.setenv("AIRFLOW_VAR_N11_STORE_SHOP1", variable)
        return shop

    return configure


@pytest.fixture
def demo_shop(store_env, sandbox):
    """The store shop1 with the demo's shop side: mostly N11's values, some changed, some shop-only SKUs."""
    from devtools.sandbox import shop_products
    from include.shop_db import url_for
    from include.tables import n11_product_source, source_metadata

    shop = store_env()
    engine = create_engine(url_for(shop))
    source_metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(n11_product_source.insert(), shop_products(sandbox.state.account(TEST_KEY), seed=7))
    yield engine
    engine.dispose()


@pytest.fixture
def logged():
    """What the products code logs, read from its own logger (Airflow reconfigures the root logger mid-test)."""
    lines: list[str] = []
    handler = logging.Handler(logging.INFO)
    handler.emit = lambda record: lines.append(record.getMessage())
    logger = logging.getLogger("include")
    logger.addHandler(handler)
    level, logger.level = logger.level, logging.INFO
    yield lines
    logger.removeHandler(handler)
    logger.setLevel(level)


def load_dag(dag_id: str):
    """Parse the DAG file as the DAG processor does and return one DAG."""
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(str(ROOT / "dags"))
    assert not bag.import_errors, bag.import_errors
    return bag.dags[dag_id]


def run_dag(dag_id: str, logical_date: datetime | None = None, **conf) -> dict[str, str]:
    """Run one DAG run in-process with ``dag.test()``; returns ``{task_id: state}`` and the run's state."""
    run = load_dag(dag_id).test(logical_date=logical_date, run_conf=conf or None)
    states = {ti.task_id: str(ti.state) for ti in run.get_task_instances()}
    return {"_run": str(run.state), **states}


def latest_note(dag_id: str) -> str | None:
    """The run note of the DAG's latest run (include/tasks/run_note.py writes it when the run ends)."""
    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session

    with create_session() as session:
        return session.scalars(select(DagRun).where(DagRun.dag_id == dag_id).order_by(DagRun.id.desc())).first().note


def run_products(**conf) -> dict[str, str]:
    """One run of n11_shop1_products, its sensor poking every 0.1 s instead of backing off from 2 s."""
    dag = load_dag("n11_shop1_products")
    sensor = dag.get_task("collect_results")
    sensor.poke_interval, sensor.exponential_backoff = 0.1, False
    run = dag.test(run_conf=conf or None)
    return {"_run": str(run.state), **{ti.task_id: str(ti.state) for ti in run.get_task_instances()}}


def airflow_values(db: Path, table: str) -> list[str]:
    """Every value of a table of Airflow's metadata database, as text."""
    with sqlite3.connect(db) as conn:
        return [str(value) for row in conn.execute(f"SELECT * FROM {table}") for value in row]  # noqa: S608
