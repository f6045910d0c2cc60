"""Loading windows of rows: counts, the version guard, and order amounts that do not depend on the windows."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from include.orders.load import LoadCounts, load_window
from include.orders.transform import package_rows
from include.tables import n11_orders
from tests.include.orders.conftest import LOADED, MODIFIED_MS, snapshot, wire_line, wire_package

HOUR_MS = 3_600_000
# One order in two packages that N11 modified a day apart, so two runs can each see one of them.
FIRST = wire_package(package_id=1, status="Delivered", modified_ms=MODIFIED_MS,
                     lines=[wire_line(1, price=100.0, quantity=2, sellerInvoiceAmount=190.0)])
SECOND = wire_package(package_id=2, status="Shipped", modified_ms=MODIFIED_MS + 24 * HOUR_MS,
                      lines=[wire_line(2, price=49.9, quantity=1, sellerInvoiceAmount=49.9),
                             wire_line(3, price=10.0, quantity=3, sellerInvoiceAmount=25.0)])


def load(shop, *packages) -> LoadCounts:
    with shop.begin() as conn:
        return load_window(conn, "shop1", package_rows("shop1", packages, LOADED))


def order(shop) -> dict:
    with shop.connect() as conn:
        return dict(conn.execute(select(n11_orders)).mappings().one())


@pytest.mark.parametrize("windows", [[(FIRST, SECOND)], [(FIRST,), (SECOND,)], [(SECOND,), (FIRST,)]],
                         ids=["one window", "first package first", "second package first"])
def test_order_amounts_and_status_are_the_same_however_its_packages_were_split_over_windows(shop, windows):
    for packages in windows:
        load(shop, *packages)
    row = order(shop)
    assert row["total_amount"] == Decimal("279.90")  # 2 x 100.00 + 49.90 + 3 x 10.00
    assert row["invoice_total"] == Decimal("264.90")  # the lines' sellerInvoiceAmount
    assert row["total_discount_amount"] == Decimal("15.00")
    assert row["status"] == "Shipped"  # the most recently modified package's


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
