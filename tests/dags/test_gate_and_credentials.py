"""Both store DAGs start with the gate and the credential check. One passive store runs through Airflow
(dag.test()): the skipped gate skips the rest of the run. The other cases call the two task bodies as the DAG's
tasks do (include/tasks/store.py), with the registry, the connections and the Variable from the environment."""

from __future__ import annotations

import logging

import pytest
from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException
from sqlalchemy import create_engine, select

from include.clock import utcnow
from include.registry import load_registry
from include.shop_db import url_for
from include.tables import n11_stores
from include.tasks import store as store_tasks
from tests.conftest import TEST_KEY
from tests.dags.conftest import run_dag

pytestmark = pytest.mark.dags


def store_row(shop) -> dict:
    with create_engine(url_for(shop)).connect() as conn:
        return dict(conn.execute(select(n11_stores)).mappings().one())


def registry_settings() -> dict:
    """The settings the DAG file hands the gate: the registry's store shop1."""
    [store] = load_registry().stores
    return store.as_dict()


def gate_and_check(integration: str) -> int:
    """The first two tasks of a run: the gate, then the credential check on the gate's effective settings."""
    effective = store_tasks.gate.function(registry_settings(), integration)
    return store_tasks.check_credentials.function(effective, integration)


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
    with pytest.raises(AirflowSkipException, match="orders skipped because order_sync=false"):
        store_tasks.gate.function(registry_settings(), "orders")
    assert sandbox.requests == []
    assert gate_and_check("products") == len(sandbox.state.account(TEST_KEY).products)


def test_good_credentials_are_recorded_for_the_back_office(store_env, sandbox):
    shop = store_env(update_type="stock")
    gate_and_check("products")
    row = store_row(shop)
    assert row["api_status"] == "ok" and row["api_checked_at"] is not None
    assert row["update_type"] == "stock"


def test_the_credential_check_keeps_the_canarys_standing_note_for_the_back_office(store_env, sandbox):
    shop = store_env(update_type="stock")
    gate_and_check("products")
    with create_engine(url_for(shop)).begin() as conn:  # the canary spoke during an orders run
        conn.execute(n11_stores.update().values(order_filter_contradicted_at=utcnow()))

    gate_and_check("products")

    message = store_row(shop)["api_message"]
    assert "products on N11" in message and "has contradicted the date filter" in message


def test_a_wrong_secret_fails_the_check_at_once_without_retries(store_env, sandbox, caplog):
    """An AirflowFailException: Airflow fails the task without using its retries."""
    shop = store_env(secret="wrong-secret-value")
    caplog.set_level(logging.INFO)
    with pytest.raises(AirflowFailException) as failure:
        gate_and_check("orders")
    assert len(sandbox.calls("GET", "/ms/product-query")) == 1
    out = str(failure.value) + caplog.text
    assert "store 'shop1'" in out and "Fix the API Key / API Secret of connection 'n11_shop1'" in caplog.text
    assert "wrong-secret-value" not in out
    assert store_row(shop)["api_status"] == "auth_failed"


def test_a_closed_order_service_is_reported_as_such(store_env, sandbox):
    sandbox.state.account(TEST_KEY).order_service_open = False
    shop = store_env()
    with pytest.raises(AirflowFailException):
        gate_and_check("orders")
    assert store_row(shop)["api_status"] == "order_service_closed"


def test_a_bad_variable_fails_the_run_naming_the_variable_and_value(store_env, caplog):
    store_env(variable="{active: no}")
    with pytest.raises(AirflowFailException) as failure:
        store_tasks.gate.function(registry_settings(), "orders")
    out = str(failure.value) + caplog.text
    assert "Airflow Variable 'n11_store_shop1'" in out and "is not valid JSON" in out
