"""PUT /rest/order/v1/update: order lines approved (Created to Picking) with one result per line."""

from devtools.sandbox import wire
from devtools.sandbox.rules import UNPACKED, canonical_status

UPDATE = "/rest/order/v1/update"


def put(api, body) -> tuple[int, dict]:
    answer = api.session.put(api.sandbox.url + UPDATE, data=wire.dumps(body),
                             headers={"Content-Type": "application/json"}, timeout=10)
    return answer.status_code, wire.loads(answer.content)


def approve(api, *line_ids) -> dict:
    status, body = put(api, {"lines": [{"lineId": line_id} for line_id in line_ids], "status": "Picking"})
    assert status == 200
    return {item["lineId"]: item for item in body["content"]}


def live(account, sender="SELLER", status="Created") -> list[dict]:
    return [p for p in account.packages if p["_sender"] == sender
            and canonical_status(p["shipmentPackageStatus"]) == status and p["shipmentPackageStatus"] == status]


def test_approving_a_line_moves_its_whole_package_to_picking_with_a_new_last_modified(api, account):
    package = live(account)[0]
    package["lines"].append(dict(package["lines"][0], orderLineId=package["lines"][0]["orderLineId"] + 10**6))
    before = package["lastModifiedDate"]
    results = approve(api, package["lines"][0]["orderLineId"])

    assert {item["status"] for item in results.values()} == {"SUCCESS"}
    assert package["shipmentPackageStatus"] == "Picking" and package["lastModifiedDate"] > before
    assert package["packageHistories"][-1] == {"createdDate": package["lastModifiedDate"], "status": "Picking"}
    assert {line["orderItemLineItemStatusName"] for line in package["lines"]} == {"Picking"}


def test_the_second_line_of_a_package_in_the_same_call_fails_as_picking(api, account):
    """N11 approves packages: the first line moves the package, the second finds it Picking."""
    package = live(account)[0]
    first = package["lines"][0]["orderLineId"]
    package["lines"].append(dict(package["lines"][0], orderLineId=first + 10**6))

    results = approve(api, first, first + 10**6)

    assert results[first]["status"] == "SUCCESS"
    assert results[first + 10**6] == {"lineId": first + 10**6, "status": "FAIL",
                                      "reasons": ["Kalem Picking durumunda, onaylanamaz"]}
    assert {line["orderItemLineItemStatusName"] for line in package["lines"]} == {"Picking"}


def test_one_call_can_partly_succeed_each_failure_with_its_reason(api, account):
    created, warehouse = live(account)[:2]
    picking = live(account, status="Picking")[0]
    warehouse["_sender"] = "N11"
    ok, not_created = created["lines"][0]["orderLineId"], picking["lines"][0]["orderLineId"]
    n11_line = warehouse["lines"][0]["orderLineId"]

    results = approve(api, ok, not_created, 999, n11_line)

    assert results[ok]["status"] == "SUCCESS"
    assert results[not_created]["status"] == "FAIL" and "Picking" in results[not_created]["reasons"][0]
    assert results[999]["status"] == "FAIL" and results[999]["reasons"] == ["Sipariş kalemi bulunamadı: 999"]
    assert results[n11_line]["status"] == "FAIL" and "N11 deposundan" in results[n11_line]["reasons"][0]
    assert warehouse["lines"][0]["orderItemLineItemStatusName"] == "Created"


def test_a_line_approved_twice_fails_the_second_time(api, account):
    line_id = live(account)[0]["lines"][0]["orderLineId"]
    assert approve(api, line_id)[line_id]["status"] == "SUCCESS"
    assert approve(api, line_id)[line_id]["status"] == "FAIL"


def test_the_lines_of_a_split_parent_are_approved_in_the_child_that_holds_them(api, account):
    parent, line_id, child = next(  # a split by product: the child holds the parent's line under its id
        (parent, line["orderLineId"], child) for parent in account.packages
        if canonical_status(parent["shipmentPackageStatus"]) == UNPACKED for line in parent["lines"]
        for child in account.packages
        if child is not parent and line["orderLineId"] in [held["orderLineId"] for held in child["lines"]])
    expected = "SUCCESS" if canonical_status(child["shipmentPackageStatus"]) == "Created" \
        and child["_sender"] == "SELLER" else "FAIL"
    assert approve(api, line_id)[line_id]["status"] == expected


def test_only_picking_is_accepted_and_lines_must_be_a_non_empty_list(api):
    for body in ({"lines": [{"lineId": 1}], "status": "Shipped"}, {"lines": [], "status": "Picking"},
                 {"status": "Picking"}):
        status, answer = put(api, body)
        assert status == 400 and answer["errorCode"] == "SELLER_API.invalidParameter"


def test_wrong_credentials_are_refused_as_on_every_rest_path(sandbox, api_for):
    answer = api_for(appkey="nobody", appsecret="wrong").session.put(
        sandbox.url + UPDATE, data=b'{"lines":[{"lineId":1}],"status":"Picking"}', timeout=10)
    assert answer.status_code == 403 and answer.text == "Authentication failed"
