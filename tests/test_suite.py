"""How `make test` runs the suite: the tests of one xdist_group share a worker (one `make airflow` at a time, the
browser tests' module-scoped instance started once). pytest 9.2 broke that silently (requirements.txt)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

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
