"""Loading windows of rows: an order's status, cargo and amounts come from its live packages and lines, whatever
windows its packages came in; splits under both readings; the version guard; counts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from include.orders.load import LoadCounts, load_window
from include.orders.transform import package_rows
from include.tables import n11_order_lines, n11_orders
from tests.include.orders.conftest import LOADED, MODIFIED_MS, STORE, snapshot, wire_line, wire_package

HOUR_MS = 3_600_000
SPLIT_MS = MODIFIED_MS + 2 * HOUR_MS
# One order in two packages that N11 modified a day apart, so two runs can each see one of them.
FIRST = wire_package(package_id=1, status="Delivered", modified_ms=MODIFIED_MS,
                     lines=[wire_line(1, price=100.0, quantity=2, sellerInvoiceAmount=190.0)])
SECOND = wire_package(package_id=2, status="Shipped", modified_ms=MODIFIED_MS + 24 * HOUR_MS,
                      cargoTrackingNumber="222",
                      lines=[wire_line(2, price=49.9, quantity=1, sellerInvoiceAmount=49.9),
                             wire_line(3, price=10.0, quantity=3, sellerInvoiceAmount=25.0)])


def load(shop, *packages) -> LoadCounts:
    with shop.begin() as conn:
        return load_window(conn, "shop1", package_rows("shop1", packages, LOADED))


def order(shop) -> dict:
    with shop.connect() as conn:
        return dict(conn.execute(select(n11_orders)).mappings().one())


def lines(shop) -> dict[str, tuple[str, str]]:
    """``{orderLineId: (package id, status)}``."""
    with shop.connect() as conn:
        found = conn.execute(select(n11_order_lines.c.order_line_id, n11_order_lines.c.package_id,
                                    n11_order_lines.c.status)).all()
    return {line_id: (package_id, status) for line_id, package_id, status in found}


def package(package_id, status, lines, modified_ms=MODIFIED_MS, created_ms=MODIFIED_MS - HOUR_MS, **fields):
    return wire_package(package_id=package_id, status=status, modified_ms=modified_ms, lines=lines,
                        packageHistories=[{"createdDate": created_ms, "status": "Created"}], **fields)


def line(line_id, status, price=100.0, quantity=1, invoiced=None):
    return wire_line(line_id, price=price, quantity=quantity, orderItemLineItemStatusName=status,
                     sellerInvoiceAmount=price * quantity if invoiced is None else invoiced)


@pytest.mark.one_case_per_server
@pytest.mark.parametrize("windows", [[(FIRST, SECOND)], [(FIRST,), (SECOND,)], [(SECOND,), (FIRST,)]],
                         ids=["one window", "first package first", "second package first"])
def test_order_amounts_status_and_cargo_are_the_same_however_its_packages_were_split_over_windows(shop, windows):
    for packages in windows:
        load(shop, *packages)
    row = order(shop)
    assert row["total_amount"] == Decimal("279.90")  # 2 x 100.00 + 49.90 + 3 x 10.00
    assert row["invoice_total"] == Decimal("264.90")  # the lines' sellerInvoiceAmount
    assert row["total_discount_amount"] == Decimal("15.00")
    assert (row["status"], row["cargo_tracking_number"]) == ("Shipped", "222")  # the least advanced package's


@pytest.mark.one_case_per_server
@pytest.mark.parametrize("statuses, order_status", [
    (("Shipped", "UnSupplied"), "Shipped"), (("Delivered", "Created"), "Created"),
    (("Cancelled", "Picking"), "Picking"), (("Cancelled", "Cancelled"), "Cancelled"),
    (("UnSupplied", "UnSupplied"), "UnSupplied"), (("Cancelled", "UnSupplied"), "Cancelled"),
])
def test_an_order_is_its_least_advanced_live_package_and_cancelled_or_unsupplied_only_when_every_package_is(
        shop, statuses, order_status):
    first, second = statuses
    load(shop, package(1, first, [line(1, first, 100.0)]), package(2, second, [line(2, second, 50.0)]))
    row = order(shop)
    live = [amount for status, amount in zip(statuses, (100, 50), strict=True)
            if status not in ("Cancelled", "UnSupplied")]
    assert row["status"] == order_status
    assert row["invoice_total"] == row["total_amount"] == Decimal(sum(live))  # live lines only


PARENT_LINES = [line(1, "Picking", 100.0), line(2, "Picking", 50.0)]
SPLITS = {
    "parent Unpacked, children Picking": [
        package(10, "Unpacked", PARENT_LINES, SPLIT_MS),
        package(11, "Picking", [line(1, "Picking", 100.0)], SPLIT_MS, SPLIT_MS),
        package(12, "Picking", [line(2, "Picking", 50.0)], SPLIT_MS, SPLIT_MS)],
    "parent Cancelled, children UnPacked and Picking": [
        package(10, "Cancelled", [line(1, "Cancelled", 100.0), line(2, "Cancelled", 50.0)], SPLIT_MS),
        package(11, "UnPacked", [line(1, "UnPacked", 100.0)], SPLIT_MS, SPLIT_MS),
        package(12, "Picking", [line(2, "Picking", 50.0)], SPLIT_MS, SPLIT_MS)],
    "children that copy the parent's history": [
        package(10, "Cancelled", [line(1, "Cancelled", 100.0), line(2, "Cancelled", 50.0)], SPLIT_MS),
        package(11, "UnPacked", [line(1, "UnPacked", 100.0)], SPLIT_MS),
        package(12, "Picking", [line(2, "Picking", 50.0)], SPLIT_MS)],
}


@pytest.mark.one_case_per_server
@pytest.mark.parametrize("arrival", ["one window", "parent first", "children first"])
@pytest.mark.parametrize("split", SPLITS)
def test_a_split_order_holds_each_line_once_under_the_child_that_holds_it_live_and_is_never_cancelled(
        shop, split, arrival):
    load(shop, package(10, "Picking", PARENT_LINES))  # the order before the split
    parent, *children = SPLITS[split]
    for window in {"one window": [[parent, *children]], "parent first": [[parent], children],
                   "children first": [children, [parent]]}[arrival]:
        load(shop, *window)
    assert lines(shop) == {"1": ("11", "Picking"), "2": ("12", "Picking")}  # a live UnPacked child is Picking
    row = order(shop)
    assert (row["status"], row["invoice_total"]) == ("Picking", Decimal("150.00"))


@pytest.mark.one_case_per_server
@pytest.mark.parametrize("parent_status", ["Unpacked", "Cancelled"])
def test_a_quantity_split_counts_the_new_lines_once_and_keeps_the_cancelled_items_as_unsupplied(shop, parent_status):
    load(shop, package(10, "Picking", [line(1, "Picking", 100.0, quantity=3)]))
    load(shop, package(10, parent_status, [line(1, parent_status, 100.0, quantity=3)], SPLIT_MS),
         package(11, "Picking", [line(5, "Picking", 100.0, quantity=2)], SPLIT_MS, SPLIT_MS),
         package(12, "UnSupplied", [line(6, "UnSupplied", 100.0, quantity=1)], SPLIT_MS, SPLIT_MS))
    assert lines(shop) == {"1": ("10", parent_status), "5": ("11", "Picking"), "6": ("12", "UnSupplied")}
    row = order(shop)
    assert (row["status"], row["total_amount"]) == ("Picking", Decimal("200.00"))


@pytest.mark.parametrize("first, second", [("Created", "Shipped"), ("Shipped", "Created")])
def test_a_status_change_stamped_with_the_same_millisecond_is_kept_whatever_order_it_arrives_in(
        shop, first, second):
    load(shop, package(999, first, [line(1, first)]))
    load(shop, package(999, second, [line(1, second)]))
    assert (order(shop)["status"], lines(shop)) == ("Shipped", {"1": ("999", "Shipped")})


def test_ties_between_packages_are_broken_by_ids_as_numbers_not_as_strings(shop):
    # Two packages alike in everything but their ids, both listing line 1: the larger id holds it.
    load(shop, package(999, "Picking", [line(1, "Picking")]), package(1000, "Picking", [line(1, "Picking")]))
    assert lines(shop) == {"1": ("1000", "Picking")}


def test_counts_say_what_each_load_did_and_a_repeated_load_writes_nothing(shop):
    assert load(shop, FIRST) == LoadCounts(orders_new=1, lines_new=1)
    assert load(shop, FIRST, SECOND) == LoadCounts(orders_updated=1, lines_new=2, lines_unchanged=1)
    before = snapshot(shop, loaded_at=True)
    assert load(shop, FIRST, SECOND) == LoadCounts(orders_unchanged=1, lines_unchanged=3)
    assert snapshot(shop, loaded_at=True) == before


def test_an_older_answer_leaves_the_newer_rows_as_they_are(shop):
    newer = wire_package(package_id=1, status="Cancelled", modified_ms=MODIFIED_MS + HOUR_MS,
                         lines=[wire_line(1, price=100.0, quantity=2, sellerInvoiceAmount=190.0,
                                          orderItemLineItemStatusName="Cancelled")])
    load(shop, newer)
    before = snapshot(shop, loaded_at=True)
    assert load(shop, FIRST) == LoadCounts(orders_unchanged=1, lines_unchanged=1)
    assert snapshot(shop, loaded_at=True) == before
    assert order(shop)["status"] == "Cancelled"


def test_the_watermark_moves_only_forward_and_a_gap_is_loaded_from_it_bounded(shop, caplog):
    from include.orders import watermark
    from include.store_status import record_settings

    record_settings(shop, STORE)
    day = datetime(2026, 11, 20, 21, tzinfo=UTC)
    assert watermark.load_start(shop, STORE.slug, STORE.orders_dag_id, day) == day  # no load yet: the interval
    watermark.advance(shop, STORE.slug, day)
    watermark.advance(shop, STORE.slug, day - timedelta(days=5))  # a backfill of an older interval
    assert watermark.load_start(shop, STORE.slug, STORE.orders_dag_id, day + timedelta(days=2)) == day
    assert watermark.load_start(shop, STORE.slug, STORE.orders_dag_id, day - timedelta(days=1)) == \
        day - timedelta(days=1)
    later = day + watermark.MAX_CATCH_UP + timedelta(days=10)
    assert watermark.load_start(shop, STORE.slug, STORE.orders_dag_id, later) == later - watermark.MAX_CATCH_UP
    assert ("airflow backfill create --dag-id n11_shop1_orders --from-date 2026-11-21T00:00:00+03:00 "
            "--to-date 2026-12-01T00:00:00+03:00 --reprocess-behavior completed") in caplog.text
