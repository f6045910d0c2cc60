"""The DAG file: two DAGs per registry store, built from the registry alone, fast and fault-isolated."""

from __future__ import annotations

import pytest
import yaml
from airflow.timetables.interval import CronDataIntervalTimetable

from tests.dags.conftest import ROOT, load_dag

pytestmark = pytest.mark.dags


def registry_of(tmp_path, monkeypatch, count: int, broken: dict | None = None) -> None:
    stores = [{"slug": f"store_{i:03d}", "name": f"Mağaza {i}", "start_date": "2026-01-01"} for i in range(count)]
    if broken:
        stores[count // 2] = {**stores[count // 2], **broken}
    path = tmp_path / "stores.yaml"
    path.write_text(yaml.safe_dump({"stores": stores}, allow_unicode=True), encoding="utf-8")
    monkeypatch.setenv("N11_STORES_FILE", str(path))


def bag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(str(ROOT / "dags"))


def test_two_hundred_stores_make_four_hundred_dags(tmp_path, monkeypatch):
    registry_of(tmp_path, monkeypatch, 200)
    dags = bag()
    assert dags.import_errors == {}
    expected = {f"n11_store_{i:03d}_{kind}" for i in range(200) for kind in ("orders", "products")}
    assert set(dags.dag_ids) == expected


def test_a_broken_entry_leaves_the_other_stores_loaded_and_shows_itself(tmp_path, monkeypatch):
    registry_of(tmp_path, monkeypatch, 200, broken={"update_type": "kampanya"})
    dags = bag()
    assert dags.import_errors == {}
    store_dags = [d for d in dags.dag_ids if not d.startswith("n11_registry_error")]
    assert len(store_dags) == 398
    assert "n11_store_100_orders" not in dags.dag_ids
    error_dag = dags.dags["n11_registry_error_101_store_100"]
    assert "registry-error" in error_dag.tags
    for text in ("store 'store_100'", "update_type", "'kampanya'"):
        assert text in error_dag.description and text in error_dag.doc_md


def test_the_orders_dag_runs_on_real_data_intervals_in_istanbul_time(tmp_path, monkeypatch):
    registry_of(tmp_path, monkeypatch, 1)
    dag = load_dag("n11_store_000_orders")
    assert isinstance(dag.timetable, CronDataIntervalTimetable)
    assert dag.timetable.summary == "0 * * * *"
    assert str(dag.timezone.name) == "Europe/Istanbul"
    assert dag.catchup is True
    assert [t.task_id for t in dag.topological_sort()][:2] == ["gate", "check_credentials"]
    assert dag.default_args["retries"] == 3
    assert dag.get_task("check_credentials").retries == 0
    assert {"n11", "orders", "store:store_000"} <= set(dag.tags)
    assert "| update_type | all |" in dag.doc_md


def test_every_task_of_a_store_shares_its_pool(tmp_path, monkeypatch):
    registry_of(tmp_path, monkeypatch, 2)
    for kind in ("orders", "products"):
        assert {t.pool for t in load_dag(f"n11_store_001_{kind}").tasks} == {"n11_store_001"}


def test_the_products_dag_runs_one_at_a_time(tmp_path, monkeypatch):
    registry_of(tmp_path, monkeypatch, 1)
    dag = load_dag("n11_store_000_products")
    assert dag.max_active_runs == 1 and dag.catchup is False
    assert [t.task_id for t in dag.topological_sort()][:2] == ["gate", "check_credentials"]


def test_a_task_process_builds_only_its_own_dag(tmp_path, monkeypatch):
    registry_of(tmp_path, monkeypatch, 50)
    monkeypatch.setenv("_AIRFLOW_PARSING_CONTEXT_DAG_ID", "n11_store_007_products")
    assert bag().dag_ids == ["n11_store_007_products"]


def test_import_reads_no_variable_and_no_connection(tmp_path, monkeypatch):
    from airflow.sdk import BaseHook, Variable

    def forbidden(*args, **kwargs):
        raise AssertionError("the DAG file must not read Variables or connections at import")

    monkeypatch.setattr(Variable, "get", forbidden)
    monkeypatch.setattr(BaseHook, "get_connection", forbidden)
    registry_of(tmp_path, monkeypatch, 3)
    assert bag().import_errors == {}
