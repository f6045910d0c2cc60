"""`make cluster`: the layout of docker-compose.yaml as processes on this machine, without Docker.

A Redis of its own (``redis-server`` on a free port; ``scripts/install-redis.sh`` installs Debian's when missing),
two PostgreSQL databases on the local server (127.0.0.1:5432, trust auth, user postgres) for Airflow's metadata and
the shop, created at start and dropped at stop, and the compose file's Airflow services as processes: API server,
scheduler, DAG processor, triggerer and ``CLUSTER_WORKERS`` Celery workers, each with its own host name
(``worker-1`` ...: the task instances show which ran them) and log server port; the demo stores on the N11 sandbox.

Airflow's settings come from the compose file itself (the environment every service shares, ``${NAME:-default}``
read from this environment), with this machine's addresses, files and secrets in place of the compose network's
(``LOCAL``): the scaling knobs and the drivers named by its URLs are the ones the compose file ships.

| variable | default | what |
| --- | --- | --- |
| ``CLUSTER_WORKERS`` | 2 | Celery workers |
| ``CLUSTER_STORES`` | 2 | demo stores ``demo``, ``demo_2`` ..., each with its own sandbox account and pool |
| ``CLUSTER_AIRFLOW_PORT`` | free | the UI and API server |
| ``CLUSTER_SANDBOX_PORT``, ``CLUSTER_REDIS_PORT`` | free | the N11 sandbox, Redis |
| ``CLUSTER_WORKER_LOG_PORT`` | free | worker 1's log server; worker n listens on this + n - 1 |
| ``CLUSTER_TRIGGER_LOG_PORT`` | free | the triggerer's log server |
| ``N11_CLUSTER_HOME`` | ``.airflow-cluster`` | Airflow's home: logs, the registry copy, each process's output |

Ctrl-C or SIGTERM stops every process, drops both databases and frees every port.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psutil
import redis
import requests
import yaml
from cryptography.fernet import Fernet
from sqlalchemy import create_engine, text

from devtools.demo import ROOT, base_env, demo_account, fill_product_source, n11_connection
from devtools.local_airflow import LOGIN, demo_registry, demo_slug, instance_settings, set_up
from devtools.processes import answers, free_port, port, run_in_foreground, stop_all
from devtools.sandbox import DEMO_API_KEY, DEMO_API_SECRET, N11Sandbox, SandboxState

COMPOSE = ROOT / "docker-compose.yaml"
HOME = Path(os.environ.get("N11_CLUSTER_HOME") or ROOT / ".airflow-cluster").resolve()
POSTGRES = "127.0.0.1:5432"
# The compose settings that name the compose network's hosts, its secrets or its files: this machine's instead.
LOCAL = ("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "AIRFLOW__CELERY__RESULT_BACKEND", "AIRFLOW__CELERY__BROKER_URL",
         "AIRFLOW__CORE__EXECUTION_API_SERVER_URL", "AIRFLOW__CORE__FERNET_KEY", "AIRFLOW__API_AUTH__JWT_SECRET",
         "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE", "N11_STORES_FILE", "AIRFLOW_CONN_SHOP_DB")
# The compose services this runs, in start order (their commands come from the compose file).
SERVICES = ("airflow-apiserver", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer")
WORKER_SERVICE = "airflow-worker"
START_TIMEOUT = 180
_REFERENCE = re.compile(r"\$\{(\w+)(?::-([^}]*)|:\?[^}]*)?\}")


@functools.cache
def compose_file() -> dict:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


def compose_settings(environ: dict[str, str] | None = None) -> dict[str, str]:
    """The environment every Airflow service of the compose file shares, except ``LOCAL``: ``${NAME:-default}``
    resolved as compose does (``environ``, this process's environment by default, else the default)."""
    environ = os.environ if environ is None else environ
    shared = compose_file()["x-airflow-common"]["environment"]

    def resolve(match: re.Match) -> str:
        if match.group(2) is None:
            raise ValueError(f"{match.group(0)} in a setting that is not in LOCAL")
        return environ.get(match.group(1)) or match.group(2)

    return {key: _REFERENCE.sub(resolve, str(value)) for key, value in shared.items() if key not in LOCAL}


def compose_scheme(key: str) -> str:
    """The scheme (dialect and driver) of one of the compose file's URLs: the local cluster uses the same."""
    return urlsplit(compose_file()["x-airflow-common"]["environment"][key]).scheme


def relocated(key: str, netloc: str, path: str) -> str:
    """The compose file's URL ``key`` with its scheme kept and this machine's address in place of the network's."""
    return urlunsplit((compose_scheme(key), netloc, path, "", ""))


def service_command(service: str) -> list[str]:
    return compose_file()["services"][service]["command"].split()


class Cluster:
    """The processes, databases and sandbox of one local cluster; ``start`` returns once the API answers, ``stop``
    leaves nothing behind. ``settings`` go over the compose file's (a test's short heartbeat timeout)."""

    def __init__(self, home: Path, stores: int = 2, workers: int = 2, settings: dict[str, str] | None = None):
        self.home, self.stores, self.workers = home, stores, workers
        self.settings = settings or {}
        self.ports = {"api": port("CLUSTER_AIRFLOW_PORT", free_port()),
                      "sandbox": port("CLUSTER_SANDBOX_PORT", free_port()),
                      "redis": port("CLUSTER_REDIS_PORT", free_port()),
                      "trigger_log": port("CLUSTER_TRIGGER_LOG_PORT", free_port())}
        first_log = os.environ.get("CLUSTER_WORKER_LOG_PORT")
        self.worker_log_ports = [int(first_log) + n if first_log else free_port() for n in range(workers)]
        token = uuid.uuid4().hex[:10]
        self.databases = {"airflow": f"n11_cluster_{token}_airflow", "shop": f"n11_cluster_{token}_shop"}
        self.url = f"http://localhost:{self.ports['api']}"
        self.processes: dict[str, subprocess.Popen] = {}
        self.sandbox: N11Sandbox | None = None
        self.env: dict[str, str] = {}

    @property
    def slugs(self) -> list[str]:
        return [demo_slug(number) for number in range(1, self.stores + 1)]

    def start(self) -> Cluster:
        self.home.mkdir(parents=True, exist_ok=True)
        self._start_redis()
        self._create_databases()
        accounts = [demo_account(*self.credentials(slug)) for slug in self.slugs]
        self.sandbox = N11Sandbox(SandboxState(accounts), port=self.ports["sandbox"]).start()
        self.env = self.environment(self.sandbox.url)
        set_up(self.env, self.home / "airflow-setup.log")
        fill_product_source(create_engine(self.shop_url), accounts[0])  # the stores' accounts list the same products
        for service in SERVICES:
            self._launch(service.removeprefix("airflow-"), service_command(service), self.env)
        for number in range(1, self.workers + 1):
            self.start_worker(number)
        self.wait_for("the API server", lambda: answers(f"{self.url}/api/v2/monitor/health"))
        return self

    def credentials(self, slug: str) -> tuple[str, str]:
        """The sandbox account of a store: the demo account's key for ``demo``, ``demo-appkey-<slug>`` for the rest."""
        return (DEMO_API_KEY, DEMO_API_SECRET) if slug == demo_slug(1) else (f"{DEMO_API_KEY}-{slug}", DEMO_API_SECRET)

    @property
    def shop_url(self) -> str:
        return f"postgresql+psycopg2://postgres@{POSTGRES}/{self.databases['shop']}"

    def environment(self, sandbox_url: str) -> dict[str, str]:
        """Every process's settings: the compose file's, this machine's addresses, the stores' connections."""
        redis_url = relocated("AIRFLOW__CELERY__BROKER_URL", f"127.0.0.1:{self.ports['redis']}", "/0")
        connections = {f"AIRFLOW_CONN_N11_{slug.upper()}": json.dumps(n11_connection(sandbox_url,
                                                                                      *self.credentials(slug)))
                       for slug in self.slugs}
        return {
            **base_env(self.home),
            **compose_settings(),
            **instance_settings(self.home, self.ports["api"], self.ports["trigger_log"]),
            "PYTHONPATH": str(ROOT),  # devtools.hostname, the workers' host names
            **{key: relocated(key, f"postgres@{POSTGRES}", f"/{self.databases[database]}") for key, database in (
                ("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "airflow"), ("AIRFLOW__CELERY__RESULT_BACKEND", "airflow"),
                ("AIRFLOW_CONN_SHOP_DB", "shop"))},
            "AIRFLOW__CELERY__BROKER_URL": redis_url,
            "AIRFLOW__CORE__FERNET_KEY": Fernet.generate_key().decode(),
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(32),
            "N11_STORES_FILE": str(demo_registry(self.home, self.stores)),
            **connections,
            **self.settings,
        }

    def worker_name(self, number: int) -> str:
        return f"worker-{number}"

    def start_worker(self, number: int) -> None:
        """Celery worker ``number`` (1, 2 ...), as another container would run it."""
        name = self.worker_name(number)
        self._launch(name, [*service_command(WORKER_SERVICE), "--celery-hostname", name],
                     self.worker_environment(number))

    def worker_environment(self, number: int) -> dict[str, str]:
        """A worker's own host name (the task instances it runs report it) and log server port."""
        return {**self.env, "N11_HOSTNAME": self.worker_name(number),
                "AIRFLOW__CORE__HOSTNAME_CALLABLE": "devtools.hostname.hostname",
                "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(self.worker_log_ports[number - 1])}

    def worker_ready(self, number: int) -> bool:
        """The compose file's health check of a worker: it answers Celery's ping under its host name."""
        check = compose_file()["services"][WORKER_SERVICE]["healthcheck"]["test"][1]
        command = check.replace("$${HOSTNAME}", self.worker_name(number))
        return subprocess.run(command, shell=True, env=self.env, capture_output=True, check=False).returncode == 0

    def kill_worker(self, number: int) -> None:
        """SIGKILL worker ``number`` and every process under it at once, as when its machine dies."""
        process = self.processes.pop(self.worker_name(number))
        tree = [psutil.Process(process.pid), *psutil.Process(process.pid).children(recursive=True)]
        for member in tree:
            with contextlib.suppress(psutil.NoSuchProcess):
                member.kill()
        psutil.wait_procs(tree, timeout=10)
        process.wait()

    def stop(self) -> None:
        try:
            stop_all(self.processes.values())
        finally:
            self.processes.clear()
            if self.sandbox is not None:
                self.sandbox.stop()
            self._drop_databases()

    def _launch(self, name: str, command: list[str], env: dict[str, str]) -> None:
        """An `airflow` command in its own session (one signal reaches all of it), output in ``<home>/<name>.log``."""
        with open(self.home / f"{name}.log", "a", encoding="utf-8") as out:
            self.processes[name] = subprocess.Popen([sys.executable, "-m", "airflow", *command], env=env, stdout=out,
                                                    stderr=subprocess.STDOUT, start_new_session=True, cwd=ROOT)

    def _start_redis(self) -> None:
        server = shutil.which("redis-server") or "/usr/bin/redis-server"
        if not Path(server).exists():
            raise SystemExit("no redis-server: run scripts/install-redis.sh (`make cluster` does)")
        with open(self.home / "redis.log", "w", encoding="utf-8") as out:
            self.processes["redis"] = subprocess.Popen(
                [server, "--port", str(self.ports["redis"]), "--bind", "127.0.0.1", "--save", "", "--appendonly",
                 "no", "--dir", str(self.home)], stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        client = redis.Redis(port=self.ports["redis"])
        self.wait_for("Redis", lambda: _quietly(client.ping))

    def _create_databases(self) -> None:
        self._on_each_database('CREATE DATABASE "{}"')

    def _drop_databases(self) -> None:
        self._on_each_database('DROP DATABASE IF EXISTS "{}" WITH (FORCE)')

    def _on_each_database(self, statement: str) -> None:
        admin = create_engine(f"postgresql+psycopg2://postgres@{POSTGRES}/postgres", isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            for name in self.databases.values():
                conn.execute(text(statement.format(name)))
        admin.dispose()

    def wait_for(self, what: str, check, timeout: float = START_TIMEOUT):
        """``check()``'s first true answer (an unreachable server answers false); fails when a process of the
        cluster stopped or after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while not (result := _quietly(check)):
            dead = [name for name, process in self.processes.items() if process.poll() is not None]
            if dead:
                raise RuntimeError(f"{', '.join(dead)} stopped while waiting for {what}: see {self.home}/<name>.log")
            if time.monotonic() > deadline:
                raise TimeoutError(f"{what} did not come up within {timeout} s; logs in {self.home}")
            time.sleep(1)
        return result

class AdminApi:
    """The REST API of a local Airflow as its admin (``LOGIN``): what tests and benchmarks ask it."""

    def __init__(self, url: str):
        self.url, self.session = url, requests.Session()
        token = self.session.post(f"{url}/auth/token", json=dict(zip(("username", "password"), LOGIN, strict=True)),
                                  timeout=30).json()["access_token"]
        self.session.headers["Authorization"] = f"Bearer {token}"

    def get(self, path: str, **params) -> dict:
        response = self.session.get(f"{self.url}/api/v2{path}", params=params, timeout=30)
        response.raise_for_status()
        return response.json()

    def unpause(self, dag_id: str) -> None:
        self.session.patch(f"{self.url}/api/v2/dags/{dag_id}", json={"is_paused": False},
                           timeout=30).raise_for_status()

    def run(self, dag_id: str) -> dict | None:
        runs = self.get(f"/dags/{dag_id}/dagRuns")["dag_runs"]
        return runs[0] if runs else None

    def tries(self, dag_id: str, run_id: str) -> list[dict]:
        """Every try of every task of the run (the current one and the history)."""
        found = []
        for ti in self.get(f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances")["task_instances"]:
            found += self.get(f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{ti['task_id']}/tries")["task_instances"]
        return found


def _quietly(check):
    try:
        return check()
    except (OSError, redis.RedisError, requests.RequestException):
        return None


def main() -> int:
    run_in_foreground()  # Ctrl-C and SIGTERM end in the `finally` below
    cluster = Cluster(HOME, stores=int(os.environ.get("CLUSTER_STORES") or 2),
                      workers=int(os.environ.get("CLUSTER_WORKERS") or 2))
    try:
        cluster.start()
        print(f"N11 sandbox: {cluster.sandbox.url}\nAirflow UI:  {cluster.url}  (login {LOGIN[0]} / {LOGIN[1]})\n"
              f"Airflow home: {HOME} (each process's output in <name>.log)\n"
              f"CeleryExecutor: workers {', '.join(map(cluster.worker_name, range(1, cluster.workers + 1)))}, "
              f"Redis on port {cluster.ports['redis']}, metadata and shop databases "
              f"{cluster.databases['airflow']}, {cluster.databases['shop']} on {POSTGRES}\n"
              f"Stores: {', '.join(cluster.slugs)} (DAGs paused: unpause them in the UI)\n"
              "Ctrl-C stops everything and drops both databases.", flush=True)
        while all(process.poll() is None for process in cluster.processes.values()):
            time.sleep(1)
        print(f"an Airflow process stopped: see {HOME}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    finally:
        cluster.stop()


if __name__ == "__main__":
    sys.exit(main())
