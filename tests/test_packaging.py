"""The product is the wheel: it holds every production module and no development tool, installs without the
editable link, and runs a store's DAGs; the domain logic imports with Airflow absent."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select

from devtools.sandbox import shop_products
from include.shop_db import url_for
from include.tables import n11_orders, n11_product_source, n11_product_sync_state, source_metadata
from tests.conftest import TEST_KEY
from tests.helpers.dags import write_registry

ROOT = Path(__file__).resolve().parents[1]
# One worker builds the wheel once for the module (setuptools builds it in the source tree: two at once would collide).
pytestmark = pytest.mark.xdist_group("packaging")
PRODUCTION = {"include": ROOT / "include", "n11": ROOT / "plugins" / "n11"}
AIRFLOW_FACING = ("include.tasks", "include.ui", "n11.hooks", "n11.plugin")
UV = str(Path(sys.executable).with_name("uv"))  # `make install` puts it beside the interpreter
# Both DAGs in one process, as `airflow dags test` runs one (dag.test()): Airflow and its in-process execution API
# start once instead of twice.
RUN_DAGS = """
import sys

import pendulum
from airflow.dag_processing.dagbag import DagBag

bag = DagBag(sys.argv[1])
assert not bag.import_errors, bag.import_errors
for dag_id in sys.argv[2:]:
    run = bag.dags[dag_id].test(logical_date=pendulum.today("Europe/Istanbul"))
    assert run.state == "success", f"{dag_id}: {run.state}"
"""


def production_modules() -> set[str]:
    """Every module of the production packages, as the wheel should name them."""
    found = set()
    for package, folder in PRODUCTION.items():
        for path in folder.rglob("*.py"):
            parts = path.relative_to(folder).with_suffix("").parts
            found.add(".".join((package, *parts)).removesuffix(".__init__"))
    return found


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([UV, "build", "--wheel", "--quiet", "--out-dir", str(out), str(ROOT)], check=True,
                   capture_output=True)
    return next(out.glob("n11_airflow-*.whl"))


def test_the_wheel_holds_every_production_module_and_no_development_tool(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    modules = {name[:-3].replace("/", ".").removesuffix(".__init__") for name in names if name.endswith(".py")}
    assert modules == production_modules()
    assert "include/stores.yaml" in names
    assert not [name for name in names if name.startswith(("devtools/", "tests/", "bench/", "dags/"))]


def test_the_domain_logic_imports_with_airflow_absent():
    domain = sorted(m for m in production_modules() if not m.startswith(AIRFLOW_FACING))
    blocker = ("import sys\n"
               "class NoAirflow:\n"
               "    def find_spec(self, name, path=None, target=None):\n"
               "        if name == 'airflow' or name.startswith('airflow.'):\n"
               "            raise ImportError('airflow is absent in this test')\n"
               "sys.meta_path.insert(0, NoAirflow())\n"
               f"import importlib\nfor name in {domain!r}:\n    importlib.import_module(name)\n"
               "print(len([m for m in sys.modules if m.startswith('airflow')]))\n")
    result = subprocess.run([sys.executable, "-c", blocker], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "0"


@pytest.fixture(scope="module")
def wheel_python(wheel, tmp_path_factory) -> Path:
    """A fresh virtual environment with the wheel installed (no editable link); the pinned dependencies come
    from this environment's site-packages, added as a plain path (its .pth files, the editable link among
    them, are not run)."""
    venv = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    site = Path(subprocess.run([str(venv / "bin" / "python"), "-c", "import sysconfig; "
                                "print(sysconfig.get_paths()['purelib'])"], check=True, capture_output=True,
                               text=True).stdout.strip())
    (site / "project_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    subprocess.run([UV, "pip", "install", "--quiet", "--python", str(venv / "bin" / "python"), "--no-deps",
                    str(wheel)], check=True, capture_output=True)
    return venv / "bin" / "python"


@pytest.mark.dags
@pytest.mark.slow
def test_a_wheel_install_runs_a_stores_orders_and_products_dags(wheel_python, tmp_path, sandbox, airflow_db,
                                                                  sqlite_shop):
    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / "n11_stores.py").write_bytes((ROOT / "dags" / "n11_stores.py").read_bytes())
    shop = create_engine(url_for(sqlite_shop))
    source_metadata.create_all(shop)
    with shop.begin() as conn:
        conn.execute(n11_product_source.insert(), shop_products(sandbox.state.account(TEST_KEY), seed=7))
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYTHON")}
    env.update({"AIRFLOW__CORE__DAGS_FOLDER": str(dags),
                "N11_STORES_FILE": str(write_registry(tmp_path / "stores.yaml", orders_schedule="0 0 * * *")),
                **sqlite_shop.env()})
    from tests.conftest import TEST_SECRET, Conn

    env.update(Conn("n11_shop1", "n11", sandbox.url, TEST_KEY, TEST_SECRET,
                    extra_json='{"requests_per_minute": 6000}').env())

    where = subprocess.run([str(wheel_python), "-c", "import include, n11; print(include.__file__, n11.__file__)"],
                           env=env, cwd=tmp_path, capture_output=True, text=True, check=True).stdout
    assert str(ROOT) not in where and "site-packages" in where

    run = subprocess.run([str(wheel_python), "-c", RUN_DAGS, str(dags), "n11_shop1_orders", "n11_shop1_products"],
                         env=env, cwd=tmp_path, capture_output=True, text=True)
    assert run.returncode == 0, f"{run.stdout[-3000:]}{run.stderr[-3000:]}"
    with shop.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(n11_orders)) > 0
        assert conn.scalar(select(func.count()).select_from(n11_product_sync_state)) > 0
    shop.dispose()
