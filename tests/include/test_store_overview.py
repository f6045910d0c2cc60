"""What the stores page reads from a shop database, on SQLite, PostgreSQL and MariaDB: each store's switches and
API check, its unsettled order actions, its last alert and the SKUs refused in its last products run."""

from __future__ import annotations

import json
from datetime import date, datetime

import pytest
from sqlalchemy import create_engine, insert

from include.settings import StoreConfig
from include.shop_db import create_tables, url_for
from include.store_overview import LISTED_REFUSALS, Refusal, ShopView, read_stores
from include.store_status import API_AUTH_FAILED, API_OK, record_api_status, record_settings
from include.tables import n11_notifications, n11_order_actions, n11_product_sync_errors

T = datetime(2026, 11, 27, 9, 0)
RUN = "scheduled__2026-11-27T09:30:00+00:00"


def store(slug: str, **settings) -> StoreConfig:
    return StoreConfig(slug=slug, name=f"Mağaza {slug}", start_date=date(2026, 11, 1), **settings)


@pytest.fixture
def engine(shop_conn):
    engine = create_engine(url_for(shop_conn))
    create_tables(engine)
    yield engine
    engine.dispose()


def refusal(slug: str, code: str, run_id: str = RUN, kind: str = "fail", task_id: str = "7001") -> dict:
    return {"store": slug, "stock_code": code, "task_id": task_id, "run_id": run_id, "kind": kind,
            "endpoint": "price_stock", "groups": "price", "reasons": json.dumps(["Fiyat hatalı"]), "recorded_at": T}


def test_a_store_no_run_has_recorded_reads_as_not_recorded(engine):
    assert read_stores(engine, ["new"], {}) == {"new": ShopView()}


def test_the_recorded_switches_and_the_last_api_check_are_read(engine):
    record_settings(engine, store("on"))
    record_settings(engine, store("off", active=False, product_sync=False))
    record_api_status(engine, "off", API_AUTH_FAILED, "N11 refused the key")
    views = read_stores(engine, ["on", "off"], {})
    assert (views["on"].recorded, views["on"].active, views["on"].order_sync, views["on"].product_sync) == \
        (True, True, True, True)
    assert views["on"].api_status is None and views["on"].api_checked_at is None
    assert (views["off"].active, views["off"].order_sync, views["off"].product_sync) == (False, True, False)
    assert views["off"].api_status == API_AUTH_FAILED and views["off"].api_checked_at is not None
    record_api_status(engine, "off", API_OK, "fine")
    assert read_stores(engine, ["off"], {})["off"].api_status == API_OK


def test_only_unsettled_order_actions_count_as_open(engine):
    rows = [("1", None, T), ("2", "unknown", datetime(2026, 11, 26, 8, 0)), ("3", "accepted", T),
            ("4", "failed", T), ("5", "refused", T)]
    with engine.begin() as conn:
        conn.execute(insert(n11_order_actions), [
            {"store": "s", "order_line_id": line, "action": "approve", "result": result, "requested_at": at}
            for line, result, at in rows])
        conn.execute(insert(n11_order_actions), [{"store": "other", "order_line_id": "9", "action": "approve"}])
    view = read_stores(engine, ["s"], {})["s"]
    assert view.open_actions == 2
    assert view.oldest_open_action == datetime(2026, 11, 26, 8, 0)


def test_the_last_alert_is_the_latest_problem_announced(engine):
    with engine.begin() as conn:
        conn.execute(insert(n11_notifications), [
            {"store": "s", "problem": "credentials", "notified_at": datetime(2026, 11, 27, 8, 0)},
            {"store": "s", "problem": "n11_s_orders.load_orders", "notified_at": datetime(2026, 11, 27, 10, 0)},
            {"store": "t", "problem": "credentials", "notified_at": datetime(2026, 11, 27, 11, 0)}])
    view = read_stores(engine, ["s"], {})["s"]
    assert (view.last_alert, view.last_alert_at) == ("n11_s_orders.load_orders", datetime(2026, 11, 27, 10, 0))


def test_the_refused_skus_are_those_of_the_stores_own_last_run_n11s_before_local_ones(engine):
    with engine.begin() as conn:
        conn.execute(insert(n11_product_sync_errors), [
            refusal("s", "LOCAL-1", kind="local", task_id="local"),
            refusal("s", "SKU-2"), refusal("s", "SKU-1"),
            refusal("s", "OLD-1", run_id="scheduled__2026-11-27T08:30:00+00:00", task_id="6000"),
            refusal("t", "T-1")])  # another store, the same run id
    view = read_stores(engine, ["s", "t"], {"s": RUN})["s"]
    assert view.refused == 3
    assert [r.stock_code for r in view.refusals] == ["SKU-1", "SKU-2", "LOCAL-1"]
    assert view.refusals[0] == Refusal("SKU-1", "fail", ("Fiyat hatalı",))
    assert read_stores(engine, ["t"], {"s": RUN})["t"].refusals == []


def test_a_run_with_many_refusals_names_the_first_few_and_counts_them_all(engine):
    with engine.begin() as conn:
        conn.execute(insert(n11_product_sync_errors), [refusal("s", f"SKU-{n:03}") for n in range(40)])
    view = read_stores(engine, ["s"], {"s": RUN})["s"]
    assert view.refused == 40
    assert [r.stock_code for r in view.refusals] == [f"SKU-{n:03}" for n in range(LISTED_REFUSALS)]


def test_fifty_stores_cost_the_same_queries_as_one(engine):
    from sqlalchemy import event

    statements = []
    event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    for slug in (f"s{n:02d}" for n in range(50)):
        record_settings(engine, store(slug))
    statements.clear()
    read_stores(engine, ["s00"], {"s00": RUN})
    one = len(statements)
    statements.clear()
    read_stores(engine, [f"s{n:02d}" for n in range(50)], {f"s{n:02d}": RUN for n in range(50)})
    assert len(statements) == one == 4  # stores, open actions, alerts, refusals
