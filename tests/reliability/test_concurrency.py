"""Two runs of one store's orders at once, over overlapping intervals (a backfill beside the schedule), on
PostgreSQL and MariaDB: no duplicate, and no lost update even when the older answer is written last."""

from __future__ import annotations

import dataclasses
import threading
from datetime import timedelta

import pytest

from devtools.sandbox import N11Sandbox, SandboxState
from devtools.sandbox.rules import canonical_status
from include.clock import to_ms
from include.orders import load as order_load
from include.orders.windows import order_windows
from include.shop_db import engine_for
from tests.helpers.orders import (
    MONTH_END,
    READING_IDS,
    READINGS,
    STORE,
    expected,
    month_account,
    served_ms,
    snapshot,
    stored,
)
from tests.helpers.reliability import FAULTY, order_intervals, record

DAY = timedelta(days=1)
BACKFILL = (MONTH_END - 6 * DAY, MONTH_END - DAY)
SCHEDULE = (MONTH_END - 2 * DAY, MONTH_END)


@pytest.mark.one_case_per_server
@pytest.mark.parametrize("reading", READINGS, ids=READING_IDS)
def test_a_backfill_and_the_schedule_at_once_leave_what_one_clean_run_leaves(shop_conn, monkeypatch, reading):
    if shop_conn.conn_type == "sqlite":
        pytest.skip("one writer at a time: SQLite is the embedded default, concurrency is a server's job")
    engine = engine_for(shop_conn)
    with N11Sandbox(SandboxState([month_account()], order_date_filter=reading)).start() as sandbox:
        account = sandbox.state.account("test-appkey")
        changed = next(p for p in account.packages if to_ms(SCHEDULE[0]) <= served_ms(sandbox, p) < to_ms(BACKFILL[1])
                       and canonical_status(p["shipmentPackageStatus"]) not in ("Unpacked", "Cancelled"))
        backfill_read, schedule_done = threading.Event(), threading.Event()
        load = order_load.load_window

        def load_window(conn, store, rows):
            """The backfill holds its transaction open, with the older answer, until the schedule committed."""
            if threading.current_thread().name == "backfill":
                conn.exec_driver_sql("SELECT 1")
                backfill_read.set()
                assert schedule_done.wait(60)
            return load(conn, store, rows)

        monkeypatch.setattr(order_load, "load_window", load_window)
        errors: list[BaseException] = []

        def run(lower, upper):
            try:
                order_intervals(sandbox, engine, STORE, lower, upper, upper - lower, FAULTY)
            except BaseException as exc:  # reported by the test thread
                errors.append(exc)

        backfill = threading.Thread(target=run, args=BACKFILL, name="backfill")
        backfill.start()
        assert backfill_read.wait(60)
        account.set_package_status(changed["orderNumber"], "Cancelled", to_ms(MONTH_END - timedelta(hours=1)))
        run(*SCHEDULE)
        schedule_done.set()
        backfill.join(60)
        assert not errors

        monkeypatch.setattr(order_load, "load_window", load)
        clean = dataclasses.replace(STORE, slug="clean")
        order_intervals(sandbox, engine, clean, BACKFILL[0], SCHEDULE[1], SCHEDULE[1] - BACKFILL[0], FAULTY)
        assert snapshot(engine) == snapshot(engine, "clean")
        (first, *_), last = order_windows(*BACKFILL, timedelta(hours=3), MONTH_END), \
            order_windows(*SCHEDULE, timedelta(hours=3), MONTH_END)[-1]
        assert stored(engine) == expected(sandbox, first.start, last.end)
        assert stored(engine)["n11_orders"][changed["orderNumber"]]["status"] == "Cancelled"
    record(f"concurrency on {shop_conn.conn_type}, {reading} reading", concurrent_runs=2,
           orders=len(stored(engine)["n11_orders"]), duplicates=0, lost_updates=0)
