"""Both store DAGs start with the gate and the credential check, run here through Airflow (dag.test())."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, select

from include.clock import utcnow
from include.shop_db import url_for
from include.tables import n11_stores
from tests.dags.conftest import run_dag

pytestmark = pytest.mark.dags


def store_row(shop) -> dict:
    with create_engine(url_for(shop)).connect() as conn:
        return dict(conn.execute(select(n11_stores)).mappings().one())


def test_a_passive_store_skips_its_runs_and_says_so_to_the_website(store_env, capfd):
    shop = store_env(active=False)
    states = run_dag("n11_shop1_orders")
    assert states["_run"] == "success"
    assert states["gate"] == "skipped" and states["check_credentials"] == "skipped"
    assert "the store is passive" in capfd.readouterr().out
    row = store_row(shop)
    assert row["active"] is False or row["active"] == 0
    assert row["store_url"] == "https://www.n11.com/magaza/test"


def test_the_variable_switches_off_order_sync_at_run_time(store_env, sandbox):
    store_env(variable='{"order_sync": false}')
    orders = run_dag("n11_shop1_orders")
    assert orders["gate"] == "skipped" and orders["check_credentials"] == "skipped"
    assert sandbox.requests == []
    products = run_dag("n11_shop1_products")
    assert products["gate"] == "success" and products["check_credentials"] == "success"


def test_good_credentials_are_recorded_for_the_back_office(store_env, sandbox):
    shop = store_env(update_type="stock")
    states = run_dag("n11_shop1_products", dry_run=True)
    assert states["check_credentials"] == "success"
    row = store_row(shop)
    assert row["api_status"] == "ok" and row["api_checked_at"] is not None
    assert row["update_type"] == "stock"


def test_the_credential_check_keeps_the_canarys_standing_note_for_the_back_office(store_env, sandbox):
    shop = store_env(update_type="stock")
    assert run_dag("n11_shop1_products", dry_run=True)["check_credentials"] == "success"
    with create_engine(url_for(shop)).begin() as conn:  # the canary spoke during an orders run
        conn.execute(n11_stores.update().values(order_filter_contradicted_at=utcnow()))

    assert run_dag("n11_shop1_products", dry_run=True)["check_credentials"] == "success"

    message = store_row(shop)["api_message"]
    assert "products on N11" in message and "has contradicted the date filter" in message


def test_a_wrong_secret_fails_the_check_at_once_without_retries(store_env, sandbox, capfd):
    shop = store_env(secret="wrong-secret-value")
    states = run_dag("n11_shop1_orders")
    assert states["_run"] == "failed"
    assert states["check_credentials"] == "failed"
    assert len(sandbox.calls("GET", "/ms/product-query")) == 1
    out = capfd.readouterr().out
    assert "store 'shop1'" in out and "Fix the API Key / API Secret of connection 'n11_shop1'" in out
    assert "wrong-secret-value" not in out
    assert store_row(shop)["api_status"] == "auth_failed"


def test_a_closed_order_service_is_reported_as_such(store_env, sandbox):
    from tests.conftest import TEST_KEY

    sandbox.state.account(TEST_KEY).order_service_open = False
    shop = store_env()
    assert run_dag("n11_shop1_orders")["check_credentials"] == "failed"
    assert store_row(shop)["api_status"] == "order_service_closed"


def test_a_bad_variable_fails_the_run_naming_the_variable_and_value(store_env, capfd):
    store_env(variable="{active: no}")
    states = run_dag("n11_shop1_orders")
    assert states["gate"] == "failed"
    out = capfd.readouterr().out
    assert "Airflow Variable 'n11_store_shop1'" in out and "is not valid JSON" in out
