"""Airflow as data engineers run it: a real scheduler, DAG processor and API server on a PostgreSQL metadata
database drive a backfill of the orders DAG, then a Variable switches the store off and on again.

Marked ``scheduler`` (select with ``-m scheduler``); it takes about a minute.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pendulum
import pytest
import requests
import yaml
from sqlalchemy import create_engine, select, text

from devtools.processes import free_port
from devtools.sandbox import N11Sandbox, SandboxState, generate_account
from include.shop_db import url_for
from include.tables import n11_orders
from tests.conftest import TEST_KEY, TEST_SECRET, Conn

# Its Airflow processes share a worker with the other tests that start Airflow (`make test` runs xdist).
pytestmark = [pytest.mark.scheduler, pytest.mark.xdist_group("airflow_processes")]

DAG_ID = "n11_shop1_orders"
# Daily runs in Istanbul time. The store starts today, so the scheduler has nothing to catch up and the
# backfill is the only work until the test triggers runs itself: its dates are UTC midnights, so these make two runs.
TODAY = pendulum.today("Europe/Istanbul")
FIRST_DAY, LAST_DAY = TODAY.subtract(days=4).to_date_string(), TODAY.subtract(days=2).to_date_string()
TIMEOUT = 300


def cluster_env(home: Path, port: int, metadata_url: str) -> dict[str, str]:
    """Airflow's settings for a local cluster: LocalExecutor on a PostgreSQL metadata database, the API server on
    ``port``, a fast scheduler heartbeat and DAG refresh, new DAGs paused."""
    return {"AIRFLOW_HOME": str(home), "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": metadata_url,
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor", "AIRFLOW__CORE__PARALLELISM": "4",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
            "AIRFLOW__API__PORT": str(port), "AIRFLOW__API_AUTH__JWT_SECRET": uuid.uuid4().hex,
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
            "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
            "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "1",
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True"}


class Cluster:
    """The Airflow processes of one test, with the helpers the test needs to drive them."""

    def __init__(self, env: dict[str, str], home: Path, port: int):
        self.env, self.home, self.port = env, home, port
        self.processes: list[subprocess.Popen] = []
        self.api = f"http://127.0.0.1:{port}"
        self.session = requests.Session()

    def cli(self, *args: str) -> str:
        result = subprocess.run([sys.executable, "-m", "airflow", *args], env=self.env, capture_output=True,
                                text=True, timeout=180)
        assert result.returncode == 0, f"airflow {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
        return result.stdout

    def start(self, *command: str) -> None:
        log = open(self.home / f"{command[0]}.log", "w")  # noqa: SIM115 - closed with the process
        self.processes.append(subprocess.Popen([sys.executable, "-m", "airflow", *command], env=self.env,
                                               stdout=log, stderr=subprocess.STDOUT, start_new_session=True))

    def boot(self, dag_id: str) -> None:
        """Migrate, create the pools, start the API server, scheduler and DAG processor; return once the DAG is
        parsed (``stop`` ends them, also after a failure here)."""
        self.cli("db", "migrate")
        subprocess.run([sys.executable, "-m", "include.cli.pools"], env=self.env, check=True, capture_output=True)
        for command in (("api-server", "--port", str(self.port)), ("scheduler",), ("dag-processor",)):
            self.start(*command)
        self.wait_for("the API server", lambda: requests.get(f"{self.api}/api/v2/version", timeout=5).ok)
        self.login()
        self.wait_for("the DAG to be parsed", lambda: self.get(f"/dags/{dag_id}"))

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()

    def wait_for(self, what: str, check, timeout: float = TIMEOUT):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for process in self.processes:
                assert process.poll() is None, f"an Airflow process died; see {self.home}/*.log"
            try:
                result = check()
            except requests.RequestException:
                result = None
            if result:
                return result
            time.sleep(2)
        raise AssertionError(f"timed out waiting for {what}; logs in {self.home}")

    def login(self) -> None:
        token = self.session.get(f"{self.api}/auth/token", timeout=10).json()["access_token"]
        self.session.headers["Authorization"] = f"Bearer {token}"

    def get(self, path: str, **params) -> dict:
        return self.call("GET", path, params=params)

    def call(self, method: str, path: str, **kwargs) -> dict:
        """A call of Airflow's REST API, as the UI makes it (cheaper than a CLI process: no Airflow import)."""
        response = self.session.request(method, f"{self.api}/api/v2{path}", timeout=30, **kwargs)
        assert response.ok, f"{method} {path}: {response.status_code} {response.text[:500]}"
        return response.json() if response.content else {}

    def runs(self) -> list[dict]:
        return self.get(f"/dags/{DAG_ID}/dagRuns", limit=100, order_by="logical_date")["dag_runs"]

    def task_states(self, run_id: str) -> dict[str, str]:
        instances = self.get(f"/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances")["task_instances"]
        return {ti["task_id"]: ti["state"] for ti in instances}

    def finished(self, runs: list[dict]) -> bool:
        return bool(runs) and all(run["state"] in ("success", "failed") for run in runs)

    def trigger(self) -> str:
        run_id = self.call("POST", f"/dags/{DAG_ID}/dagRuns",
                           json={"logical_date": datetime.now(UTC).isoformat()})["dag_run_id"]
        self.wait_for(f"run {run_id}", lambda: self.finished([self.get(f"/dags/{DAG_ID}/dagRuns/{run_id}")]))
        return run_id


@pytest.fixture
def metadata_db() -> Iterator[str]:
    name = f"n11_airflow_{uuid.uuid4().hex[:10]}"
    admin = create_engine("postgresql+psycopg2://postgres@127.0.0.1:5432/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"postgresql+psycopg2://postgres@127.0.0.1:5432/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def cluster(tmp_path, metadata_db) -> Iterator[tuple[Cluster, N11Sandbox, Conn]]:
    account = generate_account(seed=3, api_key=TEST_KEY, api_secret=TEST_SECRET, products=20, days=10,
                               end=TODAY.in_tz("UTC"), packages_per_day=6)
    registry = tmp_path / "stores.yaml"
    store = {"slug": "shop1", "name": "Test Mağaza", "start_date": TODAY.to_date_string(),
             "orders_schedule": "0 0 * * *"}
    registry.write_text(yaml.safe_dump({"stores": [store]}, allow_unicode=True), encoding="utf-8")
    shop = Conn("shop_db", "sqlite", str(tmp_path / "shop.db"))
    port = free_port()
    with N11Sandbox(SandboxState([account])).start() as sandbox:
        n11 = Conn("n11_shop1", "n11", sandbox.url, TEST_KEY, TEST_SECRET,
                   extra_json='{"requests_per_minute": 6000}')
        env = {**os.environ, **n11.env(), **shop.env(), "N11_STORES_FILE": str(registry),
               **cluster_env(tmp_path, port, metadata_db)}
        airflow = Cluster(env, tmp_path, port)
        try:
            airflow.boot(DAG_ID)
            yield airflow, sandbox, shop
        finally:
            airflow.stop()


def orders_in_shop(shop: Conn) -> list[str]:
    with create_engine(url_for(shop)).connect() as conn:
        return list(conn.scalars(select(n11_orders.c.order_number)))


def test_backfill_then_switch_the_store_off_and_on(cluster):
    airflow, sandbox, shop = cluster
    airflow.call("PATCH", f"/dags/{DAG_ID}", json={"is_paused": False})
    airflow.call("POST", "/backfills", json={"dag_id": DAG_ID, "from_date": f"{FIRST_DAY}T00:00:00Z",
                                            "to_date": f"{LAST_DAY}T00:00:00Z"})

    airflow.wait_for("the backfill to complete",
                     lambda: all(b["completed_at"] for b in airflow.get("/backfills", dag_id=DAG_ID)["backfills"]))
    runs = airflow.wait_for("the backfill runs", lambda: (r := airflow.runs()) and airflow.finished(r) and r)
    assert len(runs) == 2 and {run["run_type"] for run in runs} == {"backfill"}
    assert {run["state"] for run in runs} == {"success"}, [(r["dag_run_id"], r["state"]) for r in runs]
    # the scheduler's listener wrote each run's outcome into its note (include/tasks/run_note.py)
    assert all(run["note"].startswith("- store 'shop1', orders modified ") for run in runs), runs[0]["note"]
    first = min(datetime.fromisoformat(r["data_interval_start"]) for r in runs)
    last = max(datetime.fromisoformat(r["data_interval_end"]) for r in runs)

    account = sandbox.state.account(TEST_KEY)
    loaded = orders_in_shop(shop)
    wanted = {p["orderNumber"] for p in account.expected_orders(int(first.timestamp() * 1000),
                                                                  int(last.timestamp() * 1000))}
    padded = {p["orderNumber"] for p in account.expected_orders(
        int((first - timedelta(hours=3)).timestamp() * 1000), int((last + timedelta(hours=3)).timestamp() * 1000))}
    assert wanted <= set(loaded) <= padded

    airflow.call("POST", "/variables", json={"key": "n11_store_shop1", "value": json.dumps({"active": False})})
    sandbox.clear_log()
    off = airflow.trigger()
    tasks = [task["task_id"] for task in airflow.get(f"/dags/{DAG_ID}/tasks")["tasks"]]
    assert airflow.task_states(off) == dict.fromkeys(tasks, "skipped")
    assert airflow.get(f"/dags/{DAG_ID}/dagRuns/{off}")["note"].startswith(
        "- skipped: store 'shop1': orders skipped because the store is passive (active=false)")
    assert sandbox.requests == []
    assert sorted(orders_in_shop(shop)) == sorted(loaded)

    airflow.call("DELETE", "/variables/n11_store_shop1")
    on = airflow.trigger()
    assert airflow.task_states(on) == dict.fromkeys(tasks, "success")
    assert sandbox.calls("GET", "/rest/delivery/v1/shipmentPackages")

    task_logs = list((airflow.home / "logs").rglob("*.log"))
    assert task_logs, "the scheduler wrote no task log"
    leaking = [log for log in [*task_logs, *airflow.home.glob("*.log")] if TEST_SECRET.encode() in log.read_bytes()]
    assert leaking == [], f"the API secret appears in {leaking}"
