"""The products DAG through Airflow (dag.test()): plan (links and diff), push, then a rescheduling sensor that
records N11's results."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import create_engine, func, select

from devtools.sandbox import shop_products
from include.products.groups import UPDATABLE_STATUSES
from include.shop_db import url_for
from include.tables import n11_product_source, n11_product_sync_errors, n11_product_sync_state, source_metadata
from tests.conftest import TEST_KEY
from tests.dags.conftest import load_dag

pytestmark = pytest.mark.dags
TASKS = ["gate", "check_credentials", "plan_changes", "push_batches", "collect_results"]
PRICE_STOCK = "/ms/product/tasks/price-stock-update"
PRODUCT_UPDATE = "/ms/product/tasks/product-update"


@pytest.fixture
def demo_shop(store_env, sandbox):
    """The store shop1 with the demo's shop side: mostly N11's values, some changed, some shop-only SKUs."""
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


def run_products(**conf) -> dict[str, str]:
    """One run of n11_shop1_products, its sensor poking every 0.1 s instead of backing off from 2 s."""
    dag = load_dag("n11_shop1_products")
    sensor = dag.get_task("collect_results")
    sensor.poke_interval, sensor.exponential_backoff = 0.1, False
    run = dag.test(run_conf=conf or None)
    return {"_run": str(run.state), **{ti.task_id: str(ti.state) for ti in run.get_task_instances()}}


def test_the_products_dag_is_a_handful_of_tasks_in_order(store_env):
    store_env()
    dag = load_dag("n11_shop1_products")
    assert [task.task_id for task in dag.topological_sort()] == TASKS
    assert dag.get_task("collect_results").mode == "reschedule"  # no worker slot held while N11 works
    assert dag.max_active_runs == 1 and not dag.catchup


def test_a_run_pushes_the_shops_changes_and_records_n11s_answers(demo_shop, sandbox, logged):
    states = run_products()

    assert states == {"_run": "success", **dict.fromkeys(TASKS, "success")}
    out = "\n".join(logged)
    assert "N11 is still processing" in out  # the sensor was rescheduled while N11's tasks were queued
    [summary] = [line for line in out.splitlines() if "store 'shop1' products (all): linked 60, unlinked 20" in line]
    assert "calls price-stock-update 1, product-update 1; succeeded" in summary
    sent = [sku["stockCode"] for call in sandbox.calls("POST", PRICE_STOCK) for sku in call.body["payload"]["skus"]]
    account = sandbox.state.account(TEST_KEY)
    with demo_shop.connect() as conn:
        shop = {row.stock_code: row.quantity for row in conn.execute(select(n11_product_source))}
        confirmed = dict(conn.execute(select(n11_product_sync_state.c.stock_code,
                                             n11_product_sync_state.c.quantity)).all())
        failures = conn.execute(select(func.count()).select_from(n11_product_sync_errors)).scalar_one()
    assert sent and all(account.products[code]["quantity"] == shop[code] == confirmed[code] for code in sent)
    assert all(account.products[code]["status"] in UPDATABLE_STATUSES for code in sent)
    assert failures == int(summary.split("failed ")[1].split(",")[0])

    sandbox.clear_log()
    assert run_products()["_run"] == "success"
    assert sandbox.calls("POST", PRICE_STOCK) == [] and sandbox.calls("POST", PRODUCT_UPDATE) == []


def test_a_dry_run_through_airflow_sends_nothing(demo_shop, sandbox, logged):
    states = run_products(dry_run=True)

    assert states["_run"] == "success" and states["collect_results"] == "success"
    assert sandbox.calls("POST", PRICE_STOCK) == [] and sandbox.calls("POST", PRODUCT_UPDATE) == []
    assert any("dry run: would send 4 SKU(s) to price-stock-update" in line for line in logged)
    assert any(line.endswith("dry run: nothing sent") for line in logged)


def test_a_non_boolean_run_option_is_refused_at_the_trigger_naming_the_key(demo_shop, sandbox):
    """The DAG's params (the trigger form's fields) refuse it before a run exists: nothing is scanned or sent."""
    from airflow.sdk.exceptions import ParamValidationError

    with pytest.raises(ParamValidationError, match="full_resync"):
        run_products(full_resync="yes")
    assert sandbox.calls("GET", "/ms/product-query") == []
    assert sandbox.calls("POST", PRICE_STOCK) == []
