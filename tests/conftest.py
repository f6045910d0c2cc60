"""Shared fixtures: an isolated Airflow home, the N11 sandbox, and real shop databases.

Every test session gets its own ``AIRFLOW_HOME`` (set before Airflow is imported). Shop databases are
created per test with a unique name on SQLite, PostgreSQL and MariaDB and dropped afterwards, so runs
never see each other's rows. ``N11_TEST_DATABASES=sqlite`` narrows the set on a machine without servers.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
AIRFLOW_HOME = Path(tempfile.mkdtemp(prefix="n11-airflow-tests-"))
os.environ.update({
    "AIRFLOW_HOME": str(AIRFLOW_HOME),
    "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
    "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{AIRFLOW_HOME}/airflow.db",
    "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
})

from sqlalchemy import create_engine, text  # noqa: E402

from devtools.sandbox import Account, N11Sandbox, SandboxState  # noqa: E402

# A secret no output may ever show: pytest_runtest_makereport fails any test whose output contains it.
TEST_SECRET = "s3cr3t-NEVER-PRINT-7f3a9c"
TEST_KEY = "test-appkey"
DATABASES = os.environ.get("N11_TEST_DATABASES", "sqlite,postgres,mariadb").split(",")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    captured = [report.longreprtext] + [content for _, content in report.sections]
    if any(TEST_SECRET in part for part in captured):
        report.outcome = "failed"
        report.longrepr = f"the API secret appeared in the output of {item.nodeid}"


@dataclass
class Conn:
    """An Airflow-style connection (the attributes ``include.shop_db`` reads)."""

    conn_id: str
    conn_type: str
    host: str | None = None
    login: str | None = None
    password: str | None = None
    port: int | None = None
    schema: str | None = None
    extra_json: str | None = None

    def env(self) -> dict[str, str]:
        """The environment variable that defines this connection for Airflow."""
        fields = {k: v for k, v in asdict(self).items() if k not in ("conn_id", "extra_json") and v is not None}
        if self.extra_json:
            fields["extra"] = self.extra_json
        return {f"AIRFLOW_CONN_{self.conn_id.upper()}": json.dumps(fields)}


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


def make_state(**options) -> SandboxState:
    from devtools.sandbox import generate_account

    account: Account = generate_account(seed=7, api_key=TEST_KEY, api_secret=TEST_SECRET, products=60, days=3,
                                        packages_per_day=5)
    return SandboxState([account], **options)


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
