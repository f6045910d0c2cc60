"""Product write tasks: whole-body REJECTs, IN_QUEUE then PROCESSED, per-SKU FAILs and applied updates."""

import re
from decimal import Decimal

import pytest

from devtools.sandbox import wire
from tests.helpers.sandbox import DETAILS, finished, poll, submit

PRICE_STOCK = "/ms/product/tasks/price-stock-update"
PRODUCT_UPDATE = "/ms/product/tasks/product-update"


def plain(account, **conditions) -> dict:
    """An Active product that is not catalogue-matched (and meets the given field values)."""
    return next(
        p
        for p in account.products.values()
        if p["status"] == "Active"
        and p["catalogId"] is None
        and all(p[k] == v for k, v in conditions.items())
    )


REJECTED = [
    (PRICE_STOCK, {"listPrice": Decimal("2000.505"), "salePrice": Decimal("1500.00")}),
    (PRICE_STOCK, {"listPrice": 2000, "salePrice": Decimal("1500.00")}),
    (PRICE_STOCK, {"listPrice": Decimal("2000.5"), "salePrice": Decimal("1500.00")}),
    (PRICE_STOCK, {"listPrice": "2000.00", "salePrice": "1500.00"}),
    (PRICE_STOCK, {"listPrice": Decimal("100.00"), "salePrice": Decimal("200.00")}),
    (PRICE_STOCK, {"listPrice": Decimal("200.00")}),
    (PRICE_STOCK, {"quantity": None}),
    (PRICE_STOCK, {"quantity": 1_000_000}),
    (PRICE_STOCK, {"quantity": -1}),
    (PRICE_STOCK, {"currencyType": "GBP"}),
    (PRODUCT_UPDATE, {"title": "Yepyeni Bir Ürün Başlığı", "vatRate": 20}),
    (PRODUCT_UPDATE, {"images": [], "vatRate": 20}),
    (PRODUCT_UPDATE, {"status": "Deleted", "vatRate": 20}),
    (PRODUCT_UPDATE, {"vatRate": 18}),
    (PRODUCT_UPDATE, {"preparingDay": 0, "vatRate": 20}),
    (PRODUCT_UPDATE, {"description": "x" * 30_001, "vatRate": 20}),
]


@pytest.mark.parametrize(("path", "fields"), REJECTED)
def test_invalid_bodies_are_rejected_whole_with_http_200(api, account, path, fields):
    before = dict(account.products["SKU-00001"])
    receipt = submit(api, path, {"stockCode": "SKU-00001"} | fields)
    assert receipt["status"] == "REJECT" and receipt["type"] == "SKU_UPDATE" and receipt["reasons"]
    assert finished(api, receipt["id"])["status"] == "REJECT"
    assert account.products["SKU-00001"] == before


def test_three_decimal_price_text_is_rejected(api):
    sku = '{"stockCode":"SKU-00001","listPrice":10.505,"salePrice":10.00}'
    raw = '{"payload":{"integrator":"t","skus":[' + sku + "]}}"
    assert wire.loads(api.post(PRICE_STOCK, raw).content)["status"] == "REJECT"


def test_more_than_1000_skus_or_none_are_rejected(api):
    skus = [{"stockCode": f"SKU-{n:05d}", "quantity": 1} for n in range(1, 1002)]
    assert "1000" in submit(api, PRICE_STOCK, *skus)["reasons"][0]
    assert submit(api, PRICE_STOCK)["status"] == "REJECT"
    assert submit(api, PRICE_STOCK, {"quantity": 3})["status"] == "REJECT"


def test_task_ids_start_at_1000_and_increase(api):
    ids = [submit(api, PRICE_STOCK, {"stockCode": "SKU-00001", "quantity": 5})["id"] for _ in range(3)]
    assert ids == [1000, 1001, 1002]


@pytest.mark.parametrize("queue_polls", [0, 1, 3])
def test_queued_polls_then_processed_and_applied(start_sandbox, connect, queue_polls):
    sandbox = start_sandbox(queue_polls=queue_polls)
    api, account = connect(sandbox), sandbox.state.account("demo-appkey")
    product = plain(account)
    quantity = product["quantity"]
    sale = (product["salePrice"] * Decimal("0.9")).quantize(Decimal("0.01"))
    sent = {"stockCode": product["stockCode"], "listPrice": product["listPrice"], "salePrice": sale}
    receipt = submit(api, PRICE_STOCK, sent)
    assert receipt["status"] == "IN_QUEUE" and receipt["reasons"] == ["1 sku işlenmeye alındı."]
    for _ in range(queue_polls):
        queued = poll(api, receipt["id"])
        assert queued["status"] == "IN_QUEUE" and queued["skus"]["content"] == []
        assert product["salePrice"] != sale
    details = poll(api, receipt["id"])
    assert details["status"] == "PROCESSED"
    assert re.fullmatch(r"\d\d-\d\d-\d{4} \d\d:\d\d:\d\d", details["createdDate"])
    [item] = details["skus"]["content"]
    assert item == {
        "itemCode": product["stockCode"],
        "status": "SUCCESS",
        "reasons": ["Başarıyla tamamlandı."],
        "sku": sent,
    }
    [row] = wire.loads(api.get("/ms/product-query", stockCode=product["stockCode"]).content)["content"]
    assert row["salePrice"] == sale and row["salePrice"].as_tuple().exponent == -2
    assert row["quantity"] == quantity
    assert poll(api, receipt["id"]) == details


@pytest.mark.parametrize("spelling", ["FAIL", "Fail"])
def test_product_update_fails_per_sku_for_catalogue_and_unknown_products(start_sandbox, connect, spelling):
    sandbox = start_sandbox(item_fail_spelling=spelling)
    api, account = connect(sandbox), sandbox.state.account("demo-appkey")
    catalogue = next(p for p in account.products.values() if p["status"] == "Active" and p["catalogId"])
    editable = plain(account)
    old_description = catalogue["description"]
    receipt = submit(
        api,
        PRODUCT_UPDATE,
        {"stockCode": catalogue["stockCode"], "description": "<p>Yeni</p>", "vatRate": 20},
        {
            "stockCode": editable["stockCode"],
            "description": "<p>Yeni</p>",
            "vatRate": 10,
            "status": "Suspended",
        },
        {"stockCode": "NO-SUCH-SKU", "vatRate": 20},
    )
    items = {item["itemCode"]: item for item in finished(api, receipt["id"])["skus"]["content"]}
    assert items[catalogue["stockCode"]]["status"] == spelling
    assert "Katalog" in items[catalogue["stockCode"]]["reasons"][0]
    assert items["NO-SUCH-SKU"]["status"] == spelling and items["NO-SUCH-SKU"]["reasons"] == [
        "Ürün bulunamadı."
    ]
    assert items[editable["stockCode"]]["status"] == "SUCCESS"
    assert catalogue["description"] == old_description
    assert (editable["description"], editable["vatRate"], editable["status"]) == (
        "<p>Yeni</p>",
        10,
        "Suspended",
    )
    assert editable["saleStatus"] == "Sale_Closed"


def test_price_band_and_status_failures_keep_the_product(api, account):
    product = plain(account)
    blocked = next(p for p in account.products.values() if p["status"] == "InApproval")
    before = (product["salePrice"], product["listPrice"])
    low, high = Decimal("0.01"), (product["listPrice"] * 6).quantize(Decimal("0.01"))
    receipt = submit(
        api,
        PRICE_STOCK,
        {"stockCode": product["stockCode"], "listPrice": product["listPrice"], "salePrice": low},
        {"stockCode": product["stockCode"], "listPrice": high, "salePrice": high},
        {"stockCode": blocked["stockCode"], "quantity": 3},
    )
    low_item, high_item, blocked_item = finished(api, receipt["id"])["skus"]["content"]
    assert "fahiş fiyat düşüklüğü" in low_item["reasons"][0] and "(Minimum" in low_item["reasons"][0]
    assert "fahiş fiyat artışı" in high_item["reasons"][0] and "(Maximum" in high_item["reasons"][0]
    assert blocked_item["status"] == "FAIL"
    assert (product["salePrice"], product["listPrice"]) == before


def test_stock_only_update_keeps_prices_and_sets_sale_status(api, account):
    product = plain(account)
    prices = (product["salePrice"], product["listPrice"])
    finished(api, submit(api, PRICE_STOCK, {"stockCode": product["stockCode"], "quantity": 0})["id"])
    assert product["quantity"] == 0 and product["saleStatus"] == "Out_Of_Stock"
    assert (product["salePrice"], product["listPrice"]) == prices


def test_flagged_fields_need_their_delete_flag(api, account):
    product = plain(account)
    old_main_id = product["productMainId"]
    finished(
        api,
        submit(api, PRODUCT_UPDATE, {"stockCode": product["stockCode"], "productMainId": "X", "vatRate": 20})[
            "id"
        ],
    )
    assert product["productMainId"] == old_main_id
    sku = {
        "stockCode": product["stockCode"],
        "productMainId": "X",
        "deleteProductMainId": True,
        "vatRate": 20,
    }
    finished(api, submit(api, PRODUCT_UPDATE, sku)["id"])
    assert product["productMainId"] == "X"


def test_task_details_page_through_items(api, account):
    codes = [p["stockCode"] for p in list(account.products.values())[:3]]
    task_id = submit(api, PRICE_STOCK, *({"stockCode": code, "quantity": 7} for code in codes))["id"]
    finished(api, task_id)
    first, second = poll(api, task_id, page=0, size=2)["skus"], poll(api, task_id, page=1, size=2)["skus"]
    assert (first["totalElements"], first["totalPages"], first["last"], second["last"]) == (3, 2, False, True)
    assert [item["itemCode"] for item in first["content"] + second["content"]] == codes


def test_unknown_task_and_unreadable_body_are_500_json(api):
    answer = api.post(DETAILS, {"taskId": 999, "pageable": {"page": 0, "size": 10}})
    assert answer.status_code == 500 and answer.json()["@type"]
    unreadable = api.post(PRICE_STOCK, "{not json")
    assert unreadable.status_code == 500 and unreadable.json()["@type"] == "HttpMessageNotReadableException"
