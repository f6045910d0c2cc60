"""The stores page after real runs (``dag.test()`` against the sandbox), read as the API server reads it: the
store's switches and API check from the shop database, its DAGs' last runs with their counts from Airflow's
metadata, the refused SKUs of the last products run linking to that run; a shop database that cannot be read
costs only its own stores their shop columns."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import quote

import pendulum
import pytest
from airflow.utils.session import create_session
from sqlalchemy import insert

from devtools.sandbox import new_shop_products
from include.registry import load_registry
from include.tables import n11_notifications, n11_order_actions, n11_product_source
from include.ui.stores_html import render_page
from include.ui.stores_page import page_html, store_rows
from tests.conftest import TEST_KEY
from tests.helpers.dags import run_dag, run_products

pytestmark = pytest.mark.dags


@pytest.fixture
def ran(demo_shop, store_env, sandbox) -> None:
    """shop1 after one orders run and one products run that lists new products, three of which the rules refuse."""
    account = sandbox.state.account(TEST_KEY)
    with demo_shop.begin() as conn:
        conn.execute(n11_product_source.insert(),
                     new_shop_products(taken_barcode=account.products[min(account.products)]["barcode"]))
    store_env(orders_schedule="0 0 * * *")  # one daily interval: yesterday's orders
    assert run_dag("n11_shop1_orders", logical_date=pendulum.now("Europe/Istanbul").start_of("day"))["_run"] == \
        "success"
    assert run_products()["_run"] == "success"
    with demo_shop.begin() as conn:  # after the runs: the orders run would have refused an unknown line's action
        conn.execute(insert(n11_order_actions), [{"store": "shop1", "order_line_id": "1", "action": "approve"}])
        conn.execute(insert(n11_notifications), [{"store": "shop1", "problem": "credentials",
                                                  "notified_at": datetime(2026, 11, 27, 9, 0)}])


def rows():
    with create_session() as session:
        return store_rows(session, load_registry().stores)


def test_a_store_shows_its_recorded_switches_api_check_and_both_last_runs_with_their_counts(ran):
    [row] = rows()
    assert row.store.slug == "shop1" and row.shop_error is None
    assert (row.shop.active, row.shop.order_sync, row.shop.product_sync) == (True, True, True)
    assert row.shop.api_status == "ok" and row.shop.api_checked_at is not None
    assert row.orders.state == "success"
    assert set(row.orders.counts) == {"load_orders", "send_order_actions", "sync_returns"}
    assert row.orders.note.startswith("- store 'shop1', orders modified")
    assert row.products.state == "success" and "collect_results" in row.products.counts
    assert row.products.url == f"dags/n11_shop1_products/runs/{quote(row.products.run_id, safe='')}"


def test_the_refused_skus_of_the_last_products_run_are_listed_with_a_link_to_that_run(ran):
    [row] = rows()
    assert row.shop.refused >= 3
    assert {"NEW-0101", "NEW-0102", "NEW-0103"} <= {refusal.stock_code for refusal in row.shop.refusals}
    html = render_page([row], [], "Europe/Istanbul", "", datetime.now(UTC))
    assert f'<a data-top href="/{row.products.url}">NEW-0101</a>' in html


def test_open_order_actions_and_the_last_alert_are_shown(ran):
    [row] = rows()
    assert row.shop.open_actions == 1
    assert row.shop.last_alert == "credentials"
    html = render_page([row], [], "Europe/Istanbul", "", datetime.now(UTC))
    assert "2026-11-27 12:00" in html  # 09:00 UTC, in Istanbul time


def test_a_store_its_shop_database_has_not_recorded_shows_its_registry_switches(store_env):
    store_env(active=False)
    [row] = rows()
    assert row.shop.recorded is False
    html = render_page([row], [], "Europe/Istanbul", "", datetime.now(UTC))
    assert '<span class="off">passive</span>' in html and "registry (no run yet)" in html


def test_a_missing_shop_connection_is_said_on_its_stores_and_the_page_still_renders(store_env):
    store_env(shop_conn_id="no_such_db")
    with create_session() as session:
        html = page_html(session, lambda store: True)
    assert "shop database connection &#x27;no_such_db&#x27; is not defined" in html


def test_the_page_lists_only_the_stores_the_user_may_read(store_env):
    store_env()
    with create_session() as session:
        html = page_html(session, lambda store: False)
    assert "shop1" not in html and "0 store(s)" in html


def test_stores_on_two_shop_databases_each_show_their_own_rows(store_env, tmp_path, monkeypatch):
    from include.shop_db import engine_for
    from include.store_status import record_settings
    from tests.conftest import Conn

    store_env()
    other = Conn("shop_b", "sqlite", str(tmp_path / "shop_b.db"))
    for key, value in other.env().items():
        monkeypatch.setenv(key, value)
    registry = tmp_path / "two.yaml"
    registry.write_text("stores:\n"
                        "  - {slug: shop1, name: A, start_date: '2026-01-01'}\n"
                        "  - {slug: shop2, name: B, start_date: '2026-01-01', shop_conn_id: shop_b, active: false}\n",
                        encoding="utf-8")
    monkeypatch.setenv("N11_STORES_FILE", str(registry))
    stores = load_registry().stores
    record_settings(engine_for(other), stores[1])
    with create_session() as session:
        first, second = store_rows(session, stores)
    assert (first.shop.recorded, second.shop.recorded) == (False, True)
    assert second.shop.active is False
