"""POST /rest/delivery/v1/splitPackageByQuantity: a Picking package split by quantity, items cancelled as N11 does."""

import copy

import pytest

from devtools.sandbox import FaultConfig, wire
from devtools.sandbox.rules import canonical_status, line_amount

SPLIT = "/rest/delivery/v1/splitPackageByQuantity"
SHIPMENTS = "/rest/delivery/v1/shipmentPackages"


def picking(account, *quantities: int, besides: dict | None = None) -> dict:
    """A live seller package in Picking (of another order than ``besides``) whose lines hold these quantities (its
    first lines, the rest dropped)."""
    package = next(p for p in account.packages if p["shipmentPackageStatus"] == "Picking"
                   and p["_sender"] == "SELLER" and len(p["lines"]) >= len(quantities)
                   and p["orderNumber"] != (besides or {}).get("orderNumber"))
    package["lines"] = package["lines"][:len(quantities)]
    for line, quantity in zip(package["lines"], quantities, strict=True):
        line["quantity"] = quantity
        line["sellerInvoiceAmount"] = line_amount(line)
    return package


def ids(package: dict) -> list[int]:
    return [line["orderLineId"] for line in package["lines"]]


def body(split: list[list[tuple[int, int]]], cancelled: list[tuple[int, int]] = (), reason: int = 61) -> dict:
    return {"splitPackages": [{"packageDetails": [{"orderLineId": line, "quantities": items} for line, items in group]}
                              for group in split],
            "cancelledItems": [{"orderLineId": line, "quantity": items, "cancelReasonId": reason}
                               for line, items in cancelled]}


def served(api, order_number: str) -> dict[int, dict]:
    answer = api.get(SHIPMENTS, orderNumber=order_number, sender="ALL", size=100)
    return {package["id"]: package for package in wire.loads(answer.content)["content"]}


def test_a_partial_cancel_unpacks_the_parent_into_a_picking_child_and_an_unsupplied_part_under_new_ids(api, account):
    package = picking(account, 3, 1)
    first, second = ids(package)
    before_ms, before_tracking = package["lastModifiedDate"], package["cargoTrackingNumber"]

    answer = api.post(SPLIT, body([[(first, 2), (second, 1)]], [(first, 1)]))

    assert answer.status_code == 200
    found = served(api, package["orderNumber"])
    parent = found.pop(package["id"])
    assert parent["shipmentPackageStatus"] == "Unpacked" and parent["lastModifiedDate"] > before_ms
    by_status = {canonical_status(p["shipmentPackageStatus"]): p for p in found.values()}
    assert set(by_status) == {"Picking", "UnSupplied"} and len(found) == 2
    kept, gone = by_status["Picking"], by_status["UnSupplied"]
    assert [(line["stockCode"], line["quantity"]) for line in kept["lines"]] == [
        (package["lines"][0]["stockCode"], 2), (package["lines"][1]["stockCode"], 1)]
    assert [(line["stockCode"], line["quantity"]) for line in gone["lines"]] == [(package["lines"][0]["stockCode"], 1)]
    new_lines = {line["orderLineId"] for child in (kept, gone) for line in child["lines"]}
    assert len(new_lines) == 3 and not new_lines & {first, second}
    assert len({before_tracking, kept["cargoTrackingNumber"], gone["cargoTrackingNumber"]}) == 3
    assert kept["lastModifiedDate"] == gone["lastModifiedDate"] == parent["lastModifiedDate"]
    assert {line["orderItemLineItemStatusName"] for line in gone["lines"]} == {"UnSupplied"}
    assert wire.loads(answer.content) == {"code": 200, "message": "success", "splitPackageOrderItems": [
        {"orderNumber": package["orderNumber"], "packageId": kept["id"], "orderLineId": line["orderLineId"],
         "stockCode": line["stockCode"], "quantity": line["quantity"]} for line in kept["lines"]]}


def test_each_split_entry_is_a_new_package_and_the_items_named_nowhere_go_into_one_more(api, account):
    package = picking(account, 3, 2)
    first, second = ids(package)

    assert api.post(SPLIT, body([[(first, 1)], [(second, 1)]])).status_code == 200

    children = [p for number, p in served(api, package["orderNumber"]).items() if number != package["id"]]
    assert sorted(sorted((line["stockCode"], line["quantity"]) for line in child["lines"]) for child in children) == \
        sorted([[(package["lines"][0]["stockCode"], 1)], [(package["lines"][1]["stockCode"], 1)],
                sorted([(package["lines"][0]["stockCode"], 2), (package["lines"][1]["stockCode"], 1)])])
    assert {child["shipmentPackageStatus"] for child in children} == {"Picking"}


def test_without_the_opt_in_the_answer_lists_no_split_items(api, account):
    account.split_items_listed = False
    package = picking(account, 2)
    answer = api.post(SPLIT, body([[(ids(package)[0], 1)]], [(ids(package)[0], 1)]))
    assert answer.status_code == 200 and wire.loads(answer.content) == {"code": 200, "message": "success"}


@pytest.mark.parametrize(("make", "words"), [
    (lambda p, a: body([[(ids(p)[0], 1)]], [(ids(p)[0], 1)]), "Created statülü siparişler bölünemez"),
    (lambda p, a: body([], [(ids(p)[0], 1)]), "yalnızca iptal yapılamaz"),
    (lambda p, a: body([[(ids(p)[0], 2)]], [(ids(p)[0], 2)]), "sipariş edilen miktarı (3) aşamaz"),
    (lambda p, a: body([[(ids(p)[0], 1)]], [(ids(p)[0], 1)], reason=60), "Geçersiz iptal nedeni: 60"),
    (lambda p, a: body([[(ids(p)[0], 1)]], [(999, 1)]), "Sipariş kalemi bulunamadı: 999"),
    (lambda p, a: body([[(ids(p)[0], 1)], [(ids(picking(a, 1, besides=p))[0], 1)]]), "yalnızca bir siparişin paketi"),
    (lambda p, a: body([[(ids(p)[0], 0)]]), "1 veya daha büyük"),
], ids=["created", "cancel without a split", "more than ordered", "unknown reason", "unknown line",
        "two orders", "no items"])
def test_n11s_refusals_are_400_in_the_rest_envelope_and_change_nothing(api, account, make, words):
    package = picking(account, 3)
    if words.startswith("Created"):
        package["shipmentPackageStatus"] = "Created"
    request = make(package, account)
    before = copy.deepcopy(account.packages)

    answer = api.post(SPLIT, request)

    found = wire.loads(answer.content)
    assert answer.status_code == 400 and found["status"] == "failure" and found["code"] == 400
    assert words in found["errorMessage"]
    assert account.packages == before


def test_a_502_comes_after_the_split_is_done_and_a_503_before_anything_changes(api, sandbox, account):
    package = picking(account, 2)
    request = body([[(ids(package)[0], 1)]], [(ids(package)[0], 1)])
    sandbox.faults = FaultConfig(rate=1.0, kinds=("503",), paths=(SPLIT,))
    assert api.post(SPLIT, request).status_code == 503
    assert package["shipmentPackageStatus"] == "Picking"

    sandbox.faults = FaultConfig(rate=1.0, kinds=("502",), paths=(SPLIT,))
    assert api.post(SPLIT, request).status_code == 502
    assert package["shipmentPackageStatus"] == "Unpacked"
    sandbox.faults = FaultConfig()
    assert "Unpacked statülü" in api.post(SPLIT, request).json()["errorMessage"]  # its lines live on under new ids


def test_wrong_credentials_are_refused_as_on_every_rest_path(sandbox, api_for):
    answer = api_for(appkey="nobody", appsecret="wrong").session.post(
        sandbox.url + SPLIT, data=b'{"splitPackages":[]}', timeout=10)
    assert answer.status_code == 403 and answer.text == "Authentication failed"

