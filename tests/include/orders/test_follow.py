"""Open orders are followed to the end by direct look-up, whatever N11's date filter really filters; the canary
says when N11's answers contradict the filter asked for, and the pace rises."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from sqlalchemy import select

from devtools.sandbox import FaultConfig
from include.clock import from_ms, to_ms
from include.orders.canary import RAISED_FOR, standing_note
from include.orders.errors import OrderFetchError
from include.orders.follow import BATCH, follow_open_orders
from include.store_status import record_settings
from include.tables import n11_stores
from n11.client import N11Client
from tests.conftest import TEST_KEY, TEST_SECRET
from tests.include.orders.conftest import (
    FAST,
    MONTH_START,
    OPEN,
    READING_IDS,
    READINGS,
    STORE,
    account_of,
    add_package,
    stored,
    sync,
)

DAY, HOUR = timedelta(days=1), timedelta(hours=1)


def api_message(shop):
    with shop.connect() as conn:
        return conn.execute(select(n11_stores.c.api_message, n11_stores.c.order_filter_contradicted_at)).one()


@pytest.mark.one_case_per_server
@pytest.mark.parametrize("reading", READINGS, ids=READING_IDS)
@pytest.mark.parametrize("age", [timedelta(days=1), timedelta(days=5)], ids=["a day old", "five days old"])
def test_a_status_change_of_an_older_order_reaches_the_shop_within_two_runs_under_either_reading(
        start_sandbox, shop, reading, age):
    sandbox = start_sandbox()
    account, created = account_of(sandbox), MONTH_START + 10 * DAY
    add_package(account, "2000000000011", to_ms(created), shipmentPackageStatus="Created")
    sync(sandbox, shop, created, created + HOUR)
    assert stored(shop)["n11_orders"]["2000000000011"]["status"] == "Created"

    changed = created + age
    account.set_package_status("2000000000011", "Shipped", to_ms(changed))
    ends = [changed + HOUR - timedelta(minutes=changed.minute), changed + 2 * HOUR - timedelta(minutes=changed.minute)]
    statuses = []
    for end in ends:
        sync(sandbox, shop, end - HOUR, end)
        statuses.append(stored(shop)["n11_orders"]["2000000000011"]["status"])
    assert "Shipped" in statuses


def test_finished_orders_are_not_looked_up_and_open_ones_go_in_batches(month, shop):
    end = MONTH_START + 30 * DAY
    sync(month, shop, MONTH_START, end)
    open_numbers = {n for n, o in stored(shop)["n11_orders"].items() if o["status"] in OPEN}
    packages = account_of(month).packages
    month.clear_log()
    client = N11Client(TEST_KEY, TEST_SECRET, month.url, FAST)
    try:  # a day after the run: the daily look-up is due again
        summary = follow_open_orders(shop, client, STORE, now=from_ms(to_ms(end + DAY)))
    finally:
        client.close()
    calls = month.calls("GET", "/rest/delivery/v1/shipmentPackages")
    looked_up = {i for call in calls for i in call.query.get("packageIds", "").split(",") if i}
    assert summary.requests == len(calls) and summary.packages > 0 and looked_up
    assert looked_up <= {str(p["id"]) for p in packages if p["orderNumber"] in open_numbers}
    assert all(len(call.query.get("packageIds", "").split(",")) <= BATCH for call in calls)
    assert "startDate" not in {key for call in calls for key in call.query}


def test_the_pace_is_the_stores_own(start_sandbox, shop):
    sandbox = start_sandbox()
    account, created = account_of(sandbox), MONTH_START + 10 * DAY
    add_package(account, "2000000000012", to_ms(created), shipmentPackageStatus="Created")
    sync(sandbox, shop, created, created + HOUR)
    later = created + 5 * DAY
    client = N11Client(TEST_KEY, TEST_SECRET, sandbox.url, FAST)
    try:
        default = follow_open_orders(shop, client, STORE, now=from_ms(to_ms(later)))
        short = follow_open_orders(shop, client, dataclasses.replace(STORE, follow_every_run_days=1, follow_days=4),
                                   now=from_ms(to_ms(later + 2 * DAY)))
    finally:
        client.close()
    assert default.packages == 1  # five days old: looked up daily under the default 30 days
    assert short.packages == 0  # seven days old: past this store's four days


@pytest.mark.one_case_per_server
@pytest.mark.parametrize("reading", READINGS, ids=READING_IDS)
def test_the_canary_speaks_once_a_day_only_when_n11_answers_contradict_the_filter(start_sandbox, shop, reading):
    sandbox = start_sandbox()
    record_settings(shop, STORE)
    day = MONTH_START + 10 * DAY
    for hour in range(3):
        sync(sandbox, shop, day + hour * HOUR, day + (hour + 1) * HOUR)
    message, since = api_message(shop)
    if reading == "modified":
        assert (message, since) == (None, None)
    else:
        assert "orderByField does not filter on the last modification" in message and since is not None
        with shop.begin() as conn:
            conn.execute(n11_stores.update().values(api_message="ok"))
        sync(sandbox, shop, day + 3 * HOUR, day + 4 * HOUR)
        assert api_message(shop)[0] == "ok"  # said once a day
        assert "N11's order listing has contradicted the date filter" in standing_note(shop, STORE.slug)
        with shop.begin() as conn:  # a week later the raised pace and the note end
            conn.execute(n11_stores.update().values(order_filter_contradicted_at=since - RAISED_FOR))
        assert standing_note(shop, STORE.slug) == ""


@pytest.mark.one_case_per_server
@pytest.mark.parametrize("shift", [3, -3], ids=["N11 adds 3h", "N11 subtracts 3h"])
def test_the_canary_stays_quiet_when_n11_only_shifts_its_dates_by_the_overlap(start_sandbox, shop, shift):
    sandbox = start_sandbox(date_shift_hours=shift)
    record_settings(shop, STORE)
    day = MONTH_START + 10 * DAY
    sync(sandbox, shop, day, day + 2 * DAY)
    assert api_message(shop) == (None, None)


def test_a_failed_look_up_names_the_store_and_batch_and_the_next_run_looks_it_up_again(start_sandbox, shop):
    sandbox = start_sandbox()
    account, created = account_of(sandbox), MONTH_START + 10 * DAY
    package = add_package(account, "2000000000013", to_ms(created), shipmentPackageStatus="Created")
    sync(sandbox, shop, created, created + HOUR)
    account.set_package_status("2000000000013", "Shipped", to_ms(created + 2 * HOUR))
    sandbox.faults = FaultConfig(rate=1.0, kinds=("503",), paths=("/rest/delivery/",))
    client = N11Client(TEST_KEY, TEST_SECRET, sandbox.url, FAST)
    try:
        with pytest.raises(OrderFetchError) as failure:
            follow_open_orders(shop, client, STORE, now=from_ms(to_ms(created + 3 * HOUR)))
        assert str(failure.value).startswith(
            f"store 'shop1', look-up of open orders, 1 package(s) from {package['id']}: ")
        assert "HTTP 503" in str(failure.value) and "the next run looks it up again" in str(failure.value)
        assert stored(shop)["n11_orders"]["2000000000013"]["status"] == "Created"
        sandbox.faults = FaultConfig()
        assert follow_open_orders(shop, client, STORE, now=from_ms(to_ms(created + 3 * HOUR))).orders_changed == 1
    finally:
        client.close()
    assert stored(shop)["n11_orders"]["2000000000013"]["status"] == "Shipped"
