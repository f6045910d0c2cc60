"""N11 packages as the client hands them over (JSON numbers as floats) into order and line rows."""

from __future__ import annotations

import logging
from datetime import datetime
from decimal import Decimal

import pytest

from include.orders.transform import BadPackage, normalise_status, package_rows
from tests.include.orders.conftest import LOADED, MODIFIED_MS, wire_line, wire_package


def rows(*packages):
    return package_rows("shop1", packages, LOADED)


def test_a_package_becomes_an_order_row_and_line_rows_with_string_ids_exact_amounts_and_utc_times():
    result = rows(wire_package())
    assert result.orders == [{
        "store": "shop1", "order_number": "1000000000123", "status": "Created", "customer_id": "70000123",
        "customer_name": "Ayşe Yılmaz", "customer_email": "ayse.yilmaz7@example.com", "billing_city": "İzmir",
        "shipping_city": "İstanbul", "cargo_provider": "Aras Kargo", "cargo_tracking_number": "123456789012",
        "created_at": datetime(2026, 8, 31, 23), "last_modified": datetime(2026, 9, 1), "loaded_at": LOADED,
        "sender": None}]
    assert result.lines == [{
        "store": "shop1", "order_line_id": "880000001", "order_number": "1000000000123", "package_id": "300000011",
        "status": "Created", "stock_code": "SKU-00007", "product_id": "540001234",
        "product_name": "Lale Şık Porselen Kahve Kupası", "quantity": 2, "price": Decimal("149.90"),
        "seller_discount": Decimal("15.00"), "seller_coupon_discount": Decimal("0.00"),
        "mall_discount": Decimal("0.00"), "total_seller_discount_price": Decimal("15.00"),
        "seller_invoice_amount": Decimal("284.80"), "vat_rate": Decimal("20.00"),
        "commission_rate": Decimal("12.50"), "last_modified": datetime(2026, 9, 1), "loaded_at": LOADED}]


@pytest.mark.parametrize("sent, stored", [("SELLER", "SELLER"), (" n11", "N11"), (None, None), ("", None)])
def test_the_orders_sender_is_kept_when_the_package_carries_one_and_unknown_otherwise(sent, stored):
    assert rows(wire_package(sender=sent)).orders[0]["sender"] == stored


@pytest.mark.parametrize("raw, canonical", [
    ("Created", "Created"), ("created ", "Created"), (" Picking", "Picking"), (" shipped", "Shipped"),
    ("DELIVERED ", "Delivered"), ("CANCELLED", "Cancelled"), ("Unsupplied", "UnSupplied"), ("UnPacked", "Unpacked"),
])
def test_statuses_are_compared_trimmed_and_case_insensitively_and_stored_in_the_canonical_spelling(raw, canonical):
    assert normalise_status(raw) == canonical
    result = rows(wire_package(status=raw, lines=[wire_line(orderItemLineItemStatusName=raw)]))
    if canonical != "Unpacked":
        assert result.orders[0]["status"] == result.lines[0]["status"] == canonical


def test_an_unknown_status_is_kept_trimmed_as_sent_with_a_warning_naming_the_order(caplog):
    with caplog.at_level(logging.WARNING):
        result = rows(wire_package(status=" Returned ", lines=[wire_line(orderItemLineItemStatusName=None)]))
    assert result.orders[0]["status"] == result.lines[0]["status"] == "Returned"
    assert "store 'shop1': order 1000000000123 has the unknown status Returned" in caplog.text


def test_an_unpacked_split_parent_is_skipped_and_its_lines_come_from_the_children():
    parent = wire_package(package_id=1, status="Unpacked", lines=[wire_line(1), wire_line(2)])
    children = [wire_package(package_id=2, modified_ms=MODIFIED_MS, lines=[wire_line(1)]),
                wire_package(package_id=3, modified_ms=MODIFIED_MS, lines=[wire_line(2)])]
    result = rows(parent, *children)
    assert result.unpacked == 1
    assert {r["order_line_id"]: r["package_id"] for r in result.lines} == {"1": "2", "2": "3"}
    assert len(result.orders) == 1


def test_an_order_shows_its_most_recently_modified_package_and_a_line_seen_twice_counts_once_in_its_newest_form():
    older = wire_package(package_id=1, modified_ms=MODIFIED_MS, status="Created", lines=[wire_line(1)])
    newer = wire_package(package_id=1, modified_ms=MODIFIED_MS + 5, status="Shipped",
                         cargoTrackingNumber="999", lines=[wire_line(1, orderItemLineItemStatusName="Shipped")])
    for packages in ([older, newer], [newer, older]):  # whichever status series N11 answered first
        result = rows(*packages)
        assert [(o["status"], o["cargo_tracking_number"]) for o in result.orders] == [("Shipped", "999")]
        assert [(r["status"], r["last_modified"].microsecond) for r in result.lines] == [("Shipped", 5000)]


def test_a_pick_up_point_order_takes_the_buyer_from_the_billing_address_not_the_pick_up_point():
    pickup = wire_package(customerfullName=None,
                     billingAddress={"fullName": "Mehmet Kaya", "city": "Ankara"},
                     shippingAddress={"fullName": "Kızılay Kırtasiye Teslim Noktası", "city": "Ankara"})
    assert rows(pickup).orders[0]["customer_name"] == "Mehmet Kaya"


def test_a_company_invoice_keeps_the_person_as_the_buyer():
    assert rows(wire_package()).orders[0]["customer_name"] == "Ayşe Yılmaz"


@pytest.mark.parametrize("bad, message", [
    (wire_package(order_number=None), "package 300000011 has no orderNumber"),
    (wire_package(order_number="  "), "package 300000011 has no orderNumber"),
    (wire_package(lines=[wire_line(), wire_line(None, stockCode="SKU-00042")]),
     "order 1000000000123 (package 300000011): line 2 (stockCode SKU-00042) has no orderLineId"),
    (wire_package(lastModifiedDate=None), "order 1000000000123 (package 300000011) has no lastModifiedDate"),
    (wire_package(status=""), "order 1000000000123 (package 300000011) has no shipmentPackageStatus"),
    (wire_package(lines=[wire_line(price="12,50")]),
     "order 1000000000123, line 880000001: price is not a number"),
    (wire_package(lines=[wire_line(quantity=1.5)]),
     "order 1000000000123, line 880000001: quantity is not a whole number"),
])
def test_an_unusable_package_fails_the_whole_window_naming_the_package_or_line(bad, message):
    with pytest.raises(BadPackage, match=message.replace("(", r"\(").replace(")", r"\)")):
        rows(wire_package(package_id=1, order_number="1000000000001"), bad)


def test_an_unpacked_parent_is_not_checked_since_it_is_never_imported():
    assert rows(wire_package(status="Unpacked", order_number=None)).orders == []
