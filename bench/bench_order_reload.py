"""A month reloaded in one run beside the same month in per-interval runs, both through Airflow (``dag.test()``).

A busy store (about 3,000 orders in a month, on the sandbox) at the default 15-minute schedule: a backfill of the
month is 2,880 orders runs. Measured here: one day of them (96 runs, each with its follow-up of open orders),
scaled to the month, beside one run with ``reload_from`` / ``reload_to`` over the whole month; and one reload run of
the measured day, whose order tables must equal those of the day's 96 runs (each writes its own shop database).
Target: the reload at least 100 times faster. Takes about two minutes. Run with ``python -m bench order_reload``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml

HOME = Path(tempfile.mkdtemp(prefix="n11-bench-reload-"))
os.environ.update({  # before Airflow is imported: its own home, SQLite, this project's DAGs
    "AIRFLOW_HOME": str(HOME),
    "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    "AIRFLOW__CORE__DAGS_FOLDER": str(Path(__file__).resolve().parents[1] / "dags"),
    "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{HOME / 'airflow.db'}",
    "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
})

ORDERS_A_DAY = 100  # about 3,000 a month
DAYS = 30
INTERVAL = timedelta(minutes=15)
TARGET_RATIO = 100
KEY, SECRET = "bench-appkey", "bench-appsecret"
SLUG = "bench"


def main() -> None:
    import pendulum
    from airflow.dag_processing.dagbag import DagBag
    from sqlalchemy import create_engine, select

    from devtools.sandbox import N11Sandbox, SandboxState, generate_account
    from include.tables import n11_order_lines, n11_order_packages, n11_orders

    subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], check=True, capture_output=True)
    month_end = pendulum.now("Europe/Istanbul").start_of("day").subtract(days=1)
    month_start = month_end.subtract(days=DAYS)
    day = month_start.add(days=DAYS // 2)
    account = generate_account(seed=5, api_key=KEY, api_secret=SECRET, products=200, days=DAYS,
                               end=month_end.in_timezone("UTC"), packages_per_day=ORDERS_A_DAY)
    with N11Sandbox(SandboxState([account])).start() as sandbox:
        _setup(sandbox.url, month_start)
        dag = DagBag(os.environ["AIRFLOW__CORE__DAGS_FOLDER"]).dags[f"n11_{SLUG}_orders"]

        _use_shop("intervals")
        started = time.perf_counter()
        for n in range(1, int(timedelta(days=1) / INTERVAL) + 1):  # dag.test() runs the interval ending then
            _ok(dag.test(logical_date=day.add(minutes=15 * n)))
        per_day = time.perf_counter() - started

        _use_shop("reload_day")  # the same day in one reload run: its rows must be those of the 96 runs
        _ok(dag.test(logical_date=month_end, run_conf={"reload_from": day.to_date_string(),
                                                        "reload_to": day.to_date_string()}))

        _use_shop("reload_month")
        started = time.perf_counter()
        _ok(dag.test(logical_date=month_end, run_conf={"reload_from": month_start.to_date_string(),
                                                        "reload_to": month_end.subtract(days=1).to_date_string()}))
        reload = time.perf_counter() - started

    def rows(name: str) -> dict[str, list[tuple]]:
        """The order tables without the moments of loading and looking up, which differ by design."""
        engine = create_engine(f"sqlite:///{HOME / f'{name}.db'}")
        tables = {}
        with engine.connect() as conn:
            for table in (n11_orders, n11_order_packages, n11_order_lines):
                columns = [c for c in table.columns if c.name not in ("loaded_at", "followed_at")]
                tables[table.name] = conn.execute(select(*columns).order_by(*table.primary_key.columns)).all()
        return tables

    same = rows("intervals") == rows("reload_day")
    orders = len(rows("reload_month")["n11_orders"])
    month_by_intervals = per_day * DAYS
    ratio = month_by_intervals / reload
    print(f"on the sandbox: {len(account.packages)} packages over {DAYS} days; the month's reload stored {orders} "
          "orders")
    print(f"per-interval runs: one day (96 runs) {per_day:.1f} s -> the month (2,880 runs) {month_by_intervals:.0f} s "
          f"({month_by_intervals / 3600:.1f} h, through dag.test(): no scheduler, no queueing)")
    print(f"one reload run of the month: {reload:.1f} s")
    print(f"reload {ratio:.0f}x faster (target >= {TARGET_RATIO}x); the measured day's 96 runs and one reload run "
          f"of that day leave identical order tables: {same}")


def _setup(sandbox_url: str, start: datetime) -> None:
    """The bench store in the registry, its N11 connection on the sandbox."""
    registry = HOME / "stores.yaml"
    registry.write_text(yaml.safe_dump({"stores": [{"slug": SLUG, "name": "Bench Mağaza",
                                                    "start_date": start.to_date_string()}]}), encoding="utf-8")
    os.environ["N11_STORES_FILE"] = str(registry)
    os.environ[f"AIRFLOW_CONN_N11_{SLUG.upper()}"] = json.dumps(
        {"conn_type": "n11", "host": sandbox_url, "login": KEY, "password": SECRET,
         "extra": {"requests_per_minute": 600_000}})


def _use_shop(name: str) -> None:
    """The shop connection of the next runs: a database of their own."""
    os.environ["AIRFLOW_CONN_SHOP_DB"] = json.dumps({"conn_type": "sqlite", "host": str(HOME / f"{name}.db")})


def _ok(run) -> None:
    if str(run.state) != "success":
        raise SystemExit(f"run {run.run_id} ended {run.state}; see the log above")


if __name__ == "__main__":
    main()
    print(f"(Airflow home {HOME}; started {datetime.now(UTC):%H:%M} UTC)")
