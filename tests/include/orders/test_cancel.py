"""Cancelling what the shop cannot supply, against the N11 sandbox over real HTTP, with the shop on SQLite,
PostgreSQL and MariaDB.

A cancel is sent exactly once whatever happens (reruns, overlapping runs, lost answers), as a split by quantity of
its Picking package; the order is then read again, so the shop holds what N11 holds. What N11's API cannot take is
refused before sending, with the reason.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Column, Engine, MetaData, String, Table, Text, create_engine, insert, inspect, select, text

from devtools.sandbox import FaultConfig, N11Sandbox
from include.orders import cancel
from include.shop_db import create_tables, url_for
from include.tables import (
    ExactString,
    UtcDateTime,
    n11_order_actions,
    n11_order_lines,
)
from n11.errors import N11AuthError
from tests.helpers.orders import (
    SPLIT,
    UPDATE,
    account_of,
    at_once,
    busy_account,
    cancel_run,
    n11_order,
    new_order,
    request,
    run,
    shop_order,
    split_bodies,
)
from tests.include.orders.conftest import STORE, sync

actions = n11_order_actions


@pytest.fixture
def n11(start_sandbox) -> N11Sandbox:
    return start_sandbox(busy_account())


def load(n11: N11Sandbox, shop: Engine) -> None:
    """The orders run before the cancels: the shop holds N11's orders; the sandbox's log starts after it."""
    now = datetime.now(UTC)
    sync(n11, shop, now - timedelta(days=3), now, now=now + timedelta(hours=1))
    n11.clear_log()


def line_ids(package: dict) -> list[str]:
    return [str(line["orderLineId"]) for line in package["lines"]]


def action_rows(shop: Engine) -> dict[str, dict]:
    with shop.connect() as conn:
        rows = conn.execute(select(actions).where(actions.c.store == STORE.slug, actions.c.action == "cancel"))
        return {row["order_line_id"]: dict(row) for row in rows.mappings()}


def test_a_partial_cancel_is_sent_once_as_a_split_and_the_shop_holds_what_n11_holds(n11, shop):
    package = new_order(n11, "3000000000001", 3)
    [line] = line_ids(package)
    load(n11, shop)
    request(shop, line, action="cancel", quantity=1, cancel_reason=62)

    summary = cancel_run(n11, shop)

    assert split_bodies(n11) == [{
        "splitPackages": [{"packageDetails": [{"orderLineId": int(line), "quantities": 2}]}],
        "cancelledItems": [{"orderLineId": int(line), "quantity": 1, "cancelReasonId": 62}]}]
    assert (summary.sent, summary.accepted, summary.reread, summary.calls) == (1, 1, 1, 1)
    held = shop_order(shop, "3000000000001")
    assert held == n11_order(n11, "3000000000001")
    kept, gone = (next(p for p in account_of(n11).package("3000000000001") if p["shipmentPackageStatus"] == status)
                  for status in ("Picking", "UnSupplied"))
    assert held["packages"][str(package["id"])][0] == "Unpacked"
    assert held["lines"][line] == (str(package["id"]), "Unpacked", 3)
    assert held["lines"][line_ids(kept)[0]] == (str(kept["id"]), "Picking", 2)
    assert held["lines"][line_ids(gone)[0]] == (str(gone["id"]), "UnSupplied", 1)
    assert held["order"] == ("Picking", kept["lines"][0]["price"] * 2, kept["lines"][0]["sellerInvoiceAmount"])
    row = action_rows(shop)[line]
    assert row["result"] == "accepted" and row["requested_at"] <= row["sent_at"] <= row["answered_at"]
    assert row["reason"] == (f"N11 split package {package['id']}: 1 item(s) of this line UnSupplied (reason 62 "
                             f"defective); the items kept go on under new order line ids ({line_ids(kept)[0]})")
    assert cancel_run(n11, shop).sent == 0 and len(split_bodies(n11)) == 1


def test_a_whole_line_is_cancelled_by_default_as_out_of_stock_and_the_other_lines_go_on(n11, shop):
    package = new_order(n11, "3000000000002", 2, 1)
    first, second = line_ids(package)
    load(n11, shop)
    request(shop, first, action="cancel")

    assert cancel_run(n11, shop).accepted == 1

    assert split_bodies(n11) == [{
        "splitPackages": [{"packageDetails": [{"orderLineId": int(second), "quantities": 1}]}],
        "cancelledItems": [{"orderLineId": int(first), "quantity": 2, "cancelReasonId": 61}]}]
    held = shop_order(shop, "3000000000002")
    assert held == n11_order(n11, "3000000000002")
    assert sorted(status for _, status, _ in held["lines"].values()) == ["Picking", "UnSupplied", "Unpacked",
                                                                        "Unpacked"]


def test_the_cancels_of_one_package_go_in_one_call(n11, shop):
    package = new_order(n11, "3000000000003", 2, 3, 1)
    first, second, third = line_ids(package)
    load(n11, shop)
    request(shop, first, action="cancel", quantity=1)
    request(shop, third, action="cancel", cancel_reason=65)

    summary = cancel_run(n11, shop)

    assert (summary.calls, summary.sent, summary.accepted) == (1, 2, 2)
    [body] = split_bodies(n11)
    assert body["splitPackages"] == [{"packageDetails": [{"orderLineId": int(first), "quantities": 1},
                                                         {"orderLineId": int(second), "quantities": 3}]}]
    assert sorted(map(tuple, (item.values() for item in body["cancelledItems"]))) == sorted(
        [(int(first), 1, 61), (int(third), 1, 65)])
    assert shop_order(shop, "3000000000003") == n11_order(n11, "3000000000003")


def test_what_cannot_be_sent_is_refused_with_its_reason_and_never_sent(n11, shop):
    picking = line_ids(new_order(n11, "3000000000010", 2, 1))
    created = line_ids(new_order(n11, "3000000000011", 2, status="Created"))[0]
    shipped = line_ids(new_order(n11, "3000000000012", 2, status="Shipped"))[0]
    warehouse = line_ids(new_order(n11, "3000000000013", 2, sender="N11"))[0]
    single = line_ids(new_order(n11, "3000000000014", 1))[0]
    whole = line_ids(new_order(n11, "3000000000015", 1, 2))
    split = line_ids(new_order(n11, "3000000000016", 2))[0]
    load(n11, shop)
    split_package = next(p for p in account_of(n11).package("3000000000016"))
    account_of(n11).split_by_quantity(str(split_package["id"]), int(split), 1, split_package["lastModifiedDate"] + 1)
    load(n11, shop)
    with shop.begin() as conn:  # a line another store of the same shop holds
        row = conn.execute(select(n11_order_lines).where(n11_order_lines.c.order_line_id == picking[0])).mappings()
        conn.execute(n11_order_lines.insert().values(**{**row.one(), "store": "shop2", "order_line_id": "77"}))
    request(shop, picking[0], action="cancel", quantity=3)
    request(shop, picking[1], action="cancel", cancel_reason=70)
    request(shop, created, shipped, warehouse, single, split, "123456", "77", *whole, action="cancel")

    summary = cancel_run(n11, shop)

    assert split_bodies(n11) == [] and summary.refused == 11 and summary.sent == 0
    nothing_left = ("this would cancel every item of package {}, and N11's API cancels items only by splitting off "
                    "what remains: cancel it in N11's panel (so.n11.com)")
    packages = {number: str(account_of(n11).package(number)[0]["id"]) for number in ("3000000000014", "3000000000015")}
    assert {line: row["reason"] for line, row in action_rows(shop).items()} == {
        picking[0]: "quantity 3 is not a whole number from 1 to the line's 2 items",
        picking[1]: "cancel_reason 70 is not one of N11's: 61 out of stock, 62 defective, 63 wrong price, "
                    "64 force majeure, 65 other",
        created: "the line is Created: N11 cancels items only in a Picking package; approve the line first (an "
                 "'approve' row, sent before the cancel), or reject it in N11's panel",
        shipped: "the line is Shipped: N11 cancels items only in a Picking package, before it ships; handle it as a "
                 "return or in N11's panel",
        warehouse: "order 3000000000013 is fulfilled by N11 (N11's warehouse), not by the seller",
        single: nothing_left.format(packages["3000000000014"]),
        **dict.fromkeys(whole, nothing_left.format(packages["3000000000015"])),
        split: "the line was split on N11 and its items are under new order line ids now: ask for the line that "
               "holds them",
        "123456": "no order line 123456 of store 'shop1' in n11_order_lines",
        "77": "the order line belongs to store 'shop2', not 'shop1'",
    }
    assert {(row["result"], row["sent_at"]) for row in action_rows(shop).values()} == {("refused", None)}


def test_a_line_n11_already_shows_unsupplied_is_accepted_without_sending(n11, shop):
    package = new_order(n11, "3000000000020", 2)
    load(n11, shop)
    account_of(n11).set_package_status("3000000000020", "UnSupplied", package["lastModifiedDate"] + 1)
    load(n11, shop)
    request(shop, line_ids(package)[0], action="cancel")

    assert cancel_run(n11, shop).reached == 1 and split_bodies(n11) == []
    row = action_rows(shop)[line_ids(package)[0]]
    assert (row["result"], row["reason"], row["sent_at"]) == ("accepted", "N11 already shows the line UnSupplied: "
                                                                          "not sent", None)


def test_a_line_approved_and_cancelled_in_one_run_is_approved_first_then_split(n11, shop):
    """The orders task runs approve_orders, then cancel_lines: the shop asks both of a Created line at once."""
    package = new_order(n11, "3000000000030", 2, status="Created")
    [line] = line_ids(package)
    load(n11, shop)
    request(shop, line)
    request(shop, line, action="cancel", quantity=1)

    approved = run(n11, shop)
    cancelled = cancel_run(n11, shop)

    assert approved.accepted == 1 and cancelled.accepted == 1
    assert [call.path for call in n11.requests if call.method != "GET"] == [UPDATE, SPLIT]
    assert shop_order(shop, "3000000000030") == n11_order(n11, "3000000000030")


def test_a_cancel_waits_while_the_approval_of_its_line_is_open(n11, shop):
    [line] = line_ids(new_order(n11, "3000000000031", 2, status="Created"))
    load(n11, shop)
    request(shop, line)
    request(shop, line, action="cancel", quantity=1)
    n11.faults = FaultConfig(rate=1.0, kinds=("500",), paths=(UPDATE,))
    assert run(n11, shop).unknown == 1
    n11.faults = FaultConfig()

    summary = cancel_run(n11, shop)

    assert summary.waiting == 1 and summary.refused == 0 and split_bodies(n11) == []
    assert (action_rows(shop)[line]["result"], action_rows(shop)[line]["sent_at"]) == (None, None)


def test_n11s_refusal_is_recorded_failed_with_its_words_and_not_sent_again(n11, shop):
    package = new_order(n11, "3000000000040", 2)
    load(n11, shop)
    account_of(n11).set_package_status("3000000000040", "Shipped", package["lastModifiedDate"] + 1)
    request(shop, line_ids(package)[0], action="cancel", quantity=1)

    summary = cancel_run(n11, shop)
    cancel_run(n11, shop)

    row = action_rows(shop)[line_ids(package)[0]]
    assert summary.failed == 1 and row["result"] == "failed" and len(split_bodies(n11)) == 1
    assert "Shipped statülü siparişler bölünemez" in row["reason"]


def test_a_lost_answer_is_never_sent_again_and_is_settled_accepted_by_a_look_up(n11, shop, monkeypatch):
    package = new_order(n11, "3000000000050", 3)
    [line] = line_ids(package)
    load(n11, shop)
    request(shop, line, action="cancel", quantity=2)
    n11.faults = FaultConfig(rate=1.0, kinds=("502",), paths=(SPLIT,))  # N11 split it; the gateway lost the answer

    lost = cancel_run(n11, shop)
    n11.faults = FaultConfig()
    again = cancel_run(n11, shop)

    assert lost.unknown == 1 and again.sent == 0 and len(split_bodies(n11)) == 1
    assert action_rows(shop)[line]["result"] == "unknown"
    assert shop_order(shop, "3000000000050")["lines"][line][1] == "Picking"  # the shop has not seen the split yet
    monkeypatch.setattr(cancel, "SETTLE", timedelta(0))
    settled = cancel_run(n11, shop)

    assert (settled.settled, settled.sent, settled.reread) == (1, 0, 1) and len(split_bodies(n11)) == 1
    row = action_rows(shop)[line]
    assert row["result"] == "accepted" and "N11 later showed the line split" in row["reason"]
    assert shop_order(shop, "3000000000050") == n11_order(n11, "3000000000050")


def test_a_send_n11_did_not_take_is_settled_failed_and_never_resent(n11, shop, monkeypatch):
    package = new_order(n11, "3000000000051", 2)
    [line] = line_ids(package)
    load(n11, shop)
    request(shop, line, action="cancel", quantity=1)
    n11.faults = FaultConfig(rate=1.0, kinds=("500",), paths=(SPLIT,))  # N11 failed before doing anything
    assert cancel_run(n11, shop).unknown == 1
    n11.faults = FaultConfig()
    monkeypatch.setattr(cancel, "SETTLE", timedelta(0))

    summary = cancel_run(n11, shop)
    cancel_run(n11, shop)

    row = action_rows(shop)[line]
    assert summary.settled == 1 and summary.sent == 0 and len(split_bodies(n11)) == 1
    assert row["result"] == "failed" and row["reason"].endswith(
        "N11 did not take it; not sent again (clear the row's outcome to send it again)")
    assert package["shipmentPackageStatus"] == "Picking"


def test_refused_credentials_release_the_claim_so_the_next_run_sends_it(n11, shop):
    [line] = line_ids(new_order(n11, "3000000000060", 2))
    load(n11, shop)
    request(shop, line, action="cancel", quantity=1)

    with pytest.raises(N11AuthError):
        cancel_run(n11, shop, secret="wrong-secret")
    assert (action_rows(shop)[line]["sent_at"], action_rows(shop)[line]["result"]) == (None, None)
    assert cancel_run(n11, shop).accepted == 1


def test_overlapping_runs_send_each_package_once(n11, shop):
    orders = [f"30000000001{n:02d}" for n in range(6)]
    lines = [line_ids(new_order(n11, number, 2, 1))[0] for number in orders]
    load(n11, shop)
    request(shop, *lines, action="cancel")

    assert at_once(lambda: cancel_run(n11, shop)) == []
    assert sorted(str(body["cancelledItems"][0]["orderLineId"]) for body in split_bodies(n11)) == sorted(lines)
    assert {row["result"] for row in action_rows(shop).values()} == {"accepted"}
    assert all(shop_order(shop, number) == n11_order(n11, number) for number in orders)


def test_without_n11s_list_of_split_lines_the_reason_points_to_the_order_read_again(n11, shop):
    account_of(n11).split_items_listed = False
    [line] = line_ids(new_order(n11, "3000000000070", 2))
    load(n11, shop)
    request(shop, line, action="cancel", quantity=1)

    assert cancel_run(n11, shop).accepted == 1
    assert action_rows(shop)[line]["reason"].endswith("go on under new order line ids (as the order read again "
                                                      "shows them)")
    assert shop_order(shop, "3000000000070") == n11_order(n11, "3000000000070")


def test_the_log_says_what_was_done_in_counts_and_never_names_the_buyer(n11, shop, caplog):
    package = new_order(n11, "3000000000080", 2)
    refused = line_ids(new_order(n11, "3000000000081", 2, status="Created"))[0]
    load(n11, shop)
    request(shop, line_ids(package)[0], action="cancel", quantity=1)
    request(shop, refused, action="cancel")
    with caplog.at_level(logging.DEBUG):
        summary = cancel_run(n11, shop)

    assert summary.log_line() == (
        "store 'shop1', cancels of items that cannot be supplied: lines sent 1 in 1 call(s), accepted 1, failed 0, "
        "outcome unknown 0; refused without sending 1, already cancelled on N11 0, waiting for their approval 0; "
        "earlier unknown outcomes settled 0; orders read again 1 (failed 0)")
    assert summary.counts() == {"refused": 1, "reached": 0, "waiting": 0, "settled": 0, "calls": 1, "sent": 1,
                                "accepted": 1, "failed": 0, "unknown": 0, "reread": 1, "reread_failed": 0}
    buyer = [package["customerfullName"], package["customerEmail"], package["shippingAddress"]["address"],
             package["shippingAddress"]["gsm"], package["billingAddress"]["fullName"]]
    assert "refused without sending" in caplog.text
    assert not [value for value in buyer if value and value in caplog.text]


def test_a_failed_re_read_is_left_to_the_next_orders_runs_follow_up(n11, shop):
    [line] = line_ids(new_order(n11, "3000000000085", 2))
    load(n11, shop)
    request(shop, line, action="cancel", quantity=1)
    n11.faults = FaultConfig(rate=1.0, kinds=("503",), paths=("/rest/delivery/v1/shipmentPackages",))

    summary = cancel_run(n11, shop)

    assert (summary.accepted, summary.reread, summary.reread_failed) == (1, 0, 1)
    assert shop_order(shop, "3000000000085")["lines"][line][1] == "Picking"
    n11.faults = FaultConfig()
    load(n11, shop)
    assert shop_order(shop, "3000000000085") == n11_order(n11, "3000000000085")


def test_the_operations_guides_insert_and_reset_statements_work_as_documented(n11, shop, monkeypatch):
    guide = (Path(__file__).parents[3] / "docs" / "OPERATIONS.md").read_text(encoding="utf-8")
    section = guide[guide.index("## Cancelling what you cannot supply"):guide.index("## Listing new products")]
    insert_sql, reset_sql = (re.search(rf"^{verb} n11_order_actions.*?;$", section, re.M | re.S).group(0)
                             for verb in ("INSERT INTO", "UPDATE"))
    [line] = line_ids(new_order(n11, "3000000000090", 3))
    load(n11, shop)
    with shop.begin() as conn:
        conn.execute(text(insert_sql.replace("'magazam'", "'shop1'").replace("'880123457'", f"'{line}'")))
    n11.faults = FaultConfig(rate=1.0, kinds=("500",), paths=(SPLIT,))
    assert cancel_run(n11, shop).unknown == 1
    n11.faults = FaultConfig()
    monkeypatch.setattr(cancel, "SETTLE", timedelta(0))
    assert cancel_run(n11, shop).settled == 1 and action_rows(shop)[line]["result"] == "failed"
    with shop.begin() as conn:
        conn.execute(text(reset_sql.replace("'magazam'", "'shop1'").replace("'880123457'", f"'{line}'")))

    assert cancel_run(n11, shop).accepted == 1 and len(split_bodies(n11)) == 2
    row = action_rows(shop)[line]
    assert (row["requested_by"], row["quantity"], row["cancel_reason"]) == ("back office", 1, 61)
    assert split_bodies(n11)[-1]["cancelledItems"] == [{"orderLineId": int(line), "quantity": 1,
                                                        "cancelReasonId": 61}]


def test_a_shop_database_of_the_previous_version_gains_the_cancel_columns_keeping_its_rows(n11, shop_conn):
    engine = create_engine(url_for(shop_conn))
    previous = Table("n11_order_actions", MetaData(),  # as the version before cancels defined it
                     Column("store", String(64), primary_key=True),
                     Column("order_line_id", String(40), primary_key=True),
                     Column("action", ExactString(32), primary_key=True), Column("requested_by", String(64)),
                     Column("requested_at", UtcDateTime), Column("attempt_id", String(36)),
                     Column("sent_at", UtcDateTime), Column("answered_at", UtcDateTime),
                     Column("result", String(16), index=True), Column("reason", Text))
    previous.create(engine)
    kept = [{"store": "shop1", "order_line_id": str(n), "action": "approve", "result": "accepted", "reason": "ok"}
            for n in range(20)]
    with engine.begin() as conn:
        conn.execute(insert(previous), kept)

    create_tables(engine)  # what the first run of this version does

    assert {"quantity", "cancel_reason"} <= {c["name"] for c in inspect(engine).get_columns("n11_order_actions")}
    with engine.connect() as conn:
        found = conn.execute(select(actions.c.order_line_id, actions.c.action, actions.c.result, actions.c.reason,
                                    actions.c.quantity, actions.c.cancel_reason)).all()
    assert sorted(found) == sorted((row["order_line_id"], "approve", "accepted", "ok", None, None) for row in kept)
    [line] = line_ids(new_order(n11, "3000000000095", 2))
    load(n11, engine)
    request(engine, line, action="cancel", quantity=1, cancel_reason=63)
    assert cancel_run(n11, engine).accepted == 1
    assert split_bodies(n11)[0]["cancelledItems"] == [{"orderLineId": int(line), "quantity": 1, "cancelReasonId": 63}]
    engine.dispose()
