"""Order freshness under the real scheduler: the delay from an order's creation on N11 to its row in the shop.

A real Airflow (API server, scheduler, DAG processor, LocalExecutor, PostgreSQL metadata database) runs the
orders DAG of one store against the sandbox on a one-minute schedule, with the sandbox reading N11's dates
three hours early (``date_shift_hours=-3``, the "GMT+3" reading that a window capped at now would hide).
While it runs, 100 orders are created on the sandbox, evenly over two minutes; the shop database is
polled for each. Printed: p50, p99 and the worst delay beside the schedule interval and the target (p99 within
one interval plus two minutes). Takes about five minutes. Run with ``python -m bench order_freshness``.

The schedule is a cron of the minutes left in the current Istanbul hour (the DAG catches up from its
``start_date``, a day: a plain every-minute cron would first replay the day); when too few are left it waits
for the next hour.
"""

from __future__ import annotations

import copy
import json
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pendulum
import yaml
from sqlalchemy import create_engine, select, text

from devtools.processes import free_port
from devtools.sandbox import Account, N11Sandbox, SandboxState, generate_account
from include.tables import n11_orders
from tests.e2e.test_scheduler import Cluster, cluster_env

ORDERS = 100
CREATE_SECONDS = 120
INTERVAL = timedelta(minutes=1)
TARGET = INTERVAL + timedelta(minutes=2)
SHIFT_HOURS = -3
MINUTES_NEEDED = 8  # scheduled minutes the measurement needs
KEY, SECRET = "bench-appkey", "bench-appsecret"
DAG_ID = "n11_bench_orders"
POSTGRES = "postgresql+psycopg2://postgres@127.0.0.1:5432"


def minute_schedule() -> tuple[str, datetime]:
    """A cron firing every minute from the next one to the end of an Istanbul hour, and its first minute."""
    now = pendulum.now("Europe/Istanbul")
    first = now.add(minutes=1).start_of("minute")
    if 59 - first.minute < MINUTES_NEEDED:
        first = now.add(hours=1).start_of("hour")
    return f"{first.minute}-59 {first.hour} * * *", first


def new_order(account: Account, template: dict, number: int) -> str:
    """A new Created order on the sandbox, modified now: a copy of ``template`` with fresh ids."""
    now_ms = int(time.time() * 1000)
    package = copy.deepcopy(template)
    order_number = str(3_000_000_000_000 + number)
    for offset, line in enumerate(package["lines"]):
        line.update(orderLineId=990_000_000 + number * 10 + offset, orderItemLineItemStatusName="Created")
    package.update(id=500_000_000 + number, orderNumber=order_number, shipmentPackageStatus="Created",
                   lastModifiedDate=now_ms, _created=now_ms, _sender="SELLER",
                   packageHistories=[{"createdDate": now_ms, "status": "Created"}])
    account.add_package(package)
    return order_number


def metadata_database() -> tuple[str, Callable[[], None]]:
    """A fresh PostgreSQL database for Airflow's metadata, and the function that drops it."""
    name = f"n11_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(f"{POSTGRES}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return f"{POSTGRES}/{name}", drop


def airflow_env(home: Path, port: int, metadata_url: str, sandbox_url: str, registry: Path, shop: Path) -> dict:
    n11 = {"conn_type": "n11", "host": sandbox_url, "login": KEY, "password": SECRET,
           "extra": json.dumps({"requests_per_minute": 6000})}
    return {**os.environ, "AIRFLOW_CONN_N11_BENCH": json.dumps(n11),
            "AIRFLOW_CONN_SHOP_DB": json.dumps({"conn_type": "sqlite", "host": str(shop)}),
            "N11_STORES_FILE": str(registry), **cluster_env(home, port, metadata_url)}


def measure(home: Path, metadata_url: str) -> dict[str, tuple[datetime, datetime | None]]:
    """Run the cluster and create the orders; returns each order's creation and first-seen times."""
    schedule, first = minute_schedule()
    registry, shop = home / "stores.yaml", home / "shop.db"
    registry.write_text(yaml.safe_dump({"stores": [{
        "slug": "bench", "name": "Bench Mağaza", "start_date": first.to_date_string(), "orders_schedule": schedule,
        "order_window_overlap_hours": 3}]}, allow_unicode=True), encoding="utf-8")
    account = generate_account(seed=9, api_key=KEY, api_secret=SECRET, products=10, days=1,
                               end=datetime.now(UTC) - timedelta(days=40), packages_per_day=2)
    template = copy.deepcopy(account.packages[0])
    port = free_port()
    with N11Sandbox(SandboxState([account], date_shift_hours=SHIFT_HOURS)).start() as sandbox:
        airflow = Cluster(airflow_env(home, port, metadata_url, sandbox.url, registry, shop), home, port)
        try:
            airflow.boot(DAG_ID)
            airflow.cli("dags", "unpause", DAG_ID)
            print(f"schedule {schedule!r} (Istanbul), first interval starts {first.isoformat()}", flush=True)
            time.sleep(max(0.0, (first - pendulum.now("UTC")).total_seconds()))
            return create_and_watch(account, template, shop)
        finally:
            airflow.stop()


def create_and_watch(account: Account, template: dict, shop: Path) -> dict[str, tuple[datetime, datetime | None]]:
    """Create the orders evenly over ``CREATE_SECONDS`` and note when each first appears in the shop."""
    created: dict[str, datetime] = {}
    seen: dict[str, datetime] = {}
    engine = create_engine(f"sqlite:///{shop}")
    deadline = time.monotonic() + CREATE_SECONDS + (TARGET + INTERVAL).total_seconds()
    next_order, start = 0, time.monotonic()
    while time.monotonic() < deadline and (next_order < ORDERS or len(seen) < ORDERS):
        while next_order < ORDERS and time.monotonic() >= start + next_order * CREATE_SECONDS / ORDERS:
            created[new_order(account, template, next_order)] = datetime.now(UTC)
            next_order += 1
        if shop.exists():
            try:
                with engine.connect() as conn:
                    numbers = set(conn.scalars(select(n11_orders.c.order_number)))
            except Exception:  # noqa: BLE001 - the first run is still creating the tables
                numbers = set()
            for number in numbers & set(created) - set(seen):
                seen[number] = datetime.now(UTC)
        time.sleep(0.5)
    engine.dispose()
    return {number: (at, seen.get(number)) for number, at in created.items()}


def main() -> None:
    metadata_url, drop = metadata_database()
    try:
        with tempfile.TemporaryDirectory() as folder:
            times = measure(Path(folder), metadata_url)
    finally:
        drop()
    delays = sorted((seen - at).total_seconds() for at, seen in times.values() if seen is not None)
    missing = sum(seen is None for _, seen in times.values())
    if len(delays) < 2:
        print(f"only {len(delays)} of {len(times)} orders reached the shop; see the Airflow logs")
        return
    p99 = statistics.quantiles(delays, n=100)[98]
    print(f"{len(times)} orders created over {CREATE_SECONDS} s, N11 reading dates {SHIFT_HOURS:+d} h; "
          f"{missing} never reached the shop")
    print(f"creation -> row: p50 {statistics.median(delays):.0f} s, p99 {p99:.0f} s, worst {delays[-1]:.0f} s; "
          f"schedule interval {INTERVAL.total_seconds():.0f} s; target p99 <= {TARGET.total_seconds():.0f} s "
          f"(interval + 2 min)")


if __name__ == "__main__":
    main()
