"""Shared fixtures: an isolated Airflow home, the N11 sandbox, and real shop databases.

Every test session gets its own ``AIRFLOW_HOME`` (set before Airflow is imported). Shop databases are
created per test with a unique name on SQLite, PostgreSQL and MariaDB and dropped afterwards, so runs
never see each other's rows. ``N11_TEST_DATABASES=sqlite`` narrows the set on a machine without servers.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.common import DATABASES, ROOT, TEST_KEY, TEST_SECRET, Conn, make_state  # noqa: F401 (re-exported)

AIRFLOW_HOME = Path(tempfile.mkdtemp(prefix="n11-airflow-tests-"))
os.environ.update({
    "AIRFLOW_HOME": str(AIRFLOW_HOME),
    "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
    "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{AIRFLOW_HOME}/airflow.db",
    "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
})

from devtools.sandbox import N11Sandbox  # noqa: E402
from tests.helpers.databases import ServerDatabases  # noqa: E402
from tests.helpers.suite import first_case_per_server  # noqa: E402

# The fixtures several directories share (store_env, demo_shop, logged), and the figures of the reliability suite.
pytest_plugins = ["tests.helpers.dags", "tests.helpers.figures"]


LONGEST = ("cluster", "scheduler", "local_airflow", "browser", "slow")  # Airflow's own processes, or long on their own


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups
def pytest_collection_modifyitems(items: list[pytest.Item], config: pytest.Config) -> None:
    """The longest tests first (those starting Airflow's processes and the slow ones, then the dag.test() runs), the
    others in file order: `make test`'s workers take tests as they finish the ones before, so a long test left to
    the end would run alone. The dag.test() runs share one worker (xdist_group "dags"): each worker process that runs
    one pays Airflow's metadata migration and its in-process execution API once, about 10 CPU-s."""
    def rank(item: pytest.Item) -> int:
        if any(item.get_closest_marker(name) for name in LONGEST):
            return 0
        return 1 if item.get_closest_marker("dags") else 2

    first_case_per_server(items, config)
    for item in items:
        if item.get_closest_marker("dags") and not item.get_closest_marker("xdist_group"):
            item.add_marker(pytest.mark.xdist_group("dags"))
    items.sort(key=rank)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    captured = [report.longreprtext] + [content for _, content in report.sections]
    if any(TEST_SECRET in part for part in captured):
        report.outcome = "failed"
        report.longrepr = f"the API secret appeared in the output of {item.nodeid}"


@pytest.fixture(scope="session")
def server_databases() -> Iterator[dict[str, ServerDatabases]]:
    """The PostgreSQL and MariaDB databases of this session's tests, made ahead and dropped behind when used."""
    servers: dict[str, ServerDatabases] = {}
    yield servers
    for databases in servers.values():
        databases.close()


@pytest.fixture(params=DATABASES)
def shop_conn(request, tmp_path, server_databases) -> Iterator[Conn]:
    """A fresh, empty shop database on each of SQLite, PostgreSQL and MariaDB."""
    from include import shop_db

    if request.param == "sqlite":
        yield Conn("shop_db", "sqlite", str(tmp_path / "shop.db"))
        shop_db.dispose_engines()
        return
    if request.param not in server_databases:
        server_databases[request.param] = ServerDatabases(request.param)
    databases = server_databases[request.param]
    conn = databases.take()
    try:
        yield conn
    finally:
        shop_db.dispose_engines()
        databases.give_back(conn)


@pytest.fixture
def sqlite_shop(tmp_path) -> Conn:
    """A SQLite shop database, for tests whose point is not the database."""
    return Conn("shop_db", "sqlite", str(tmp_path / "shop.db"))


@pytest.fixture
def sandbox() -> Iterator[N11Sandbox]:
    """A running N11 sandbox with one small test account (key TEST_KEY, secret TEST_SECRET)."""
    with N11Sandbox(make_state()).start() as server:
        yield server


@pytest.fixture(scope="session")
def airflow_db() -> Path:
    """Airflow's metadata database (SQLite) for DAG-level runs, migrated once per session."""
    subprocess.run([str(Path(sys.executable).with_name("airflow")), "db", "migrate"], check=True,
                   capture_output=True)
    return AIRFLOW_HOME
