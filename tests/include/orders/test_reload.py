"""A range reloaded in one run (the orders DAG's ``reload_from`` / ``reload_to``): the same rows as the runs of its
intervals, idempotent, and a range N11 cannot serve refused naming the field."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime, timedelta

import pytest

from include.clock import ISTANBUL
from include.orders.reload import ReloadRange, ReloadRangeError
from include.orders.run import reload_orders
from n11.client import N11Client
from tests.conftest import TEST_KEY, TEST_SECRET
from tests.include.orders.conftest import FAST, MONTH_END, MONTH_START, STORE, expected, snapshot, stored, sync_every

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


def reload(sandbox, shop, start: datetime, end: datetime, store=STORE):
    client = N11Client(TEST_KEY, TEST_SECRET, sandbox.url, FAST)
    try:
        return reload_orders(shop, client, store, ReloadRange(start, end), now=end + timedelta(minutes=5))
    finally:
        client.close()


def test_one_reload_of_the_month_leaves_the_rows_of_its_daily_runs_and_a_second_changes_nothing(month, shop):
    reloaded = reload(month, shop, MONTH_START, MONTH_END)
    assert reloaded.windows.windows == 3  # 30 days (and the overlap) in N11's windows of at most 14 days
    assert stored(shop) == expected(month)
    sync_every(month, shop, timedelta(days=1), dataclasses.replace(STORE, slug="daily"))
    assert snapshot(shop) == snapshot(shop, "daily")

    before = snapshot(shop, loaded_at=True)
    again = reload(month, shop, MONTH_START, MONTH_END)
    assert again.windows.counts.orders_new == 0 and again.windows.counts.orders_updated == 0
    assert snapshot(shop, loaded_at=True) == before


def test_dates_are_istanbul_days_and_the_last_day_is_included():
    reload = ReloadRange.from_conf({"reload_from": "2026-10-01", "reload_to": "2026-10-31"}, NOW)
    assert reload == ReloadRange(datetime(2026, 10, 1, tzinfo=ISTANBUL), datetime(2026, 11, 1, tzinfo=ISTANBUL))


def test_datetimes_are_taken_as_given_and_without_an_offset_as_istanbul_time():
    reload = ReloadRange.from_conf({"reload_from": "2026-10-01T06:00:00+00:00", "reload_to": "2026-10-02T06:00"},
                                   NOW)
    assert reload == ReloadRange(datetime(2026, 10, 1, 6, tzinfo=UTC), datetime(2026, 10, 2, 6, tzinfo=ISTANBUL))


def test_no_range_is_an_ordinary_run_over_its_interval():
    assert ReloadRange.from_conf({}, NOW) is None
    assert ReloadRange.from_conf({"reload_from": None, "reload_to": ""}, NOW) is None
    assert ReloadRange.from_conf(None, NOW) is None


@pytest.mark.parametrize("conf, message", [
    ({"reload_from": "2026-10-01"}, "reload_to is missing: a reload needs both reload_from and reload_to"),
    ({"reload_from": "2024-10-31", "reload_to": "2024-11-30"},
     "reload_from '2024-10-31' lies before 2024-11-01: N11 serves no older order"),
    ({"reload_from": "2026-11-01", "reload_to": "2026-12-02"},
     "reload_to '2026-12-02' ends in the future (now is 2026-12-02T15:00:00+03:00)"),
    ({"reload_from": "2026-10-05", "reload_to": "2026-10-01T00:00+03:00"},
     "reload_from '2026-10-05' is not before reload_to '2026-10-01T00:00+03:00'"),
    ({"reload_from": "1 October", "reload_to": "2026-10-31"},
     "reload_from '1 October' is neither an Istanbul date (2026-10-01) nor an ISO datetime"),
], ids=["half a range", "older than N11 serves", "ends in the future", "empty", "not a date"])
def test_a_range_n11_cannot_serve_is_refused_naming_the_field(conf, message):
    with pytest.raises(ReloadRangeError, match=re.escape(message)):
        ReloadRange.from_conf(conf, NOW)
