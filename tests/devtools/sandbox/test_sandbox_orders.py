"""GET /rest/delivery/v1/shipmentPackages: clamps, one-status filter, senders, splits, date shift."""

import math
from datetime import UTC, datetime

from devtools.sandbox import generate_account, wire
from devtools.sandbox.rules import FIRST_SERVED_MS, canonical_status
from tests.helpers.sandbox import check_split, split_children

SHIPMENTS = "/rest/delivery/v1/shipmentPackages"
HOUR_MS = 3600 * 1000
DAY_MS = 24 * HOUR_MS


def fetch_all(api, **params) -> list[dict]:
    """Page as a client should: until content is empty or page + 1 reaches totalPages."""
    rows, page = [], 0
    while True:
        answer = wire.loads(api.get(SHIPMENTS, page=page, size=100, **params).content)
        rows += answer["content"]
        page += 1
        if not answer["content"] or page >= answer["totalPages"]:
            return rows


def end_ms(demo_end: datetime) -> int:
    return int(demo_end.timestamp() * 1000)


def test_size_is_clamped_to_100_and_page_count_is_rows_on_the_page(api, account):
    total = len(account.packages)
    first = api.get(SHIPMENTS, size=500, sender="ALL").json()
    assert first["size"] == 100 and first["pageCount"] == 100 and first["page"] == 0
    assert first["totalPages"] == math.ceil(total / 100)
    last = api.get(SHIPMENTS, size=500, sender="ALL", page=first["totalPages"] - 1).json()
    assert last["pageCount"] == total - 100 * (first["totalPages"] - 1)
    beyond = api.get(SHIPMENTS, size=100, sender="ALL", page=first["totalPages"]).json()
    assert beyond["content"] == [] and beyond["pageCount"] == 0
    assert api.get(SHIPMENTS).json()["size"] == 20


def test_window_longer_than_15_days_is_clamped_silently(api, account, demo_end):
    start = end_ms(demo_end) - 30 * DAY_MS
    rows = fetch_all(api, startDate=start, endDate=end_ms(demo_end), orderByField="true", sender="ALL")
    expected = [p for p in account.packages if start <= p["lastModifiedDate"] < start + 15 * DAY_MS]
    assert len(rows) == len(expected) > 100
    assert max(row["lastModifiedDate"] for row in rows) < start + 15 * DAY_MS


def test_without_order_by_field_the_window_is_on_creation(api, account, demo_end):
    start, end = end_ms(demo_end) - 10 * DAY_MS, end_ms(demo_end) - 5 * DAY_MS
    rows = fetch_all(api, startDate=start, endDate=end, sender="ALL")
    expected = {p["id"] for p in account.packages if start <= p["_created"] < end}
    assert {row["id"] for row in rows} == expected
    assert any(not start <= row["lastModifiedDate"] < end for row in rows)


def test_under_the_creation_reading_order_by_field_only_sorts_and_the_window_is_on_creation(
        start_sandbox, connect, demo_end):
    sandbox = start_sandbox(order_date_filter="created")
    account = sandbox.state.account("demo-appkey")
    start, end = end_ms(demo_end) - 10 * DAY_MS, end_ms(demo_end) - 5 * DAY_MS
    rows = fetch_all(connect(sandbox), startDate=start, endDate=end, orderByField="true", sender="ALL")
    assert {row["id"] for row in rows} == {p["id"] for p in account.packages if start <= p["_created"] < end}
    assert any(not start <= row["lastModifiedDate"] < end for row in rows)


def test_order_is_desc_by_last_update_unless_asc(api):
    descending = [row["lastModifiedDate"] for row in fetch_all(api, sender="ALL")]
    ascending = [row["lastModifiedDate"] for row in fetch_all(api, sender="ALL", orderByDirection="ASC")]
    assert descending == sorted(descending, reverse=True) and ascending == sorted(ascending)


def test_one_status_matches_trimmed_and_case_insensitively(api, account):
    package = next(p for p in account.packages if canonical_status(p["shipmentPackageStatus"]) == "Delivered")
    package["shipmentPackageStatus"] = " shipped"
    expected = {
        p["id"] for p in account.packages if canonical_status(p["shipmentPackageStatus"]) == "Shipped"
    }
    for spelling in ("Shipped", "SHIPPED", " shipped "):
        assert {row["id"] for row in fetch_all(api, status=spelling, sender="ALL")} == expected
    assert package["id"] in expected


def test_unknown_or_several_statuses_give_an_empty_page(api):
    for status in ("Sent", "Created,Picking"):
        answer = api.get(SHIPMENTS, status=status, sender="ALL").json()
        assert answer["content"] == [] and answer["totalPages"] == 0


def test_sender_defaults_to_seller_and_all_covers_the_warehouse(api, account):
    by_sender = {
        sender: {row["id"] for row in fetch_all(api, sender=sender)} for sender in ("SELLER", "N11", "ALL")
    }
    assert {row["id"] for row in fetch_all(api)} == by_sender["SELLER"]
    assert by_sender["N11"] == {p["id"] for p in account.packages if p["_sender"] == "N11"} != set()
    assert by_sender["ALL"] == by_sender["SELLER"] | by_sender["N11"]
    assert not by_sender["SELLER"] & by_sender["N11"]


def test_split_parents_and_their_children_over_http(api, account):
    unpacked = fetch_all(api, status="Unpacked", sender="ALL")
    assert unpacked and fetch_all(api, status="UnPacked", sender="ALL") == unpacked
    parents = [p for p in account.packages if p.get("_parent")]
    for parent in parents:
        served = fetch_all(api, orderNumber=parent["orderNumber"], sender="ALL")
        assert {p["id"] for p in served} >= {parent["id"]} | {c["id"] for c in split_children(account, parent)}
        check_split(account, parent)


def test_split_under_the_older_reading_cancels_the_parent_and_makes_unpacked_and_picking_children(api, account):
    package = next(
        p for p in account.packages if len(p["lines"]) > 2 and p["shipmentPackageStatus"] == "Delivered"
    )
    children = account.split_package(str(package["id"]), package["lastModifiedDate"] + HOUR_MS, "cancelled")
    served = {p["id"]: p["shipmentPackageStatus"] for p in fetch_all(api, orderNumber=package["orderNumber"],
                                                                      sender="ALL")}
    assert served == {package["id"]: "Cancelled", children[0]["id"]: "UnPacked", children[1]["id"]: "Picking"}


def test_split_by_quantity_gives_new_line_ids_and_an_unsupplied_sibling(api, account):
    package = next(p for p in account.packages if p["lines"][0]["quantity"] > 1 and not p.get("_parent"))
    line = package["lines"][0]
    kept, gone = account.split_by_quantity(str(package["id"]), line["orderLineId"], 1,
                                           package["lastModifiedDate"] + HOUR_MS)
    served = {p["id"]: p for p in fetch_all(api, orderNumber=package["orderNumber"], sender="ALL")}
    assert served[package["id"]]["shipmentPackageStatus"] == "Unpacked"
    assert served[gone["id"]]["shipmentPackageStatus"] == "UnSupplied"
    assert [(x["stockCode"], x["quantity"]) for x in served[gone["id"]]["lines"]] == [(line["stockCode"], 1)]
    assert served[kept["id"]]["lines"][0]["quantity"] == line["quantity"] - 1
    assert line["orderLineId"] not in {x["orderLineId"] for p in (kept, gone) for x in p["lines"]}


def test_split_package_helper_gives_new_ids_over_http(api, account):
    package = next(
        p for p in account.packages if len(p["lines"]) > 2 and p["shipmentPackageStatus"] == "Delivered"
    )
    known_ids = {p["id"] for p in account.packages}
    children = account.split_package(str(package["id"]), package["lastModifiedDate"] + HOUR_MS)
    served = fetch_all(api, orderNumber=package["orderNumber"], sender="ALL")
    assert {row["id"] for row in served} == {package["id"]} | {child["id"] for child in children}
    assert not known_ids & {child["id"] for child in children}
    assert {row["id"]: row["shipmentPackageStatus"] for row in served}[package["id"]] == "Unpacked"


def test_lookups_by_order_number_and_package_ids(api, account):
    first, second = account.packages[3], account.packages[8]
    [found] = api.get(SHIPMENTS, orderNumber=first["orderNumber"], sender="ALL").json()["content"]
    assert found["orderNumber"] == first["orderNumber"] and isinstance(found["orderNumber"], str)
    both = api.get(SHIPMENTS, packageIds=f"{first['id']}, {second['id']}", sender="ALL").json()["content"]
    assert {row["id"] for row in both} == {first["id"], second["id"]}
    assert all(not key.startswith("_") for key in found)


def test_date_shift_moves_the_window(start_sandbox, connect):
    sandbox = start_sandbox(date_shift_hours=3)
    package = next(p for p in sandbox.state.account("demo-appkey").packages if p["_sender"] == "SELLER")
    moment = package["lastModifiedDate"]

    def ids(start: int, end: int) -> set:
        api = connect(sandbox)
        return {row["id"] for row in fetch_all(api, startDate=start, endDate=end, orderByField="true")}

    assert package["id"] not in ids(moment - HOUR_MS, moment + HOUR_MS)
    assert package["id"] in ids(moment - 4 * HOUR_MS, moment - 2 * HOUR_MS)


def test_set_package_status_bumps_last_modified(api, account, demo_end):
    package = next(
        p for p in account.packages if p["shipmentPackageStatus"] == "Shipped" and p["_sender"] == "SELLER"
    )
    later = end_ms(demo_end) + HOUR_MS
    account.set_package_status(package["orderNumber"], "Delivered", later)
    [row] = fetch_all(api, startDate=later, endDate=later + 1, orderByField="true")
    assert row["shipmentPackageStatus"] == "Delivered" and row["lastModifiedDate"] == later
    assert {line["orderItemLineItemStatusName"] for line in row["lines"]} == {"Delivered"}
    assert row["packageHistories"][-1] == {"createdDate": later, "status": "Delivered"}


def test_orders_before_november_2024_are_never_served(start_sandbox, connect):
    account = generate_account(
        seed=3, products=30, days=20, packages_per_day=5, end=datetime(2024, 11, 10, tzinfo=UTC)
    )
    assert any(p["lastModifiedDate"] < FIRST_SERVED_MS for p in account.packages)
    rows = fetch_all(connect(start_sandbox(account)), sender="ALL")
    assert rows and min(row["lastModifiedDate"] for row in rows) >= FIRST_SERVED_MS
    everything = account.expected_orders(0, 2**62)
    assert {p["id"] for p in everything} <= {row["id"] for row in rows}


def test_expected_orders_is_what_a_correct_client_collects(api, account, demo_end):
    start, end = end_ms(demo_end) - 28 * DAY_MS, end_ms(demo_end)
    collected = []
    for window_start in range(start, end, 14 * DAY_MS):
        collected += fetch_all(
            api, startDate=window_start, endDate=window_start + 14 * DAY_MS, orderByField="true", sender="ALL"
        )
    imported = [row for row in collected if canonical_status(row["shipmentPackageStatus"]) != "Unpacked"]
    expected = account.expected_orders(start, end)
    assert sorted(imported, key=lambda p: (p["orderNumber"], p["id"])) == expected
    assert len(expected) > 200 and all("_sender" not in p for p in expected)
