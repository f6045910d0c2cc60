"""One Airflow pool per store, created from the registry by ``python -m include.cli.pools``."""

from __future__ import annotations

import subprocess
import sys

import yaml

from include.cli.pools import pools_of
from include.registry import load_registry


def test_each_store_gets_a_pool_with_its_slots(tmp_path):
    path = tmp_path / "stores.yaml"
    path.write_text(yaml.safe_dump({"stores": [
        {"slug": "a", "name": "A", "start_date": "2026-01-01"},
        {"slug": "b", "name": "B", "start_date": "2026-01-01", "pool_slots": 3},
    ]}), encoding="utf-8")
    pools = pools_of(load_registry(path))
    assert {name: pool["slots"] for name, pool in pools.items()} == {"n11_a": 1, "n11_b": 3}


def test_the_command_creates_them_in_airflow(tmp_path, monkeypatch, airflow_db):
    path = tmp_path / "stores.yaml"
    path.write_text(yaml.safe_dump({"stores": [{"slug": "poolshop", "name": "P", "start_date": "2026-01-01",
                                                "pool_slots": 2}]}), encoding="utf-8")
    monkeypatch.setenv("N11_STORES_FILE", str(path))
    subprocess.run([sys.executable, "-m", "include.cli.pools"], check=True, capture_output=True)
    from airflow.models.pool import Pool

    assert Pool.get_pool("n11_poolshop").slots == 2
