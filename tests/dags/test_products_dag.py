"""The products DAG through Airflow (dag.test()): plan (the run lock, earlier tasks collected, links and diff),
push, then a deferring sensor that records N11's results and releases the lock (a failing task's callback
releases it too)."""

from __future__ import annotations

import threading
import time
from datetime import date

import pytest
from sqlalchemy import create_engine, func, select

from include.products import run as products_run
from include.products.groups import UPDATABLE_STATUSES
from include.settings import StoreConfig
from include.shop_db import engine_for, url_for
from include.tables import n11_product_run_lock, n11_product_source, n11_product_sync_errors, n11_product_sync_state
from include.tasks.deferring_sensor import DeferringSensorOperator
from include.tasks.store_run import store_run
from n11.client import N11Client
from tests.conftest import TEST_KEY, TEST_SECRET, Conn
from tests.dags.conftest import load_dag
from tests.helpers.dags import PRICE_STOCK, PRODUCT_UPDATE, run_products
from tests.helpers.products import DAG_STEPS, FAST

pytestmark = pytest.mark.dags
DAG_ID = "n11_shop1_products"


def test_the_products_dag_is_a_handful_of_tasks_in_order(store_env):
    store_env()
    dag = load_dag(DAG_ID)
    # after the gate and the credential check, the steps the products tests run (run_steps), in this order
    assert [task.task_id for task in dag.topological_sort()] == ["gate", "check_credentials", *DAG_STEPS]
    # no worker slot held while N11 works: the waits are deferred (reschedule mode fails tries falsely on Celery)
    assert isinstance(dag.get_task("collect_results"), DeferringSensorOperator)
    assert all("release_run_lock" in [getattr(callback, "__name__", "") for callback in
                                      dag.get_task(task).on_failure_callback] for task in DAG_STEPS)
    assert dag.max_active_runs == 1 and not dag.catchup


def test_a_run_pushes_the_shops_changes_and_records_n11s_answers(demo_shop, sandbox, logged):
    states = run_products()

    assert states == {"_run": "success", **dict.fromkeys(load_dag(DAG_ID).task_ids, "success")}
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


def test_tasks_n11_finishes_after_two_polls_complete_through_the_sensors_own_pokes(demo_shop, sandbox):
    """N11 calls a queued task's empty details one page: the sensor waits on, as shipped, and no try fails."""
    sandbox.state.queue_polls, sandbox.state.empty_pages = 2, 1
    started = time.monotonic()
    dag = load_dag(DAG_ID)
    run = dag.test()
    print(f"products run with N11 answering after two polls: {time.monotonic() - started:.1f} s")

    tries = {ti.task_id: (str(ti.state), ti.try_number) for ti in run.get_task_instances()}
    assert tries == dict.fromkeys(dag.task_ids, ("success", 1))
    assert len(sandbox.calls("POST", "/ms/product/task-details/page-query")) >= 2 * 2


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


STORE = StoreConfig(slug="shop1", name="Test Mağaza", start_date=date(2026, 1, 1), n11_conn_id="n11_shop1")


def lock_rows(engine) -> list[tuple]:
    with engine.connect() as conn:
        return conn.execute(select(n11_product_run_lock.c.store, n11_product_run_lock.c.run_id)).all()


def test_a_run_started_while_another_is_in_progress_does_nothing_and_the_first_finishes(demo_shop, sandbox):
    """Two real overlapping runs: run A (the DAG's steps in this process) has pushed and waits for N11's results
    when run B starts through Airflow; B skips, sends nothing, and leaves A's lock alone."""
    store = STORE
    account = sandbox.state.account(TEST_KEY)
    client = N11Client(TEST_KEY, TEST_SECRET, sandbox.url, FAST)
    engine = engine_for(Conn("shop_db", "sqlite", demo_shop.url.database))
    products_run.start(engine, client, store, "run-a")
    planned = products_run.plan(engine, client, store, "run-a", products_run.RunOptions())
    products_run.push_run(engine, client, store, "run-a")
    sent_by_a = len(account.tasks)
    sandbox.clear_log()

    states = run_products()

    assert states["_run"] == "success" and states["plan_changes"] == "skipped"
    after_plan = load_dag(DAG_ID).get_task("plan_changes").get_flat_relative_ids(upstream=False)
    assert after_plan and {states[task] for task in after_plan} == {"skipped"}
    assert sandbox.requests and all(r.path == "/ms/product-query" for r in sandbox.requests)  # the credential check
    assert len(account.tasks) == sent_by_a and lock_rows(engine) == [("shop1", "run-a")]
    for _ in range(5):
        if products_run.collect(engine, client, store, "run-a", planned)[0]:
            break
    assert products_run.finish(engine, store, "run-a") and lock_rows(engine) == []
    assert run_products()["_run"] == "success"  # the store is free again
    client.close()


def test_a_failed_run_releases_the_lock(store_env, sandbox):
    shop = store_env(products_source="no_such_view")
    states = run_products()
    assert states["plan_changes"] == "failed"
    assert lock_rows(create_engine(url_for(shop))) == []  # the failure callback released it


def test_airflow_refuses_a_backfill_of_the_products_dag_before_any_run_exists(store_env):
    """Refused where it is asked for (CLI, UI, API): no run, so no failed run and no alert."""
    from airflow.cli import cli_parser
    from airflow.exceptions import DagRunTypeNotAllowed

    store_env(variable='{"product_sync": false}')
    run_products()  # puts the DAG into Airflow's metadata database, as the DAG processor does
    runs_before = len(dag_runs(DAG_ID))
    args = cli_parser.get_parser().parse_args(["backfill", "create", "--dag-id", DAG_ID, "--from-date",
                                               "2026-11-01", "--to-date", "2026-11-03"])
    with pytest.raises(DagRunTypeNotAllowed, match=f"Dag with dag_id: '{DAG_ID}' does not allow backfill runs"):
        args.func(args)
    assert len(dag_runs(DAG_ID)) == runs_before


def dag_runs(dag_id: str) -> list[str]:
    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session

    with create_session() as session:
        return list(session.scalars(select(DagRun.run_id).where(DagRun.dag_id == dag_id)))


def test_with_several_pool_slots_a_stores_calls_together_stay_within_its_rate(store_env, sandbox, monkeypatch):
    """Each of the store's tasks (at most pool_slots at once: its pool) gets 1/pool_slots of requests_per_minute."""
    store_env(pool_slots=2)
    calls, rate = 6, 600
    n11 = Conn("n11_shop1", "n11", sandbox.url, TEST_KEY, TEST_SECRET, extra_json=f'{{"requests_per_minute": {rate}}}')
    monkeypatch.setenv(*n11.env().popitem())
    settings = {**STORE.as_dict(), "pool_slots": 2}

    errors: list[Exception] = []

    def task() -> None:
        try:
            with store_run(settings) as run:
                for _ in range(calls):
                    run.client.check_credentials()
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    started = time.monotonic()
    threads = [threading.Thread(target=task) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    made = len(sandbox.calls("GET", "/ms/product-query"))
    assert errors == [] and made == 2 * calls
    assert (made - 2) / elapsed <= rate / 60  # beyond each client's first call, spaced at the shared rate
