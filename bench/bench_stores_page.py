"""The stores page for 200 stores beside 1 store, built in the same run: the registry read, the last runs with
their counts and notes from Airflow's metadata (SQLite, migrated for the run), each store's shop rows (one SQLite
shop database shared by all), and the HTML. Target: under 2 s for 200 stores.

Every store has a finished orders and products run (note and counts as XComs), 5 refused SKUs of its products
run, an open order action and an alert; each DAG has 50 older runs, so "the last run" is looked for among many.
The measurement runs in a fresh process: Airflow reads its settings (home, database) once, at import.
Run with ``python -m bench stores_page``.
"""

from __future__ import annotations

import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml

STORE_COUNTS = (1, 200)
OLDER_RUNS = 50
REPEATS = 5
TARGET_SECONDS = 2.0
T0 = datetime(2026, 11, 1, tzinfo=UTC)


def write_registry(path: Path, stores: int) -> None:
    entries = [{"slug": f"store{n:03d}", "name": f"Mağaza {n}", "start_date": "2026-01-01"} for n in range(stores)]
    path.write_text(yaml.safe_dump({"stores": entries}, allow_unicode=True), encoding="utf-8")


def fill_metadata(db: Path, stores: int) -> None:
    """Runs, notes and counting XComs for every store DAG, written straight into the migrated tables."""
    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session

    with create_session() as session:
        session.add_all(DagRun(dag_id=f"n11_store{n:03d}_{kind}", run_id=f"scheduled__{at.isoformat()}",
                               run_type="scheduled", logical_date=at, run_after=at, state="success")
                        for n in range(stores) for kind in ("orders", "products")
                        for at in (T0 - timedelta(hours=age) for age in range(OLDER_RUNS, -1, -1)))
    with sqlite3.connect(db) as conn:  # XComs without task instances: sqlite3 enforces no foreign key
        latest = conn.execute("SELECT id, dag_id, run_id FROM dag_run WHERE run_id = ?",
                              (f"scheduled__{T0.isoformat()}",)).fetchall()
        conn.executemany("INSERT INTO dag_run_note (dag_run_id, content, created_at, updated_at) "
                         "VALUES (?, ?, datetime('now'), datetime('now'))",
                         [(pk, f"- {dag_id}: done") for pk, dag_id, _ in latest])
        rows = []
        for pk, dag_id, run_id in latest:
            tasks = {"load_orders": {"orders_new": 12, "orders_updated": 3, "orders_unchanged": 40},
                     "send_order_actions": {"approvals": {"sent": 2, "accepted": 2, "failed": 0}},
                     "sync_returns": {"claims": {"new": 1, "open": 1}}} if dag_id.endswith("_orders") \
                else {"collect_results": {"succeeded": 290, "failed": 5, "rejected": 0, "no_result": 0}}
            rows += [(pk, task, -1, "return_value", dag_id, run_id, json.dumps(value)) for task, value in tasks.items()]
        conn.executemany("INSERT INTO xcom (dag_run_id, task_id, map_index, key, dag_id, run_id, value, timestamp) "
                         "VALUES (?, ?, ?, ?, ?, ?, ?, datetime('now'))", rows)


def fill_shop(path: Path, stores: int) -> None:
    from sqlalchemy import create_engine, insert

    from include.registry import load_registry
    from include.shop_db import create_tables
    from include.store_status import API_OK, record_api_status, record_settings
    from include.tables import n11_notifications, n11_order_actions, n11_product_sync_errors

    engine = create_engine(f"sqlite:///{path}")
    create_tables(engine)
    now = datetime(2026, 11, 1, 9, 0)
    for store in load_registry().stores:
        record_settings(engine, store)
        record_api_status(engine, store.slug, API_OK, "ok")
    with engine.begin() as conn:
        slugs = [f"store{n:03d}" for n in range(stores)]
        conn.execute(insert(n11_product_sync_errors), [
            {"store": slug, "stock_code": f"SKU-{k}", "task_id": "1", "run_id": f"scheduled__{T0.isoformat()}",
             "kind": "fail", "groups": "price", "reasons": '["Fiyat hatalı"]', "recorded_at": now}
            for slug in slugs for k in range(5)])
        conn.execute(insert(n11_order_actions), [{"store": slug, "order_line_id": "1", "action": "approve"}
                                                 for slug in slugs])
        conn.execute(insert(n11_notifications), [{"store": slug, "problem": "credentials", "notified_at": now}
                                                 for slug in slugs])
    engine.dispose()


def measure(stores: int) -> float:
    """Median seconds of building the page (after one warm-up build)."""
    from airflow.utils.session import create_session

    from include.ui.stores_page import page_html

    times = []
    for _ in range(REPEATS + 1):
        with create_session() as session:
            start = time.perf_counter()
            html = page_html(session, lambda store: True)
            times.append(time.perf_counter() - start)
    assert html.count("<tr data-store=") == stores and "SKU-4" in html
    return statistics.median(times[1:])


def child(stores: int) -> None:
    home = Path(os.environ["AIRFLOW_HOME"])
    fill_metadata(home / "airflow.db", stores)
    fill_shop(home / "shop.db", stores)
    print(json.dumps({"stores": stores, "seconds": measure(stores)}))


def main() -> None:
    results = {}
    for stores in STORE_COUNTS:
        with tempfile.TemporaryDirectory() as tmp:
            home = Path(tmp)
            write_registry(home / "stores.yaml", stores)
            env = {**os.environ, "AIRFLOW_HOME": str(home), "N11_STORES_FILE": str(home / "stores.yaml"),
                   "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
                   "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
                   "AIRFLOW_CONN_SHOP_DB": json.dumps({"conn_type": "sqlite", "host": str(home / "shop.db")})}
            subprocess.run([str(Path(sys.executable).with_name("airflow")), "db", "migrate"], env=env, check=True,
                           capture_output=True)
            out = subprocess.run([sys.executable, "-m", "bench.bench_stores_page", str(stores)], env=env,
                                 check=True, capture_output=True, text=True).stdout
            results[stores] = json.loads(out.strip().splitlines()[-1])["seconds"]
    baseline, full = results[STORE_COUNTS[0]], results[STORE_COUNTS[-1]]
    print(f"{'stores':>6} {'page ms':>8}")
    for stores, seconds in results.items():
        print(f"{stores:>6} {1000 * seconds:>8.1f}")
    print(f"{STORE_COUNTS[-1]} stores take {full / baseline:.1f}x the time of {STORE_COUNTS[0]}; "
          f"target: under {TARGET_SECONDS:.0f} s for {STORE_COUNTS[-1]} stores")


if __name__ == "__main__":
    if len(sys.argv) > 1:
        child(int(sys.argv[1]))
    else:
        main()
