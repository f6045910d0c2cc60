"""The cluster files: docker-compose.yaml, the Dockerfile and .env.example (parsed: no Docker engine here)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yaml").read_text(encoding="utf-8"))
SERVICES = COMPOSE["services"]
AIRFLOW_SERVICES = ["airflow-apiserver", "airflow-scheduler", "airflow-dag-processor", "airflow-worker",
                    "airflow-triggerer", "airflow-init"]
SECRET_NAME = re.compile(r"PASSWORD|SECRET|FERNET|_CONN_|SQL_ALCHEMY_CONN|RESULT_BACKEND", re.IGNORECASE)
REFERENCE = re.compile(r"\$\{[A-Z0-9_]+:\?[^}]*\}")


def test_the_official_layout_runs_every_airflow_component():
    assert set(AIRFLOW_SERVICES) | {"postgres", "redis", "shop-db"} <= set(SERVICES)
    commands = {name: SERVICES[name].get("command") for name in AIRFLOW_SERVICES[:-1]}
    assert commands == {"airflow-apiserver": "api-server", "airflow-scheduler": "scheduler",
                        "airflow-dag-processor": "dag-processor", "airflow-worker": "celery worker",
                        "airflow-triggerer": "triggerer"}


@pytest.mark.parametrize("service", AIRFLOW_SERVICES)
def test_every_airflow_service_uses_celery_the_project_image_and_mounts(service):
    spec = SERVICES[service]
    env = spec["environment"]
    assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert env["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://")
    assert "@postgres/airflow" in env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
    assert "@shop-db:5432/" in env["AIRFLOW_CONN_SHOP_DB"]
    assert spec["build"] == "."
    # The code comes from the image's wheel; only the DAG file and the registry are mounted.
    assert "./dags:/opt/airflow/dags" in spec["volumes"]
    assert f"./include/stores.yaml:{env['N11_STORES_FILE']}:ro" in spec["volumes"]
    assert not any(volume.startswith(("./include:", "./plugins:")) for volume in spec["volumes"])


def test_init_creates_the_store_pools():
    assert "python -m include.cli.pools" in " ".join(SERVICES["airflow-init"]["command"])


def test_no_secret_is_written_into_the_compose_file():
    def walk(node, path=""):
        if isinstance(node, dict):
            for key, value in node.items():
                yield from walk(value, f"{path}.{key}")
        elif isinstance(node, list):
            for item in node:
                yield from walk(item, path)
        else:
            yield path, str(node)

    for path, value in walk(COMPOSE):
        name = path.rsplit(".", 1)[-1]
        if SECRET_NAME.search(name) and ":" in value and "@" in value:  # URLs with credentials
            password = value.split("://", 1)[1].split("@", 1)[0].partition(":")[2]
            assert password == "" or REFERENCE.fullmatch(password), f"{path} hard-codes a password"
        elif SECRET_NAME.search(name) and not name.endswith("_FILE"):
            assert REFERENCE.fullmatch(value), f"{path} must come from .env, got {value!r}"


def test_env_example_holds_placeholders_only():
    values = dict(line.split("=", 1) for line in (ROOT / ".env.example").read_text().splitlines()
                  if line and not line.startswith("#"))
    for name, value in values.items():
        if SECRET_NAME.search(name) or name.endswith("_SECRET"):
            assert "change-me" in value or "your-api-secret" in value, name


def test_the_image_is_the_pinned_airflow_with_the_pinned_requirements():
    dockerfile = (ROOT / "Dockerfile").read_text()
    pinned = re.search(r"^apache-airflow==(\S+)$", (ROOT / "requirements.txt").read_text(), re.M).group(1)
    assert f"FROM apache/airflow:{pinned}-python3.11" in dockerfile
    assert "requirements.txt" in dockerfile and "pip install --no-cache-dir --no-deps /tmp/wheels/*.whl" in dockerfile
    assert " -e " not in dockerfile, "the image installs the wheel, not an editable link"
