"""What the Airflow UI shows of the store DAGs: the trigger form's fields, each task's time limit, the assets."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest
from airflow.sdk.exceptions import AirflowSkipException

from include.registry import load_registry
from include.tasks import store as store_tasks
from tests.dags.conftest import load_dag
from tests.helpers.dags import registry_of

pytestmark = pytest.mark.dags


def test_the_products_trigger_form_offers_dry_run_and_full_resync_with_descriptions(tmp_path, monkeypatch):
    registry_of(tmp_path, monkeypatch, 1)
    params = load_dag("n11_store_000_products").params
    for key in ("dry_run", "full_resync"):
        param = params.get_param(key)
        assert param.value is False
        assert param.schema["type"] == "boolean" and len(param.description) > 20


def test_every_task_of_both_dags_has_an_execution_timeout(tmp_path, monkeypatch):
    registry_of(tmp_path, monkeypatch, 1)
    for kind in ("orders", "products"):
        for task in load_dag(f"n11_store_000_{kind}").tasks:
            assert task.execution_timeout is not None, task.task_id
            assert task.execution_timeout.total_seconds() <= 3600, task.task_id


def test_the_last_task_of_each_dag_updates_the_stores_asset(tmp_path, monkeypatch):
    """The products task through an alias: it adds the asset's event itself, and not after a dry run
    (tests/dags/test_assets.py)."""
    registry_of(tmp_path, monkeypatch, 1)
    orders = load_dag("n11_store_000_orders").get_task("load_orders")
    products = load_dag("n11_store_000_products").get_task("collect_results")
    assert [a.uri for a in orders.outlets] == ["n11://store_000/orders"]
    assert [a.name for a in products.outlets] == ["n11_store_000_products"]


def test_the_dag_list_names_the_store_and_the_dags_kind(tmp_path, monkeypatch):
    registry_of(tmp_path, monkeypatch, 1)
    assert load_dag("n11_store_000_orders").dag_display_name == "Mağaza 0 · N11 orders"
    assert load_dag("n11_store_000_products").dag_display_name == "Mağaza 0 · N11 products"


def test_a_run_keeps_one_xcom_per_task_and_the_gates_holds_no_alert_channel(store_env, sandbox):
    """One return value per task, besides the lines of the run's note (include/tasks/run_note.py)."""
    store_env(notify={"email": ["ops@shop.example"]})
    run = load_dag("n11_shop1_orders").test()
    with sqlite3.connect(Path(os.environ["AIRFLOW_HOME"]) / "airflow.db") as conn:
        rows = conn.execute("SELECT task_id, key, value FROM xcom WHERE run_id = ?", (run.run_id,)).fetchall()
    assert sorted(task for task, key, _ in rows if key == "return_value") == sorted(run.dag.task_ids)
    assert sorted(task for task, key, _ in rows if key == "run_outcome") == ["load_orders", "send_order_actions",
                                                                                "sync_returns"]
    assert len(rows) == len(run.dag.task_ids) + 3
    gate = next(str(value) for task, _, value in rows if task == "gate")
    assert "shop1" in gate and "ops@shop.example" not in gate and "notify" not in gate


def test_a_skipped_gate_logs_one_line_with_store_integration_setting_and_where_to_change_it(store_env, caplog):
    """The gate's task body as the DAG's task calls it (Airflow itself logs only "Skipping task.")."""
    store_env(variable='{"product_sync": false}')
    [store] = load_registry().stores
    with pytest.raises(AirflowSkipException):
        store_tasks.gate.function(store.as_dict(), "products")
    assert ("store 'shop1': products skipped because product_sync=false; switch it with the Variable "
            "'n11_store_shop1' (Admin > Variables) or in the store registry") in caplog.text


def test_the_orders_trigger_form_offers_a_reload_range_empty_by_default(tmp_path, monkeypatch):
    registry_of(tmp_path, monkeypatch, 1)
    params = load_dag("n11_store_000_orders").params
    assert dict(params) == {"reload_from": None, "reload_to": None}
    assert "Istanbul date (2026-10-01)" in params.get_param("reload_from").description
