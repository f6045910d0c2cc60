"""A month reloaded in one run beside the same month in per-interval runs, both through Airflow (``dag.test()``).

A busy store (about 3,000 orders in a month, on the sandbox) at the default 15-minute schedule: a backfill of the
month is 2,880 orders runs. Measured here: one day of them (96 runs, each with its follow-up of open orders),
scaled to the month, beside one run with ``reload_from`` / ``reload_to`` over the whole month. Both write their own
shop database; the orders N11 last modified on the measured day must be identical in both. Target: the reload at
least 100 times faster. Takes about three minutes. Run with ``python -m bench order_reload``.
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
    from include.tables import n11_order_lines, n11_orders

    subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], check=True, capture_output=True)
    month_end = pendulum.now("Europe/Istanbul").start_of("day").subtract(days=1)
    month_start = month_end.subtract(days=DAYS)
    day = month_start.add(days=DAYS // 2)
    account = generate_account(seed=5, api_key=KEY, api_secret=SECRET, products=200, days=DAYS,
                               end=month_end.in_timezone("UTC"), packages_per_day=ORDERS_A_DAY)
    with N11Sandbox(SandboxState([account])).start() as sandbox:
        _setup(sandbox.url, month_start)
        dag = DagBag(include_examples=False).get_dag(f"n11_{SLUG}_orders")

        _use_shop("intervals")
        started = time.perf_counter()
        for n in range(int(timedelta(days=1) / INTERVAL)):
            _ok(dag.test(logical_date=day.add(minutes=15 * n)))
        per_day = time.perf_counter() - started

        _use_shop("reload")
        started = time.perf_counter()
        _ok(dag.test(logical_date=month_end, run_conf={"reload_from": month_start.to_date_string(),
                                                        "reload_to": month_end.subtract(days=1).to_date_string()}))
        reload = time.perf_counter() - started

    def day_rows(name: str) -> list[tuple]:
        engine = create_engine(f"sqlite:///{HOME / f'{name}.db'}")
        lower, upper = (moment.in_timezone("UTC").naive() for moment in (day, day.add(days=1)))
        with engine.connect() as conn:
            orders = conn.execute(select(n11_orders).where(n11_orders.c.last_modified >= lower,
                                                           n11_orders.c.last_modified < upper)
                                  .order_by(n11_orders.c.order_number)).all()
            numbers = [row.order_number for row in orders]
            lines = conn.execute(select(n11_order_lines).where(n11_order_lines.c.order_number.in_(numbers))
                                 .order_by(n11_order_lines.c.order_line_id)).all()
        keep = [c.name for c in n11_orders.columns if c.name not in ("loaded_at", "followed_at")]
        return [tuple(getattr(row, c) for c in keep) for row in orders] + [tuple(row) for row in lines]

    same = day_rows("intervals") == day_rows("reload")
    month_by_intervals = per_day * DAYS
    ratio = month_by_intervals / reload
    print(f"orders on the sandbox: {len(account.packages)} packages over {DAYS} days")
    print(f"per-interval runs: one day (96 runs) {per_day:.1f} s -> the month (2,880 runs) {month_by_intervals:.0f} s "
          f"({month_by_intervals / 3600:.1f} h, through dag.test(): no scheduler, no queueing)")
    print(f"one reload run of the month: {reload:.1f} s")
    print(f"reload {ratio:.0f}x faster (target >= {TARGET_RATIO}x); the measured day's orders and lines identical "
          f"in both shop databases: {same}")


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
