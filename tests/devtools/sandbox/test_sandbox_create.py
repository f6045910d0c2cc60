"""N11's catalogue in the sandbox: category attributes, and product-create with its refusals and results."""

from decimal import Decimal

import pytest

from devtools.sandbox import new_shop_products, wire
from devtools.sandbox.catalog import CATEGORIES, LEAF_ATTRIBUTES
from tests.helpers.sandbox import finished, submit

CREATE = "/ms/product/tasks/product-create"


def new_sku(code: str = "NEW-1", **fields) -> dict:
    """A product-create SKU the sandbox accepts and creates in "Kulaklık" (1301)."""
    sku = {"stockCode": code, "title": "Anadolu Kablosuz Bluetooth Kulaklık", "description": "<p>Kulaklık</p>",
           "categoryId": 1301, "currencyType": "TL", "productMainId": "PM-1", "preparingDay": 2,
           "shipmentTemplate": "Standart Kargo", "quantity": 10,
           "images": [{"url": "https://img.example.com/1.jpg", "order": 1}],
           "attributes": [{"id": 1, "customValue": "Yeni Marka"}, {"id": 8, "valueId": 8002},
                          {"id": 6, "valueId": 6004}],
           "salePrice": Decimal("799.90"), "listPrice": Decimal("899.90"), "vatRate": 20}
    return {**sku, **fields}


def test_a_leafs_attributes_carry_n11s_flags_and_value_ids(api):
    answer = api.get("/cdn/category/1301/attribute").json()

    by_name = {a["attributeName"]: a for a in answer["categoryAttributes"]}
    assert answer["id"] == 1301 and answer["name"] == "Kulaklık"
    assert set(by_name) == {"Marka", "Renk", "Bağlantı Türü", "Garanti Süresi"}
    assert (by_name["Marka"]["isMandatory"], by_name["Marka"]["isCustomValue"]) == (True, True)
    assert (by_name["Renk"]["isVariant"], by_name["Renk"]["isMandatory"], by_name["Renk"]["isCustomValue"]) == (
        True, False, False)
    assert {"id": 8002, "value": "Bluetooth"} in by_name["Bağlantı Türü"]["attributeValues"]


def test_every_leaf_has_attributes_and_the_brand_is_mandatory_everywhere():
    leaves = {category_id for category_id, (_, leaf) in CATEGORIES.items() if leaf}
    assert leaves == set(LEAF_ATTRIBUTES)
    assert all(pairs[0][0].name == "Marka" and pairs[0][1] for pairs in LEAF_ATTRIBUTES.values())


@pytest.mark.parametrize("category", [1300, 424242])
def test_a_category_with_subcategories_or_unknown_is_refused_as_invalid_input(api, category):
    answer = api.get(f"/cdn/category/{category}/attribute")

    assert answer.status_code == 400 and answer.json()["errorCode"] == "invalidInput"


def test_category_attributes_refuse_a_wrong_key(api_for):
    refused = api_for(appkey="nobody", appsecret="x").get("/cdn/category/1301/attribute")
    assert refused.status_code == 403 and refused.text == "Authentication failed"


def test_a_created_product_waits_for_approval_in_product_query_then_goes_on_sale(api, account):
    receipt = submit(api, CREATE, new_sku())
    details = finished(api, receipt["id"])

    assert receipt["type"] == "PRODUCT_CREATE" and receipt["status"] == "IN_QUEUE"
    assert [(i["itemCode"], i["status"]) for i in details["skus"]["content"]] == [("NEW-1", "SUCCESS")]
    [row] = wire.loads(api.get("/ms/product-query", stockCode="NEW-1").content)["content"]
    assert (row["status"], row["saleStatus"], row["categoryId"]) == ("InApproval", "Before_Sale", 1301)
    assert {a["attributeName"]: a["customValue"] for a in row["attributes"]} == {
        "Marka": "Yeni Marka", "Bağlantı Türü": "Bluetooth", "Garanti Süresi": "2 Yıl"}
    account.approve("NEW-1")
    assert account.products["NEW-1"]["saleStatus"] == "On_Sale"


REJECTED = [
    ({"title": "Kısa başlık"}, "Ürün başlığı en az 15 karakter olmalıdır."),
    ({"vatRate": 18}, "Geçersiz KDV oranı: 18."),
    ({"images": [{"url": "http://img.example.com/1.jpg", "order": 1}]}, "https ile başlamalıdır"),
    ({"images": []}, "En az bir görsel gönderilmeli"),
    ({"listPrice": Decimal("10.00")}, "listPrice, salePrice değerinden küçük olamaz."),
]


@pytest.mark.parametrize(("fields", "reason"), REJECTED)
def test_a_malformed_body_is_rejected_whole(api, account, fields, reason):
    receipt = submit(api, CREATE, new_sku(**fields), new_sku("NEW-2"))

    assert receipt["status"] == "REJECT" and any(reason in text for text in receipt["reasons"])
    assert "NEW-2" not in account.products


def test_a_body_without_a_required_field_is_rejected(api):
    sku = new_sku()
    del sku["categoryId"]
    receipt = submit(api, CREATE, sku)
    assert receipt["status"] == "REJECT" and "NEW-1: categoryId alanı zorunludur." in receipt["reasons"]


FAILED = [
    ({"stockCode": "SKU-00001"}, "Bu stok kodu ile kayıtlı bir ürün zaten var"),
    ({"categoryId": 1300}, "Kategori bulunamadı veya son seviye bir kategori değil: 1300."),
    ({"attributes": [{"id": 1, "customValue": "Marka"}, {"id": 6, "valueId": 6004}]},
     "Zorunlu özellik eksik: Bağlantı Türü."),
    ({"attributes": [{"id": 1, "customValue": "M"}, {"id": 8, "valueId": 9999}, {"id": 6, "valueId": 6004}]},
     "Geçersiz özellik değeri: Bağlantı Türü = 9999."),
    ({"attributes": [{"id": 1, "customValue": "M"}, {"id": 8, "customValue": "Kızılötesi"},
                     {"id": 6, "valueId": 6004}]},
     "Bağlantı Türü özelliği için serbest değer girilemez."),
    ({"attributes": [{"id": 1, "customValue": "M"}, {"id": 8, "valueId": 8002}, {"id": 6, "valueId": 6004},
                     {"id": 3, "valueId": 3001}]}, "Kulaklık kategorisinde 3 numaralı bir özellik yok."),
]


@pytest.mark.parametrize(("fields", "reason"), FAILED)
def test_an_sku_n11_cannot_create_fails_alone_with_its_reason(api, account, fields, reason):
    receipt = submit(api, CREATE, new_sku(**fields), new_sku("NEW-2"))
    items = {i["itemCode"]: i for i in finished(api, receipt["id"])["skus"]["content"]}

    failed = items[fields.get("stockCode", "NEW-1")]
    assert failed["status"] == "FAIL" and reason in failed["reasons"][0]
    assert items["NEW-2"]["status"] == "SUCCESS" and "NEW-2" in account.products


def test_a_barcode_already_on_n11_fails(api, account):
    taken = account.products["SKU-00001"]["barcode"]
    receipt = submit(api, CREATE, new_sku(barcode=taken))

    [item] = finished(api, receipt["id"])["skus"]["content"]
    assert item["status"] == "FAIL" and item["reasons"] == [f"Bu barkod başka bir ürüne ait: {taken}."]


def test_the_demo_shops_new_products_sit_in_real_looking_turkish_categories():
    rows = new_shop_products(taken_barcode="8690000000017")

    assert all(row["stock_code"].startswith("NEW-") and row["n11_category_id"] for row in rows)
    leaves = [int(row["n11_category_id"]) for row in rows if CATEGORIES[int(row["n11_category_id"])][1]]
    assert len(leaves) == len(rows) - 1  # one row sits in a category with subcategories, as a shop may get wrong
    assert CATEGORIES[1301] == ("Kulaklık", True)
