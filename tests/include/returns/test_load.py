"""Return claims into the shop against the sandbox over real HTTP, on SQLite, PostgreSQL and MariaDB: every claim of
a run's days with the shop's order line matched, idempotent across reruns and backfills, never moved back to an
older answer, open claims read again until final, gaps caught up, bad claims refused naming the claim, and the
buyers' data in n11_returns only."""

from __future__ import annotations

import dataclasses
import logging
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from devtools.sandbox import FaultConfig
from devtools.sandbox import claims as sandbox_claims
from include.clock import utcnow
from include.returns import run as returns_run
from include.returns.errors import BadClaimData, ClaimFetchError
from include.returns.load import ClaimCounts
from include.store_status import record_settings
from include.tables import n11_order_lines, n11_returns, n11_stores
from tests.helpers.common import TEST_KEY
from tests.helpers.orders import MONTH_END, MONTH_START, STORE, sync
from tests.helpers.returns import (
    VOLATILE,
    claims_of,
    load,
    load_month,
    operations,
    personal_values,
    rows,
)

FIELDS = {"status": "status", "order_number": "orderNumber", "product_id": "productId", "quantity": "quantity",
          "unit_price": "unitPrice", "final_price": "finalPrice", "requested_at": "requestDate",
          "approved_at": "approvedDate", "denied_at": "deniedDate", "cancelled_at": "cancelledDate",
          "buyer_name": "buyerName", "buyer_phone": "buyerPhone", "cargo_tracking_number": "trackingNumber"}


def expected(n11, start=None, end=None) -> dict[str, dict]:
    """What the shop must hold of the sandbox's claims requested in [start, end] (Istanbul days)."""
    found = {}
    for claim in claims_of(n11.state.account(TEST_KEY)):
        if (start is None or claim["requestDate"] >= start) and (end is None or claim["requestDate"] <= end):
            found[claim["claimReturnId"]] = {column: claim.get(field) for column, field in FIELDS.items()}
    return found


def held(shop) -> dict[str, dict]:
    return {claim_id: {column: row[column] for column in FIELDS} for claim_id, row in rows(shop).items()}


def shop_line(shop, order_number: str, product_id: str) -> tuple[str, str]:
    with shop.connect() as conn:
        return tuple(conn.execute(select(n11_order_lines.c.order_line_id, n11_order_lines.c.stock_code).where(
            n11_order_lines.c.order_number == order_number, n11_order_lines.c.product_id == product_id,
            n11_order_lines.c.status == "Delivered")).one())


def test_a_run_loads_every_claim_of_its_days_with_the_shops_order_line(n11, shop):
    summary = load_month(n11, shop)

    assert held(shop) == expected(n11)
    assert summary.loaded == ClaimCounts(new=len(expected(n11))) and summary.unmatched == 0
    assert summary.open == len([c for c in expected(n11).values() if c["status"] not in
                                ("APPROVED", "DENIED", "CANCELLED", "MANUAL_REFUND")])
    for row in rows(shop).values():
        assert (row["order_line_id"], row["stock_code"]) == shop_line(shop, row["order_number"], row["product_id"])
    assert {len(call["searchData"]["period"]) for call in operations(n11, "ClaimReturnList")} == {2}


def test_a_claim_whose_order_the_shop_does_not_hold_has_no_line_until_the_order_comes(n11, shop):
    early = load(n11, shop)
    assert early.unmatched == len(expected(n11)) > 0
    assert {(row["order_line_id"], row["stock_code"]) for row in rows(shop).values()} == {(None, None)}

    sync(n11, shop, MONTH_START, MONTH_END)
    assert load(n11, shop).unmatched == 0
    assert None not in {row["stock_code"] for row in rows(shop).values()}


def test_a_rerun_and_daily_runs_over_the_month_leave_the_same_rows_as_one_clean_run(n11, shop):
    clean = dataclasses.replace(STORE, slug="clean")
    sync(n11, shop, MONTH_START, MONTH_END)
    sync(n11, shop, MONTH_START, MONTH_END, clean)
    load(n11, shop, store=clean)
    day = MONTH_START
    while day < MONTH_END:
        load(n11, shop, day, day + timedelta(days=1), now=MONTH_END + timedelta(minutes=5))
        day += timedelta(days=1)
    again = load(n11, shop)

    assert again.loaded == ClaimCounts(unchanged=len(expected(n11)))
    assert rows(shop, leave_out=VOLATILE) == rows(shop, store="clean", leave_out=VOLATILE)


def test_a_claim_never_moves_back_to_an_older_answer_but_takes_a_same_day_change(n11, shop):
    load_month(n11, shop)
    account = n11.state.account(TEST_KEY)
    approved = claims_of(account, "APPROVED")[0]["claimReturnId"]
    claim = account.claims[approved]
    newer = dict(claim)
    claim.update(status="APPROVAL_WAITING", approvedDate=None)  # a lagging copy of N11 answers the older state
    assert load(n11, shop).loaded.older == 1
    assert rows(shop)[approved]["status"] == "APPROVED"

    claim.update(newer, trackingNumber="999000111222")  # the same day, a new tracking number
    counts = load(n11, shop).loaded
    assert (counts.updated, counts.older) == (1, 0)
    assert rows(shop)[approved]["cargo_tracking_number"] == "999000111222"


@pytest.mark.one_case_per_server
@pytest.mark.parametrize("reading", ["requested", "updated"])
def test_an_open_claim_is_read_again_until_final_whatever_the_period_filters(start_sandbox, shop, reading,
                                                                              monkeypatch):
    monkeypatch.setattr(returns_run, "EVERY_RUN_FOR", timedelta(days=60))  # every open claim of the month is young
    n11 = start_sandbox(claim_period_filter=reading)
    load_month(n11, shop)
    account = n11.state.account(TEST_KEY)
    waiting = claims_of(account, "APPROVAL_WAITING")[0]
    decided_on = MONTH_END.date() + timedelta(days=1)
    sandbox_claims.move(account.claims[waiting["claimReturnId"]], "APPROVED", decided_on)
    n11.clear_log()

    later = MONTH_END + timedelta(days=2)  # the next interval's days hold neither its request nor its approval
    first = load(n11, shop, later, later + timedelta(minutes=15))
    row = rows(shop)[waiting["claimReturnId"]]
    assert (row["status"], row["approved_at"]) == ("APPROVED", decided_on)
    looked_up = [call["searchData"]["searchQuery"] for call in operations(n11, "ClaimReturnList")
                 if call["searchData"].get("searchInfoType") == "ORDERID"]
    assert waiting["orderNumber"] in looked_up and first.followed_orders == len(looked_up)

    n11.clear_log()
    second = load(n11, shop, later + timedelta(minutes=15), later + timedelta(minutes=30))
    assert second.followed_orders == first.followed_orders - 1  # the final claim is read no more
    assert second.open == first.open


def test_the_open_claims_looked_up_per_run_are_bounded_the_longest_unseen_first(n11, shop, monkeypatch):
    load_month(n11, shop)
    account = n11.state.account(TEST_KEY)
    open_orders = sorted({c["orderNumber"] for c in claims_of(account, *sandbox_claims.OPEN)})
    assert len(open_orders) >= 3
    monkeypatch.setattr(returns_run, "MAX_FOLLOWED", 2)
    monkeypatch.setattr(returns_run, "EVERY_RUN_FOR", timedelta(days=60))
    later = MONTH_END + timedelta(days=2)
    seen = []
    for n in range(len(open_orders)):
        n11.clear_log()
        summary = load(n11, shop, later + n * timedelta(minutes=15), later + (n + 1) * timedelta(minutes=15))
        assert summary.followed_orders == 2
        seen += [call["searchData"]["searchQuery"] for call in operations(n11, "ClaimReturnList")
                 if "searchQuery" in call["searchData"]]
    assert set(seen) == set(open_orders)


def test_an_open_claim_older_than_three_days_is_read_again_once_a_day(n11, shop):
    load_month(n11, shop)
    account = n11.state.account(TEST_KEY)
    later = MONTH_END + timedelta(days=2)
    young = {c["orderNumber"] for c in claims_of(account, *sandbox_claims.OPEN)
             if c["requestDate"] >= later.date() - returns_run.EVERY_RUN_FOR}
    old = {c["orderNumber"] for c in claims_of(account, *sandbox_claims.OPEN)} - young
    assert old

    def looked_up() -> set[str]:
        found = {call["searchData"]["searchQuery"] for call in operations(n11, "ClaimReturnList")
                 if "searchQuery" in call["searchData"]}
        n11.clear_log()
        return found

    n11.clear_log()
    load(n11, shop, later, later + timedelta(minutes=15))
    assert looked_up() == young  # the old ones were read a moment ago, by the month's run
    with shop.begin() as conn:
        conn.execute(update(n11_returns).values(last_seen=utcnow() - timedelta(days=1, minutes=1)))
    load(n11, shop, later + timedelta(minutes=15), later + timedelta(minutes=30))
    assert looked_up() == young | old
    load(n11, shop, later + timedelta(minutes=30), later + timedelta(minutes=45))
    assert looked_up() == young


def test_a_gap_before_the_interval_is_loaded_from_the_returns_watermark(n11, shop):
    record_settings(shop, STORE)
    sync(n11, shop, MONTH_START, MONTH_END)
    load(n11, shop, MONTH_START, MONTH_START + timedelta(days=1))
    with shop.connect() as conn:
        mark = conn.scalar(select(n11_stores.c.returns_loaded_to))
    assert mark == (MONTH_START + timedelta(days=1)).replace(tzinfo=None)

    load(n11, shop, MONTH_END - timedelta(minutes=15), MONTH_END)  # the store was off for the rest of the month
    assert held(shop) == expected(n11)


def test_a_claim_n11_sends_unreadable_stops_its_period_naming_the_store_claim_and_field(n11, shop, caplog):
    bad = claims_of(n11.state.account(TEST_KEY))[-1]
    n11.state.account(TEST_KEY).claims[bad["claimReturnId"]]["quantity"] = "iki"
    with pytest.raises(BadClaimData) as err:
        load(n11, shop)
    message = str(err.value)
    assert f"store {STORE.slug!r}" in message and f"claim {bad['claimReturnId']} has quantity='iki'" in message
    assert "nothing of it was written" in message and bad["claimReturnId"] not in rows(shop)
    assert not any(value in message + caplog.text for value in personal_values(n11.state.account(TEST_KEY)))


def test_a_read_that_keeps_failing_names_the_store_and_period_and_writes_nothing_of_it(n11, shop):
    n11.faults = FaultConfig(rate=1.0, kinds=("503",))
    with pytest.raises(ClaimFetchError, match=r"store 'shop1', return claims of \d\d/\d\d/2026 to .*kept failing"):
        load(n11, shop)
    assert rows(shop) == {}


def test_buyers_data_reaches_n11_returns_and_no_log_line_summary_or_count(n11, shop, caplog):
    caplog.set_level(logging.DEBUG)
    summary = load_month(n11, shop)
    later = MONTH_END + timedelta(days=2)
    follow = load(n11, shop, later, later + timedelta(minutes=15))
    personal = personal_values(n11.state.account(TEST_KEY))
    stored = {row[c] for row in rows(shop).values() for c in ("buyer_name", "buyer_email", "buyer_phone")}
    assert len(personal & stored) > 20  # the shop got them
    texts = caplog.text + summary.log_line() + str(summary.counts()) + follow.log_line()
    assert [value for value in personal if value in texts] == []


def test_a_store_sees_only_its_own_claims_matched_to_its_own_lines(n11, shop):
    other = dataclasses.replace(STORE, slug="other")
    sync(n11, shop, MONTH_START, MONTH_END, other)
    load(n11, shop)
    assert load(n11, shop).unmatched == len(expected(n11))  # the other store's lines are not this store's
    assert rows(shop, store="other") == {}


def test_an_interval_in_the_future_reads_up_to_now_plus_the_overlap_only(n11, shop):
    now = MONTH_END
    summary = load(n11, shop, now - timedelta(minutes=15), now + timedelta(days=30), now=now)
    (call,) = operations(n11, "ClaimReturnList")  # 02:45 Istanbul less 3 hours, to 03:00 plus 3 hours
    assert call["searchData"]["period"] == {"startDate": "30/09/2026", "endDate": "01/10/2026"}
    assert summary.end == now + timedelta(days=30) and summary.periods == 1
