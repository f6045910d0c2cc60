"""N11 packages as the client hands them over (JSON numbers as floats) into order, package and line rows."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest

from include.orders.status import normalise_status
from include.orders.transform import BadPackage, package_rows
from tests.include.orders.conftest import LOADED, MODIFIED_MS, wire_line, wire_package


def rows(*packages):
    return package_rows("shop1", packages, LOADED)


def test_a_package_becomes_an_order_row_with_buyer_both_addresses_and_invoice_data_in_full():
    (order,) = rows(wire_package()).orders
    assert order == {
        "store": "shop1", "order_number": "1000000000123", "status": "Created", "customer_id": "70000123",
        "customer_name": "Ayşe Yılmaz", "customer_email": "ayse.yilmaz7@example.com",
        "shipping_full_name": "Ayşe Yılmaz", "shipping_address": "Moda Mah. Bahariye Cad. No:12 D:5",
        "shipping_neighborhood": "Moda", "shipping_district": "Kadıköy", "shipping_city": "İstanbul",
        "shipping_postal_code": "34710", "shipping_gsm": "05551234567",
        "billing_full_name": "Yılmaz Bilişim Ltd. Şti.", "billing_address": "Alsancak Mah. Kıbrıs Şehitleri Cad. "
        "No:42 D:3", "billing_neighborhood": "Alsancak", "billing_district": "Konak", "billing_city": "İzmir",
        "billing_postal_code": "35220", "billing_gsm": "05321234567", "delivery_address_type": None,
        "invoice_type": "2", "tc_id": None, "tax_id": "9876543210", "tax_office": "Konak Vergi Dairesi",
        "agreed_delivery_date": datetime(2026, 9, 3), "cargo_provider": "Aras Kargo",
        "cargo_tracking_number": "123456789012", "cargo_tracking_link": "https://kargotakip.example.com/123456789012",
        "shipment_method": "1", "sender": "SELLER", "created_at": datetime(2026, 8, 31, 23),
        "last_modified": datetime(2026, 9, 1), "loaded_at": LOADED}


def test_a_package_becomes_a_package_row_listing_its_lines_and_line_rows_with_string_ids_and_exact_amounts():
    result = rows(wire_package(lines=[wire_line(), wire_line(990000001)]))
    assert result.packages == [{
        "store": "shop1", "package_id": "300000011", "order_number": "1000000000123", "status": "Created",
        "revision": MODIFIED_MS * 10 + 1, "cargo_provider": "Aras Kargo", "cargo_tracking_number": "123456789012",
        "cargo_tracking_link": "https://kargotakip.example.com/123456789012", "shipment_method": "1",
        "sender": "SELLER", "line_ids": "880000001,990000001", "created_at": datetime(2026, 8, 31, 23),
        "last_modified": datetime(2026, 9, 1), "loaded_at": LOADED}]
    assert result.lines[0] == {
        "store": "shop1", "order_line_id": "880000001", "order_number": "1000000000123", "package_id": "300000011",
        "status": "Created", "stock_code": "SKU-00007", "product_id": "540001234",
        "product_name": "Lale Şık Porselen Kahve Kupası", "quantity": 2, "price": Decimal("149.90"),
        "seller_discount": Decimal("15.00"), "seller_coupon_discount": Decimal("0.00"),
        "mall_discount": Decimal("0.00"), "total_seller_discount_price": Decimal("15.00"),
        "seller_invoice_amount": Decimal("284.80"), "vat_rate": Decimal("20.00"),
        "commission_rate": Decimal("12.50"), "last_modified": datetime(2026, 9, 1), "loaded_at": LOADED}


def test_a_package_without_an_id_is_keyed_by_its_order_number_and_smallest_line_id_compared_as_numbers():
    result = rows(wire_package(package_id=None, lines=[wire_line(1000), wire_line(999)]))
    assert [p["package_id"] for p in result.packages] == ["1000000000123-999"]
    assert {line["package_id"] for line in result.lines} == {"1000000000123-999"}


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
    assert result.packages[0]["status"] == result.lines[0]["status"] == canonical


def test_a_line_takes_its_packages_status_unless_the_item_itself_is_cancelled():
    result = rows(wire_package(status="Shipped", lines=[wire_line(1, orderItemLineItemStatusName="Created"),
                                                        wire_line(2, orderItemLineItemStatusName="UnSupplied")]))
    assert [line["status"] for line in result.lines] == ["Shipped", "UnSupplied"]


def test_a_split_parent_and_its_children_all_become_package_rows_each_listing_its_lines():
    parent = wire_package(package_id=1, status="Unpacked", lines=[wire_line(1), wire_line(2)])
    children = [wire_package(package_id=2, status="Picking", lines=[wire_line(1)]),
                wire_package(package_id=3, status="Picking", lines=[wire_line(2)])]
    result = rows(parent, *children)
    assert {p["package_id"]: p["line_ids"] for p in result.packages} == {"1": "1,2", "2": "1", "3": "2"}
    assert len(result.orders) == 1
    assert sorted((line["order_line_id"], line["package_id"]) for line in result.lines) == [
        ("1", "1"), ("1", "2"), ("2", "1"), ("2", "3")]  # the load decides who holds each line


def test_a_package_seen_twice_counts_in_its_newest_version_and_on_the_same_millisecond_the_further_status():
    created = wire_package(package_id=1, status="Created")
    shipped = wire_package(package_id=1, status="Shipped", cargoTrackingNumber="999")
    later = wire_package(package_id=1, modified_ms=MODIFIED_MS + 5, status="Picking")
    for packages in ([created, shipped], [shipped, created]):  # whichever status series N11 answered first
        assert [(p["status"], p["cargo_tracking_number"]) for p in rows(*packages).packages] == [("Shipped", "999")]
    assert [p["status"] for p in rows(shipped, later).packages] == ["Picking"]


def test_a_pick_up_point_order_takes_the_buyer_from_the_billing_address_and_ships_to_the_point():
    point = {"fullName": None, "address": "Kızılay Kırtasiye Teslim Noktası, Kızılay Mah. Atatürk Blv. No:5",
             "district": "Çankaya", "city": "Ankara", "gsm": None}
    pickup = wire_package(customerfullName=None, deliveryAddressType="KTN", shippingAddress=point,
                          billingAddress={"fullName": "Mehmet Kaya", "city": "Ankara", "gsm": "05061112233"})
    (order,) = rows(pickup).orders
    assert (order["customer_name"], order["billing_gsm"], order["delivery_address_type"]) == \
        ("Mehmet Kaya", "05061112233", "KTN")
    assert (order["shipping_full_name"], order["shipping_address"]) == (None, point["address"])


def test_a_company_invoice_keeps_the_person_as_the_buyer():
    assert rows(wire_package()).orders[0]["customer_name"] == "Ayşe Yılmaz"


@pytest.mark.parametrize("bad, message", [
    (wire_package(order_number=None), "package 300000011 has no orderNumber"),
    (wire_package(order_number="  "), "package 300000011 has no orderNumber"),
    (wire_package(status=" Returned "),
     "order 1000000000123 (package 300000011): shipmentPackageStatus 'Returned' is not an N11 status"),
    (wire_package(lines=[wire_line(), wire_line(None, stockCode="SKU-00042")]),
     "order 1000000000123 (package 300000011): line 2 (stockCode SKU-00042) has no orderLineId"),
    (wire_package(lastModifiedDate=None), "order 1000000000123 (package 300000011) has no lastModifiedDate"),
    (wire_package(status=""), "order 1000000000123 (package 300000011) has no shipmentPackageStatus"),
    (wire_package(lines=[wire_line(price="12,50")]),
     "order 1000000000123, line 880000001: price is not a number"),
    (wire_package(lines=[wire_line(quantity=1.5)]),
     "order 1000000000123, line 880000001: quantity is not a whole number"),
    (wire_package(lines=[wire_line(1)]),
     "order 1000000000123 (package 300000011), line 1: orderNumber contradicts package 1 (order 1000000000001)"),
    (wire_package(order_number="1000000000001", lines=[wire_line(1, stockCode="SKU-00099")]),
     "order 1000000000001 (package 300000011), line 1: stockCode contradicts package 1"),
    (wire_package(package_id=None, lines=[]), "order 1000000000123 (package None) has no id and no lines"),
    (wire_package(lines=[wire_line(price="NaN")]),
     "order 1000000000123, line 880000001: price = NaN is not an amount the shop table can hold"),
    (wire_package(lines=[wire_line(sellerInvoiceAmount=1e13)]),
     "order 1000000000123, line 880000001: seller_invoice_amount = 10000000000000.00 is not an amount"),
    (wire_package(lines=[wire_line(quantity=10**12)]),
     "order 1000000000123, line 880000001: quantity = 1000000000000 is not a count the shop table can hold"),
    (wire_package(customerfullName="Ayşe Yılmaz " * 25),
     "order 1000000000123: customer_name has 299 characters; the shop table holds 255"),
    (wire_package(lines=[wire_line(stockCode="SKU-" + "9" * 120)]),
     "order 1000000000123, line 880000001: stock_code has 124 characters; the shop table holds 100"),
], ids=["no orderNumber", "blank orderNumber", "unknown status", "no orderLineId", "no lastModifiedDate",
        "no status", "price", "quantity", "line in two orders", "line with two stock codes", "no id, no lines",
        "NaN amount", "amount too large", "quantity too large", "name too long", "stock code too long"])
def test_an_unusable_package_fails_the_whole_window_naming_the_order_and_field_never_the_person(bad, message):
    with pytest.raises(BadPackage) as failure:
        rows(wire_package(package_id=1, order_number="1000000000001", lines=[wire_line(1)]), bad)
    assert message in str(failure.value)
    for personal in ("Ayşe", "Yılmaz", "0555", "0532", "12345678901", "9876543210", "example.com", "Moda"):
        assert personal not in str(failure.value)
