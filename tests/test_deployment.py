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


# --- the URLs' drivers and the local cluster (`make cluster`, devtools/cluster.py) -----------------------------------

def compose_urls() -> list[tuple[str, str]]:
    """(setting, URL) for every URL in an environment of the compose file, secrets filled with a dummy."""
    return sorted({(key, REFERENCE.sub("dummy", str(value)))
                   for spec in [COMPOSE["x-airflow-common"], *SERVICES.values()]
                   for key, value in (spec.get("environment") or {}).items() if "://" in str(value)})


def usable(setting: str, url: str) -> None:
    """Raises unless the installed packages can open ``url`` as ``setting``: the SQLAlchemy dialect and its DBAPI
    driver import, Celery knows the result backend, kombu builds the broker's transport (its client library)."""
    from sqlalchemy.engine import make_url

    if setting == "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN":
        make_url(url).get_dialect().import_dbapi()
    elif setting == "AIRFLOW__CELERY__RESULT_BACKEND":
        from celery.app.backends import by_url

        by_url(url)
        make_url(url.removeprefix("db+")).get_dialect().import_dbapi()
    elif setting == "AIRFLOW__CELERY__BROKER_URL":
        from kombu import Connection

        Connection(url).transport  # noqa: B018 - builds the transport, which imports its client library
    elif setting.startswith("AIRFLOW_CONN_"):
        from airflow.models.connection import Connection as AirflowConnection

        from include.shop_db import url_for

        conn = AirflowConnection(conn_id=setting.removeprefix("AIRFLOW_CONN_").lower(), uri=url)
        url_for(conn).get_dialect().import_dbapi()
    elif not url.startswith(("http://", "https://")):
        raise AssertionError(f"{setting} = {url}: no check for this kind of URL; add one to usable()")


@pytest.mark.parametrize(("setting", "url"), compose_urls(), ids=lambda value: str(value).split("@")[0][:40])
def test_every_url_of_the_compose_file_opens_with_the_installed_drivers(setting, url):
    usable(setting, url)


def test_a_result_backend_without_its_driver_is_caught():
    """The compose file once had `db+postgresql://`: SQLAlchemy 2.1 picks psycopg 3 for it, which is not installed,
    and every Celery worker died at start."""
    with pytest.raises(ImportError, match="psycopg"):
        usable("AIRFLOW__CELERY__RESULT_BACKEND", "db+postgresql://airflow:dummy@postgres/airflow")


def test_the_broker_visibility_timeout_outlasts_the_longest_task():
    """Redis hands a message its worker never acknowledged to another worker after the visibility timeout: below a
    task's limit, a long task would run twice at once."""
    from devtools.cluster import compose_settings
    from tests.helpers.dags import load_dag

    limits = [task.execution_timeout for kind in ("orders", "products")
              for task in load_dag(f"n11_demo_{kind}").tasks]
    assert None not in limits
    settings = compose_settings({})
    visibility = int(settings["AIRFLOW__CELERY_BROKER_TRANSPORT_OPTIONS__VISIBILITY_TIMEOUT"])
    assert visibility > max(limits).total_seconds()
    assert {"AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT", "AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT",
            "AIRFLOW__CELERY__WORKER_CONCURRENCY"} <= set(settings)


def test_the_local_cluster_runs_the_compose_services_on_the_compose_settings(tmp_path, monkeypatch):
    from devtools import cluster

    monkeypatch.setenv("AIRFLOW_WORKER_CONCURRENCY", "3")  # as in .env: compose's ${NAME:-default}
    local = cluster.Cluster(tmp_path, stores=3, workers=2)
    env = local.environment("http://127.0.0.1:1")
    shared = COMPOSE["x-airflow-common"]["environment"]
    for key, value in cluster.compose_settings().items():
        assert env[key] == value, key
    assert env["AIRFLOW__CELERY__WORKER_CONCURRENCY"] == "3"
    for key in cluster.LOCAL:
        assert key in shared, f"{key} is replaced locally but not set in the compose file"
        if "://" in str(shared[key]):  # the same driver, this machine's address
            assert env[key].split("://")[0] == str(shared[key]).split("://")[0], key
            usable(key, env[key])
    assert {*cluster.SERVICES, cluster.WORKER_SERVICE} == set(AIRFLOW_SERVICES) - {"airflow-init"}
    assert [cluster.service_command(service) for service in cluster.SERVICES] == [
        ["api-server"], ["scheduler"], ["dag-processor"], ["triggerer"]]
    workers = [local.worker_environment(number) for number in (1, 2)]
    for own in ("N11_HOSTNAME", "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT"):
        assert workers[0][own] != workers[1][own]
    assert {f"AIRFLOW_CONN_N11_{slug.upper()}" for slug in ("demo", "demo_2", "demo_3")} <= set(env)
