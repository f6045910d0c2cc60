"""The order sync against the N11 sandbox over real HTTP, into SQLite, PostgreSQL and MariaDB.

Whatever the runs (one month, daily, hourly, reruns, overlaps, backfills), the shop tables end up holding
each order and line of the sandbox exactly once, in its newest state.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from devtools.sandbox import FaultConfig, generate_account
from include.clock import to_ms
from include.orders.errors import BadOrderData, OrderFetchError
from include.orders.fetch import PAGE_SIZE, fetch_window
from include.orders.load import LoadCounts
from include.orders.windows import Window, order_windows
from n11.client import N11Client
from tests.conftest import DATABASES, TEST_KEY, TEST_SECRET
from tests.helpers.hostile import HostileServer, json_answer
from tests.include.orders.conftest import (
    FAST,
    MONTH_END,
    MONTH_START,
    READING_IDS,
    READINGS,
    STORE,
    account_of,
    add_package,
    expected,
    served_ms,
    snapshot,
    stored,
    sync,
    sync_every,
)

DAY = timedelta(days=1)
HOUR = timedelta(hours=1)
OVERLAP = timedelta(hours=STORE.order_window_overlap_hours)


@pytest.fixture(params=READINGS, ids=READING_IDS)
def reading(request) -> str:
    """Every scenario here runs under both readings of N11's date filter."""
    return request.param


def store(slug: str, **settings):
    return dataclasses.replace(STORE, slug=slug, **settings)


# How often the runs come changes the intervals asked of N11, not how the shop writes them: the hourly runs go on
# SQLite (the embedded default) over a week (168 runs; every hour of the day seen seven times), beside one run of
# that week; the server databases take the monthly and daily runs, under one reading (SQLite runs both).
HOURLY_DB = "sqlite" if "sqlite" in DATABASES else DATABASES[0]
WEEK_END = MONTH_START + 7 * DAY
MONTH_CASES = [pytest.param(reading, db, db == HOURLY_DB, id=f"{reading_id}-{db}")
               for reading, reading_id in zip(READINGS, READING_IDS, strict=True) for db in DATABASES]


@pytest.mark.one_case_per_server
@pytest.mark.parametrize("reading, shop_conn, hourly", MONTH_CASES, indirect=["shop_conn"])
def test_one_monthly_run_daily_runs_and_hourly_runs_leave_identical_tables_holding_the_sandbox_month(
        month, shop, hourly):
    sync(month, shop, MONTH_START, MONTH_END, store("monthly"))
    sync_every(month, shop, DAY, store("daily"))
    assert snapshot(shop, "monthly") == snapshot(shop, "daily")
    if hourly:
        sync(month, shop, MONTH_START, WEEK_END, store("weekly"))
        sync_every(month, shop, HOUR, store("hourly"), WEEK_END)
        assert snapshot(shop, "hourly") == snapshot(shop, "weekly")
        assert len(snapshot(shop, "weekly")["n11_orders"]) >= 10
    assert stored(shop, "monthly") == expected(month)
    assert len(expected(month)["n11_orders"]) > 60


@pytest.mark.one_case_per_server
def test_a_rerun_changes_nothing_and_overlapping_intervals_make_no_duplicates(month, shop):
    day = MONTH_START + 10 * DAY
    first = sync(month, shop, day, day + 2 * DAY)
    assert first.counts.orders_new > 0 and first.windows == 1 and first.packages > 0
    before = snapshot(shop, loaded_at=True)
    rerun = sync(month, shop, day, day + 2 * DAY)
    assert rerun.counts == LoadCounts(orders_unchanged=first.counts.orders_new,
                                      lines_unchanged=first.counts.lines_new)
    assert snapshot(shop, loaded_at=True) == before
    sync(month, shop, day + DAY, day + 3 * DAY)
    assert stored(shop) == expected(month, day - OVERLAP, day + 3 * DAY + OVERLAP)


@pytest.mark.one_case_per_server
def test_a_status_change_updates_the_row_on_the_next_run_and_an_older_answer_never_overwrites_it(month, shop):
    account, hour = account_of(month), MONTH_START + 5 * DAY
    add_package(account, "2000000000001", to_ms(hour + 10 * timedelta(minutes=1)))
    account.set_package_status("2000000000001", "Created", to_ms(hour + 20 * timedelta(minutes=1)))
    sync(month, shop, hour, hour + HOUR)
    assert stored(shop)["n11_orders"]["2000000000001"]["status"] == "Created"

    account.set_package_status("2000000000001", "Shipped", to_ms(hour + 90 * timedelta(minutes=1)))
    assert sync(month, shop, hour + HOUR, hour + 2 * HOUR).counts.orders_updated >= 1
    shipped = stored(shop)
    assert shipped["n11_orders"]["2000000000001"]["status"] == "Shipped"

    # N11 answers an old version of the package again (a lagging replica, a replayed page): nothing moves back.
    account.set_package_status("2000000000001", "Created", to_ms(hour + 20 * timedelta(minutes=1)))
    sync(month, shop, hour, hour + HOUR)
    assert stored(shop) == shipped


@pytest.mark.one_case_per_server
def test_a_split_package_leaves_its_lines_once_under_the_child_packages(month, shop):
    account, hour = account_of(month), MONTH_START + 5 * DAY
    parent = add_package(account, "2000000000002", to_ms(hour), lines=2)
    sync(month, shop, hour, hour + HOUR)
    children = account.split_package(parent["id"], to_ms(hour + 2 * HOUR))
    sync(month, shop, hour + HOUR, hour + 3 * HOUR)
    lines = {line_id: line for line_id, line in stored(shop)["n11_order_lines"].items()
             if line["order_number"] == "2000000000002"}
    assert sorted(lines) == sorted(str(line["orderLineId"]) for line in parent["lines"])
    assert {line["package_id"] for line in lines.values()} == {str(child["id"]) for child in children}


@pytest.mark.one_case_per_server
def test_warehouse_orders_are_included_unless_the_store_asks_for_its_own_only(month, shop):
    account, hour = account_of(month), MONTH_START + 5 * DAY
    add_package(account, "2000000000003", to_ms(hour), _sender="N11")
    sync(month, shop, hour, hour + HOUR)
    sync(month, shop, hour, hour + HOUR, store("seller_only", order_sender="SELLER"))
    assert "2000000000003" in stored(shop)["n11_orders"]
    assert "2000000000003" not in stored(shop, "seller_only")["n11_orders"]
    assert {call.query["sender"] for call in month.calls("GET", "/rest/delivery/v1/shipmentPackages")} == \
        {"N11", "SELLER"}  # ALL is asked as each sender apart, so every order says who ships it
    assert stored(shop)["n11_orders"]["2000000000003"]["sender"] == "N11"


@pytest.mark.one_case_per_server
@pytest.mark.parametrize("shift", [0, 3, -3], ids=["N11 reads UTC", "N11 adds 3h", "N11 subtracts 3h"])
def test_orders_modified_at_the_edges_of_intervals_and_windows_are_not_lost(start_sandbox, shop, shift):
    account = generate_account(seed=5, api_key=TEST_KEY, api_secret=TEST_SECRET, products=10, days=1,
                               end=MONTH_START - 10 * DAY, packages_per_day=4)
    sandbox = start_sandbox(account, date_shift_hours=shift)
    hour = MONTH_START + 2 * DAY
    month_windows = order_windows(MONTH_START, MONTH_END, OVERLAP, MONTH_END + DAY)
    ms = timedelta(milliseconds=1)
    edges = {hour, hour + HOUR - ms, hour + HOUR, MONTH_START, MONTH_END - ms,
             month_windows[1].start - ms, month_windows[1].start}
    numbers = {f"3000000000{n:02d}": to_ms(moment) for n, moment in enumerate(sorted(edges))}
    for number, modified_ms in numbers.items():
        add_package(account, number, modified_ms)

    # Hourly scheduled runs, each five minutes after its interval ends: the newest hours are not asked yet.
    start = hour - 2 * HOUR
    while start < hour + 8 * HOUR:
        sync(sandbox, shop, start, start + HOUR, now=start + HOUR + timedelta(minutes=5))
        start += HOUR
    sync(sandbox, shop, MONTH_START, MONTH_END, store("monthly"))

    hourly_edges = {n for n, ms in numbers.items() if to_ms(hour) <= ms <= to_ms(hour + HOUR)}
    assert hourly_edges <= set(stored(shop)["n11_orders"])
    assert set(numbers) <= set(stored(shop, "monthly")["n11_orders"])


@pytest.mark.one_case_per_server
@pytest.mark.parametrize("shift", [0, 3, -3], ids=["N11 reads UTC", "N11 adds 3h", "N11 subtracts 3h"])
def test_an_order_modified_at_t_is_in_the_shop_after_the_first_run_whose_interval_ends_after_t(
        start_sandbox, shop, shift):
    account = generate_account(seed=5, api_key=TEST_KEY, api_secret=TEST_SECRET, products=10, days=1,
                               end=MONTH_START - 10 * DAY, packages_per_day=4)
    sandbox = start_sandbox(account, date_shift_hours=shift)
    step, delay, start = timedelta(minutes=15), timedelta(minutes=1), MONTH_START + 2 * DAY
    # Orders modified just after a run's start, in the middle, and in its last millisecond, over six runs.
    moments = [start + n * step + offset for n in range(6)
               for offset in (timedelta(0), 7 * timedelta(minutes=1), step - timedelta(milliseconds=1))]
    pending = {f"40000000000{n:02d}": moment for n, moment in enumerate(moments)}
    for run in range(6):
        end = start + (run + 1) * step
        now = end + delay  # the scheduler starts a run a little after its interval ends
        for number, moment in list(pending.items()):
            if moment < now:  # N11 has it by the time the run asks
                add_package(account, number, to_ms(moment))
        sync(sandbox, shop, end - step, end, now=now)
        due = {number for number, moment in pending.items() if moment < end}
        missed = due - set(stored(shop)["n11_orders"])
        assert not missed, f"run {run + 1} missed {sorted(missed)}"
        for number in due:
            del pending[number]


@pytest.mark.one_case_per_server
@pytest.mark.parametrize("damage, offending", [
    (lambda package: package.update(orderNumber=None), "package {id} has no orderNumber"),
    (lambda package: package["lines"][0].update(orderLineId=None),
     "line 1 (stockCode {stock_code}) has no orderLineId"),
    (lambda package: package.update(_shown={"shipmentPackageStatus": "Returned"}),
     "order {number} (package {id}): shipmentPackageStatus 'Returned' is not an N11 status"),
    (lambda package: package["lines"][0].update(orderLineId=880000000),
     "line 880000000: orderNumber contradicts package"),
], ids=["package without orderNumber", "line without orderLineId", "unknown status", "line of another order"])
def test_bad_n11_data_fails_naming_store_window_and_id_writes_nothing_of_that_window_and_a_rerun_loads_all(
        month, shop, damage, offending):
    windows = order_windows(MONTH_START, MONTH_END, OVERLAP, MONTH_END + DAY)
    account = account_of(month)
    bad = next(p for p in account.packages if to_ms(windows[1].start + DAY) <= served_ms(month, p)
               and p["shipmentPackageStatus"] != "Unpacked")
    good = {"orderNumber": bad["orderNumber"], "lines": [dict(line) for line in bad["lines"]],
            "shipmentPackageStatus": bad["shipmentPackageStatus"]}
    damage(bad)
    other = next(p for p in account.packages if p["orderNumber"] != good["orderNumber"]
                 and windows[1].start_ms <= served_ms(month, p) < windows[1].end_ms)
    other["lines"].append({**other["lines"][0], "orderLineId": 880000000})  # used by "line of another order"

    with pytest.raises(BadOrderData) as failure:
        sync(month, shop, MONTH_START, MONTH_END)
    message = str(failure.value)
    assert f"store 'shop1', window {windows[1]}:" in message
    assert offending.format(id=bad["id"], number=good["orderNumber"], stock_code=good["lines"][0]["stockCode"]) \
        in message
    assert "nothing of this window was written" in message
    # only the window before it, and no follow-up: the run failed
    assert stored(shop) == expected(month, windows[0].start, windows[0].end, followed=False)

    bad.update(good)  # N11 fixed its answer
    bad.pop("_shown", None)
    other["lines"].pop()
    sync(month, shop, MONTH_START, MONTH_END)
    assert stored(shop) == expected(month)


@pytest.mark.one_case_per_server
def test_a_truncated_page_fails_naming_the_window_and_page_and_a_rerun_loads_everything(month, shop):
    day = MONTH_START + 10 * DAY
    month.faults = FaultConfig(rate=1.0, kinds=("truncated",), paths=("/rest/",))
    with pytest.raises(OrderFetchError) as failure:
        sync(month, shop, day, day + DAY)
    (window,) = order_windows(day, day + DAY, OVERLAP, MONTH_END)
    assert f"store 'shop1', window {window}: status Created page 0:" in str(failure.value)
    assert "not JSON" in str(failure.value)
    assert stored(shop) == {"n11_orders": {}, "n11_order_packages": {}, "n11_order_lines": {}}

    month.faults = FaultConfig()
    sync(month, shop, day, day + DAY)
    assert stored(shop) == expected(month, day - OVERLAP, day + DAY + OVERLAP)


# --- a lying N11 ------------------------------------------------------------------------------------------

def _lying(pages: int, rows: int) -> HostileServer:
    """A server whose every shipment-package answer claims ``pages`` pages and holds ``rows`` rows."""
    answer = {"content": [{"id": i} for i in range(rows)], "totalPages": pages, "page": 0, "size": PAGE_SIZE,
              "pageCount": rows}
    return HostileServer(lambda request: json_answer(answer))


def _fetch_failure(server: HostileServer, **settings) -> tuple[str, Window]:
    (window,) = order_windows(MONTH_START, MONTH_START + 14 * DAY - 2 * OVERLAP, OVERLAP, MONTH_END)
    client = N11Client(TEST_KEY, TEST_SECRET, server.url, dataclasses.replace(FAST, **settings))
    with pytest.raises(OrderFetchError) as failure:
        fetch_window(client, STORE, window)
    return str(failure.value), window


@pytest.mark.parametrize("rows", [0, PAGE_SIZE])
def test_a_page_count_of_a_hundred_million_fails_the_window_at_the_first_request(rows):
    with _lying(100_000_000, rows) as server:
        message, window = _fetch_failure(server)
        assert len(server.received) == 1
    assert f"store 'shop1', window {window}: status Created page 0:" in message
    assert "announces totalPages 100000000, more than the 2000 pages" in message


def test_two_pages_of_which_the_first_is_empty_fail_the_window_at_the_first_request():
    with _lying(2, 0) as server:
        message, window = _fetch_failure(server)
        assert len(server.received) == 1
    assert f"store 'shop1', window {window}: status Created page 0:" in message
    assert "is empty before the announced end (totalPages 2" in message


def test_a_page_count_needing_more_requests_than_the_window_may_take_fails_before_splitting():
    with _lying(1500, PAGE_SIZE) as server:
        message, window = _fetch_failure(server)
        assert len(server.received) == 1
    assert f"store 'shop1', window {window}: status Created: reading the window would take more than 2000 " \
           "requests (the N11 connection extra max_requests_per_window): 1 made, 0 parts waiting, and part " \
           f"{window} announces totalPages 1500" in message


def test_parts_that_never_fit_one_page_fail_the_window_within_its_request_budget():
    with _lying(2, PAGE_SIZE) as server:
        message, window = _fetch_failure(server, max_requests_per_window=60)
        assert 10 < len(server.received) <= 60
    assert f"store 'shop1', window {window}: status Created: reading the window would take more than 60 " in message
    assert "announces totalPages 2; nothing of this window was written" in message
