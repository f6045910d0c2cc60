"""How `make test` runs the suite: the tests of one xdist_group share a worker (one `make airflow` at a time, the
browser tests' module-scoped instance started once; pytest 9.2 broke that silently: requirements.txt), and a test
marked one_case_per_server runs all its cases on SQLite, one on each server."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

from tests.helpers.common import ROOT

GROUPED = '''
import os

import pytest


@pytest.mark.xdist_group("g")
@pytest.mark.parametrize("n", range(4))
def test_grouped(n):
    with open(os.path.join(os.environ["GROUPED_OUT"], f"grouped-{n}"), "w") as out:
        out.write(os.environ["PYTEST_XDIST_WORKER"])


@pytest.mark.parametrize("n", range(4))
def test_free(n):
    pass
'''


def test_the_tests_of_one_group_run_on_one_worker(tmp_path: Path):
    (tmp_path / "test_grouped.py").write_text(GROUPED, encoding="utf-8")
    (tmp_path / "out").mkdir()
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "2", "--dist",
                             "loadgroup", "test_grouped.py"], capture_output=True, text=True, cwd=tmp_path,
                            env={**os.environ, "GROUPED_OUT": str(tmp_path / "out")})
    assert result.returncode == 0, result.stdout + result.stderr
    workers = {path.read_text() for path in (tmp_path / "out").glob("grouped-*")}
    assert len(list((tmp_path / "out").glob("grouped-*"))) == 4 and len(workers) == 1, workers


SAMPLED = '''
import pytest

from tests.helpers.suite import first_case_per_server


@pytest.fixture(params=["sqlite", "postgres", "mariadb"])
def shop_conn(request):
    return request.param


def pytest_collection_modifyitems(items, config):
    first_case_per_server(items, config)
'''

CASES = '''
import pytest


@pytest.mark.one_case_per_server
@pytest.mark.parametrize("case", ["a", "b", "c"])
def test_sampled(shop_conn, case):
    pass


@pytest.mark.parametrize("case", ["a", "b"])
def test_every_case(shop_conn, case):
    pass
'''


def test_a_test_marked_one_case_per_server_runs_every_case_on_sqlite_and_the_first_on_each_server(tmp_path: Path):
    (tmp_path / "conftest.py").write_text(SAMPLED, encoding="utf-8")
    (tmp_path / "test_cases.py").write_text(CASES, encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
                             "-p", "no:xdist", "test_cases.py"], capture_output=True, text=True, cwd=tmp_path,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert result.returncode == 0, result.stdout + result.stderr
    collected = {line.split("::")[1] for line in result.stdout.splitlines() if "::" in line}
    assert {name for name in collected if name.startswith("test_sampled")} == {
        "test_sampled[sqlite-a]", "test_sampled[sqlite-b]", "test_sampled[sqlite-c]",
        "test_sampled[postgres-a]", "test_sampled[mariadb-a]"}
    assert len([name for name in collected if name.startswith("test_every_case")]) == 6
    assert "4 deselected" in result.stdout


def test_a_database_the_server_cannot_make_fails_every_test_that_asks_for_one_and_none_waits(monkeypatch):
    from sqlalchemy.exc import ProgrammingError

    from tests.helpers import databases

    url, _, drop = databases.SERVERS["postgres"]
    monkeypatch.setitem(databases.SERVERS, "postgres", (url, 'CREATE DATABASE "{name}" NOT_AN_OPTION', drop))
    servers = databases.ServerDatabases("postgres")
    errors: list[BaseException] = []

    def take_twice() -> None:
        for _ in range(2):
            try:
                servers.take()
            except ProgrammingError as exc:
                errors.append(exc)

    taker = threading.Thread(target=take_twice, daemon=True)
    taker.start()
    taker.join(timeout=30)
    servers.close()
    assert not taker.is_alive(), "the second test waited for a database that never comes"
    assert len(errors) == 2 and "NOT_AN_OPTION" in str(errors[0])
