"""The orders DAG run through Airflow (dag.test()) against the sandbox, into each shop database."""

from __future__ import annotations

from datetime import timedelta

import pendulum
import pytest
from sqlalchemy import create_engine, select

from include.clock import from_ms, to_ms
from include.shop_db import url_for
from include.tables import n11_order_lines, n11_orders
from tests.conftest import TEST_KEY
from tests.dags.conftest import load_dag, run_dag
from tests.helpers.dags import latest_note
from tests.helpers.orders import add_package

pytestmark = pytest.mark.dags


def test_a_run_loads_the_orders_n11_modified_in_its_data_interval_and_logs_one_summary_line(
        store_env, sandbox, shop_conn, capfd, caplog):
    shop = store_env(shop=shop_conn, orders_schedule="0 0 * * *")
    today = pendulum.now("Europe/Istanbul").start_of("day")
    start, end = today.subtract(days=1), today  # the daily run that ends today at midnight, Istanbul time

    states = run_dag("n11_shop1_orders", logical_date=today)

    assert states == {"_run": "success", **dict.fromkeys(load_dag("n11_shop1_orders").task_ids, "success")}
    modified = sandbox.state.account(TEST_KEY).expected_orders(to_ms(start), to_ms(end))
    with create_engine(url_for(shop)).connect() as conn:
        orders = dict(conn.execute(select(n11_orders.c.order_number, n11_orders.c.last_modified)).all())
        lines = conn.execute(select(n11_order_lines.c.order_line_id)).scalars().all()
    assert modified and {package["orderNumber"] for package in modified} <= set(orders)
    overlap = timedelta(hours=3)
    padded = (from_ms(to_ms(start - overlap)), from_ms(to_ms(end + overlap)))
    assert all(padded[0] <= last_modified < padded[1] for last_modified in orders.values())
    out = capfd.readouterr().out + caplog.text  # Airflow logs to stdout on its first run in a process, then not
    assert (f"store 'shop1', orders modified {start.isoformat()} to "
            f"{end.isoformat()}: windows 1, ") in out
    assert f"; orders new {len(orders)}, updated 0, unchanged 0; lines new {len(lines)}, updated 0" in out


def test_bad_n11_data_fails_the_task_at_once_naming_the_store_window_and_package(store_env, sandbox, capfd, caplog):
    store_env(orders_schedule="0 0 * * *")
    today = pendulum.now("Europe/Istanbul").start_of("day")
    account = sandbox.state.account(TEST_KEY)
    bad = account.expected_orders(to_ms(today.subtract(days=1)), to_ms(today))[0]
    live = next(p for p in account.packages if p["id"] == bad["id"])
    live["orderNumber"] = None

    states = run_dag("n11_shop1_orders", logical_date=today)

    assert states["load_orders"] == "failed"
    out = capfd.readouterr().out + caplog.text
    assert f"store 'shop1', window {today.subtract(days=1, hours=3).isoformat()} to " in out
    assert f"package {bad['id']} has no orderNumber" in out
    requests = len(sandbox.calls("GET", "/rest/delivery/v1/shipmentPackages"))
    assert requests == 1 + 2 * 7  # the order service check, then one series per sender and status: no retry


def test_under_the_creation_reading_a_status_change_of_an_order_created_days_ago_reaches_the_shop(
        store_env, sandbox):
    sandbox.state.order_date_filter = "created"  # orderByField only sorts: the windows filter creation dates
    shop = store_env(orders_schedule="0 0 * * *")
    today = pendulum.now("Europe/Istanbul").start_of("day")
    package = add_package(sandbox.state.account(TEST_KEY), "2000000000021", to_ms(today.subtract(days=2).add(hours=10)),
                          shipmentPackageStatus="Created")
    assert run_dag("n11_shop1_orders", logical_date=today.subtract(days=1))["load_orders"] == "success"
    assert order_status(shop, "2000000000021") == "Created"

    sandbox.state.account(TEST_KEY).set_package_status("2000000000021", "Shipped", to_ms(today.add(hours=1)))
    sandbox.clear_log()
    assert run_dag("n11_shop1_orders", logical_date=today)["load_orders"] == "success"

    assert order_status(shop, "2000000000021") == "Shipped"  # brought by the follow-up, not by the windows
    assert any(str(package["id"]) in call.query.get("packageIds", "").split(",")
               for call in sandbox.calls("GET", "/rest/delivery/v1/shipmentPackages"))


def order_status(shop, number: str) -> str:
    with create_engine(url_for(shop)).connect() as conn:
        return conn.execute(select(n11_orders.c.status).where(n11_orders.c.order_number == number)).scalar_one()


def test_orders_received_while_the_store_was_passive_are_loaded_by_its_next_active_run_once(store_env, sandbox,
                                                                                             monkeypatch):
    shop = store_env(orders_schedule="0 0 * * *")
    today = pendulum.now("Europe/Istanbul").start_of("day")
    assert run_dag("n11_shop1_orders", logical_date=today.subtract(days=2))["load_orders"] == "success"
    monkeypatch.setenv("AIRFLOW_VAR_N11_STORE_SHOP1", '{"active": false}')
    passive = [run_dag("n11_shop1_orders", logical_date=today.subtract(days=1)),
               run_dag("n11_shop1_orders", logical_date=today)]
    monkeypatch.delenv("AIRFLOW_VAR_N11_STORE_SHOP1")
    assert [states["load_orders"] for states in passive] == ["skipped", "skipped"]

    assert run_dag("n11_shop1_orders", logical_date=today.add(days=1))["load_orders"] == "success"

    modified = sandbox.state.account(TEST_KEY).expected_orders(to_ms(today.subtract(days=3)), to_ms(today.add(days=1)))
    engine = create_engine(url_for(shop))
    with engine.connect() as conn:
        orders = set(conn.execute(select(n11_orders.c.order_number)).scalars())
        before = conn.execute(select(n11_orders).order_by(n11_orders.c.order_number)).all()
    assert {package["orderNumber"] for package in modified} <= orders  # the passive days' orders too
    for logical_date in (today.add(days=1), today):  # a rerun and a backfill of a passive day change nothing
        assert run_dag("n11_shop1_orders", logical_date=logical_date)["load_orders"] == "success"
    with engine.connect() as conn:
        after = conn.execute(select(n11_orders).order_by(n11_orders.c.order_number)).all()
    assert [row._mapping["order_number"] for row in after] == [row._mapping["order_number"] for row in before]


def test_a_reload_run_loads_every_order_n11_modified_in_its_range_whatever_its_own_interval(store_env, sandbox):
    """The trigger form's reload_from / reload_to: one run for the range, its note saying what it read."""
    shop = store_env(orders_schedule="0 0 * * *")
    today = pendulum.now("Europe/Istanbul").start_of("day")
    first = today.subtract(days=10)

    states = run_dag("n11_shop1_orders", logical_date=today, reload_from=first.to_date_string(),
                     reload_to=today.subtract(days=1).to_date_string())

    assert states["load_orders"] == "success"
    wanted = sandbox.state.account(TEST_KEY).expected_orders(to_ms(first), to_ms(today))
    with create_engine(url_for(shop)).connect() as conn:
        orders = set(conn.execute(select(n11_orders.c.order_number)).scalars())
    beyond_its_interval = [p for p in wanted if p["lastModifiedDate"] < to_ms(today.subtract(days=1, hours=3))]
    assert beyond_its_interval and {package["orderNumber"] for package in wanted} <= orders
    assert latest_note("n11_shop1_orders").startswith(
        f"- reload: store 'shop1', orders modified {first.isoformat()} to {today.isoformat()}: windows 1,")


def test_a_reload_range_that_ends_in_the_future_fails_at_once_naming_the_field(store_env, sandbox):
    store_env(orders_schedule="0 0 * * *")
    today = pendulum.now("Europe/Istanbul").start_of("day")

    states = run_dag("n11_shop1_orders", logical_date=today, reload_from=today.subtract(days=3).to_date_string(),
                     reload_to=today.add(days=1).to_date_string())

    assert states["load_orders"] == "failed"
    assert len(sandbox.calls("GET", "/rest/delivery/v1/shipmentPackages")) == 1  # the order service check only
    assert f"store 'shop1': reload_to '{today.add(days=1).to_date_string()}' ends in the future" in latest_note(
        "n11_shop1_orders")
