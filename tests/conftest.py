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
import uuid
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

from sqlalchemy import create_engine, text  # noqa: E402

from devtools.sandbox import N11Sandbox  # noqa: E402

# The fixtures several directories share (store_env, demo_shop, logged), and the figures of the reliability suite.
pytest_plugins = ["tests.helpers.dags", "tests.helpers.figures"]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The longest tests first (slow ones, then the dag.test() runs), the others in file order: `make test`'s
    workers take tests as they finish the ones before, so a long test left to the end would run alone."""
    items.sort(key=lambda item: 0 if item.get_closest_marker("slow") else 1 if item.get_closest_marker("dags") else 2)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    captured = [report.longreprtext] + [content for _, content in report.sections]
    if any(TEST_SECRET in part for part in captured):
        report.outcome = "failed"
        report.longrepr = f"the API secret appeared in the output of {item.nodeid}"


def _server_db(kind: str) -> Iterator[Conn]:
    name = f"n11_test_{uuid.uuid4().hex[:12]}"
    if kind == "postgres":
        admin_url, conn = "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres", \
            Conn("shop_db", "postgres", "127.0.0.1", "postgres", None, 5432, name)
        create, drop = f'CREATE DATABASE "{name}"', f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'
    else:
        admin_url, conn = "mysql+pymysql://root@127.0.0.1:3306/", \
            Conn("shop_db", "mysql", "127.0.0.1", "root", None, 3306, name)
        create, drop = f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4", f"DROP DATABASE IF EXISTS `{name}`"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(create))
    try:
        yield conn
    finally:
        from include import shop_db

        shop_db.dispose_engines()
        with admin.connect() as c:
            c.execute(text(drop))
        admin.dispose()


@pytest.fixture(params=DATABASES)
def shop_conn(request, tmp_path) -> Iterator[Conn]:
    """A fresh, empty shop database on each of SQLite, PostgreSQL and MariaDB."""
    if request.param == "sqlite":
        yield Conn("shop_db", "sqlite", str(tmp_path / "shop.db"))
        from include import shop_db

        shop_db.dispose_engines()
    else:
        yield from _server_db(request.param)


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
