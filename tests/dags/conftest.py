"""Running the store DAGs through Airflow (``dag.test()``) against the sandbox and a shop database."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
import yaml

from tests.conftest import TEST_KEY, TEST_SECRET, Conn

ROOT = Path(__file__).resolve().parents[2]


def write_registry(path: Path, **overrides) -> Path:
    """A one-store registry (slug ``shop1``) using the connections ``n11_shop1`` and ``shop_db``."""
    entry = {"slug": "shop1", "name": "Test Mağaza", "store_url": "https://www.n11.com/magaza/test",
             "start_date": "2026-01-01", **overrides}
    path.write_text(yaml.safe_dump({"stores": [entry]}, allow_unicode=True), encoding="utf-8")
    return path


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
