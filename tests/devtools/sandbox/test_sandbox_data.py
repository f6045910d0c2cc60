"""The demo data: reproducible from (seed, end, counts) and as varied as N11's real answers."""

from collections import Counter
from decimal import Decimal

import pytest

from devtools.sandbox import generate_account, shop_products
from devtools.sandbox.rules import PACKAGE_STATUSES, canonical_status, sale_status
from tests.helpers.sandbox import check_split

SHOP_COLUMNS = {
    "stock_code",
    "title",
    "description",
    "list_price",
    "sale_price",
    "currency",
    "quantity",
    "vat_rate",
    "preparing_day",
    "shipment_template",
    "status",
}


@pytest.fixture(scope="module")
def demo(demo_end):
    return generate_account(seed=7, end=demo_end)


def two_decimals(value) -> bool:
    return isinstance(value, Decimal) and value.as_tuple().exponent == -2


def test_same_seed_and_end_give_identical_data(demo_end):
    first, second = generate_account(seed=5, end=demo_end), generate_account(seed=5, end=demo_end)
    assert first.products == second.products and first.packages == second.packages
    assert shop_products(first, seed=1) == shop_products(second, seed=1)
    assert generate_account(seed=6, end=demo_end).products != first.products


def test_products_look_like_a_real_store(demo):
    products = list(demo.products.values())
    assert len(products) == 300 and [p["stockCode"] for p in products][:2] == ["SKU-00001", "SKU-00002"]
    assert 15 <= sum(p["catalogId"] is not None for p in products) <= 45
    statuses = Counter(p["status"] for p in products)
    assert statuses.most_common(1)[0][0] == "Active" and {"Suspended", "InApproval", "Prohibited"} <= set(
        statuses
    )
    assert {p["vatRate"] for p in products} == {0, 1, 10, 20}
    for p in products:
        assert p["saleStatus"] == sale_status(p["status"], p["quantity"])
        assert (
            two_decimals(p["listPrice"]) and two_decimals(p["salePrice"]) and p["listPrice"] >= p["salePrice"]
        )
        assert p["currencyType"] == "TL" and 1 <= p["preparingDay"] <= 5 and len(p["title"]) >= 15
        assert len(p["barcode"]) == 13 and p["shipmentTemplate"]


def test_packages_cover_every_status_sender_and_quirk(demo, demo_end):
    packages = demo.packages
    statuses = Counter(canonical_status(p["shipmentPackageStatus"]) for p in packages)
    assert set(statuses) == set(PACKAGE_STATUSES)
    assert any(p["shipmentPackageStatus"] not in PACKAGE_STATUSES for p in packages)
    assert 0.05 <= sum(p["_sender"] == "N11" for p in packages) / len(packages) <= 0.15
    assert {len(p["orderNumber"]) for p in packages} == {12, 13}
    pickups = [p for p in packages if p["deliveryAddressType"] is not None]
    assert pickups and all(
        p["customerfullName"] is None
        and p["billingAddress"]["fullName"]
        and p["shippingAddress"]["fullName"] is None
        and "Teslim Noktası" in p["shippingAddress"]["address"]
        and p["deliveryAddressType"] in ("KTN", "EASYPOINT", "PUP")
        for p in pickups
    )
    assert any(p["id"] is None for p in packages)
    for p in packages:  # full Turkish addresses
        for address in (p["billingAddress"], p["shippingAddress"]):
            assert address["city"] and address["district"] and address["neighborhood"] and address["postalCode"]
    end_ms = int(demo_end.timestamp() * 1000)
    for p in packages:
        assert p["_created"] <= p["lastModifiedDate"] < end_ms
        assert p["packageHistories"][-1]["createdDate"] == p["lastModifiedDate"]
        assert p["totalAmount"] - p["totalDiscountAmount"] == sum(
            line["sellerInvoiceAmount"] for line in p["lines"]
        )
        for line in p["lines"]:
            discounts = line["sellerDiscount"] + line["sellerCouponDiscount"] + line["mallDiscount"]
            assert line["sellerInvoiceAmount"] == line["price"] * line["quantity"] - discounts
            assert line["stockCode"] in demo.products and 1 <= len(p["lines"]) <= 4


def test_split_orders_share_out_the_parent_items_under_both_readings_by_product_and_by_quantity(demo):
    parents = [p for p in demo.packages if p.get("_parent")]
    assert {canonical_status(p["shipmentPackageStatus"]) for p in parents} == {"Unpacked", "Cancelled"}
    assert {check_split(demo, parent) for parent in parents} == {"by product", "by quantity"}
    live = [p for p in demo.packages if not p.get("_parent")]
    line_ids = [line["orderLineId"] for p in live for line in p["lines"]]
    assert len(line_ids) == len(set(line_ids))


def test_shop_products_mostly_match_n11_with_some_changes(demo):
    rows = shop_products(demo, seed=42)
    assert all(set(row) == SHOP_COLUMNS for row in rows)
    shop_only = [row for row in rows if row["stock_code"] not in demo.products]
    assert len(shop_only) == 20 and len(rows) == 320
    changed = Counter()
    for row in rows:
        assert two_decimals(row["list_price"]) and two_decimals(row["sale_price"])
        assert row["list_price"] >= row["sale_price"] and row["status"] in ("Active", "Suspended")
        product = demo.products.get(row["stock_code"])
        if product:
            changed["stock"] += row["quantity"] != product["quantity"]
            changed["price"] += row["sale_price"] != product["salePrice"]
            changed["description"] += row["description"] != product["description"]
    assert 15 <= changed["stock"] <= 50 and 5 <= changed["price"] <= 30 and 2 <= changed["description"] <= 20
