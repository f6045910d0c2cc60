"""Order approval against the N11 sandbox over real HTTP, with the shop on SQLite, PostgreSQL and MariaDB.

A line is approved at most once whatever happens (reruns, overlapping runs, lost answers, a dead worker);
N11's per-line answer is recorded; the shop's line and order say Picking as soon as N11 accepted.
"""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, insert, select, text, update

from devtools.sandbox import FaultConfig, N11Sandbox
from devtools.sandbox.rules import UNPACKED, canonical_status
from include.clock import utcnow
from include.orders import approve
from include.tables import n11_order_actions, n11_order_lines, n11_orders
from tests.conftest import TEST_KEY
from tests.helpers.orders import UPDATE, at_once, busy_account, created_seller_lines, request, run, sent_lines
from tests.include.orders.conftest import STORE, sync

AUTO = dataclasses.replace(STORE, auto_approve_orders=True)
actions = n11_order_actions


@pytest.fixture
def n11(start_sandbox) -> N11Sandbox:
    return start_sandbox(busy_account())


@pytest.fixture
def loaded(n11, shop) -> Engine:
    """The shop database after the orders of the sandbox's two days were extracted; the sandbox's request log
    starts after the extraction, so it holds what the approvals ask."""
    now = datetime.now(UTC)
    sync(n11, shop, now - timedelta(days=3), now, now=now + timedelta(hours=1))
    n11.clear_log()
    return shop


def live_lines(n11: N11Sandbox) -> dict[str, tuple[str, str]]:
    """Every live line on N11: line id -> (status, sender)."""
    account = n11.state.account(TEST_KEY)
    return {str(line["orderLineId"]): (canonical_status(line["orderItemLineItemStatusName"]), p["_sender"])
            for p in account.packages if canonical_status(p["shipmentPackageStatus"]) != UNPACKED
            for line in p["lines"]}


def look_ups(n11: N11Sandbox) -> list[str]:
    """The order numbers looked up on N11 (to settle unknown outcomes)."""
    return [call.query["orderNumber"] for call in n11.calls("GET", "/rest/delivery/v1/shipmentPackages")
            if "orderNumber" in call.query]


def shop_lines(shop: Engine, status: str | None = None) -> dict[str, str]:
    query = select(n11_order_lines.c.order_line_id, n11_order_lines.c.status)
    with shop.connect() as conn:
        found = dict(conn.execute(query.where(n11_order_lines.c.store == STORE.slug)).all())
    return {line: s for line, s in found.items() if status in (None, s)}


def action_rows(shop: Engine) -> dict[tuple[str, str], dict]:
    with shop.connect() as conn:
        rows = conn.execute(select(actions).where(actions.c.store == STORE.slug)).mappings().all()
    return {(row["order_line_id"], row["action"]): dict(row) for row in rows}


def test_automatic_approval_approves_every_seller_line_held_in_created_including_those_loaded_before(
        n11, loaded, monkeypatch):
    monkeypatch.setattr(approve, "BATCH_LINES", 4)
    waiting = created_seller_lines(loaded)
    warehouse = {line for line, (status, sender) in live_lines(n11).items() if sender == "N11" and status == "Created"}
    assert len(waiting) > 8 and warehouse

    off = run(n11, loaded)
    assert off.idle_reason() == ("store 'shop1': nothing to approve: auto_approve_orders is off and the shop asked "
                                 "for no approval in n11_order_actions")
    assert n11.calls("PUT", UPDATE) == []

    summary = run(n11, loaded, AUTO)

    assert sorted(sent_lines(n11)) == waiting and summary.accepted == summary.sent == summary.requested == len(waiting)
    assert summary.calls == len(n11.calls("PUT", UPDATE)) == -(-len(waiting) // 4)
    assert all(len(call.body["lines"]) <= 4 for call in n11.calls("PUT", UPDATE))
    assert {line: live_lines(n11)[line][0] for line in waiting} == dict.fromkeys(waiting, "Picking")
    assert all(live_lines(n11)[line][0] == "Created" for line in warehouse)
    rows = action_rows(loaded)
    assert {line for line, _ in rows} == set(waiting)
    assert {(row["requested_by"], row["result"]) for row in rows.values()} == {("auto", "accepted")}
    assert all(row["requested_at"] <= row["sent_at"] <= row["answered_at"] for row in rows.values())


def test_once_n11_accepted_the_shop_line_and_its_order_say_picking_before_the_next_extraction(n11, loaded):
    line = created_seller_lines(loaded)[0]
    with loaded.connect() as conn:
        order_number = conn.execute(select(n11_order_lines.c.order_number).where(
            n11_order_lines.c.order_line_id == line)).scalar_one()
        before = conn.execute(select(n11_orders.c.status, n11_orders.c.last_modified).where(
            n11_orders.c.order_number == order_number)).one()
        others = conn.execute(select(n11_order_lines.c.order_line_id).where(
            n11_order_lines.c.order_number == order_number, n11_order_lines.c.status == "Created")).scalars().all()
    assert before.status == "Created"
    request(loaded, *others)

    run(n11, loaded)

    assert {shop_lines(loaded)[line] for line in others} == {"Picking"}
    with loaded.connect() as conn:
        after = conn.execute(select(n11_orders.c.status, n11_orders.c.last_modified).where(
            n11_orders.c.order_number == order_number)).one()
    assert after == ("Picking", before.last_modified)  # N11's date stays: the next extraction still writes


def test_an_order_keeps_created_while_one_of_its_lines_waits(n11, loaded):
    with loaded.connect() as conn:
        number, first = conn.execute(select(n11_order_lines.c.order_number, n11_order_lines.c.order_line_id).where(
            n11_order_lines.c.store == STORE.slug, n11_order_lines.c.status == "Created")
            .order_by(n11_order_lines.c.order_line_id)).first()
        conn.execute(insert(n11_order_lines).values(
            **{**conn.execute(select(n11_order_lines).where(n11_order_lines.c.order_line_id == first)).mappings()
               .one(), "order_line_id": first + "9"}))
        conn.commit()
    request(loaded, first)
    run(n11, loaded)
    with loaded.connect() as conn:
        status = conn.execute(select(n11_orders.c.status).where(n11_orders.c.order_number == number)).scalar_one()
    assert shop_lines(loaded)[first] == "Picking" and status == "Created"


def test_shop_requests_are_sent_once_and_a_rerun_sends_nothing(n11, loaded):
    lines = created_seller_lines(loaded)[:3]
    request(loaded, *lines)

    first = run(n11, loaded)
    second = run(n11, loaded)

    assert first.accepted == 3 and sorted(sent_lines(n11)) == lines
    assert second.idle_reason() is not None and len(n11.calls("PUT", UPDATE)) == 1
    assert {row["result"] for row in action_rows(loaded).values()} == {"accepted"}


def test_a_line_n11_refuses_keeps_n11s_reason_and_is_not_sent_again(n11, loaded):
    line = created_seller_lines(loaded)[0]
    with loaded.connect() as conn:
        number = conn.execute(select(n11_order_lines.c.order_number).where(
            n11_order_lines.c.order_line_id == line)).scalar_one()
    n11.state.account(TEST_KEY).set_package_status(number, "Cancelled", int(datetime.now(UTC).timestamp() * 1000))
    request(loaded, line)

    summary = run(n11, loaded)
    run(n11, loaded, AUTO)

    row = action_rows(loaded)[(line, "approve")]
    assert summary.failed == 1 and row["result"] == "failed"
    assert row["reason"] == "Kalem Cancelled durumunda, onaylanamaz"
    assert sent_lines(n11).count(line) == 1 and shop_lines(loaded)[line] == "Created"


def test_bad_requests_are_refused_with_a_reason_and_never_sent_beside_good_ones(n11, loaded):
    created = created_seller_lines(loaded)
    with loaded.begin() as conn:  # a line another store of the same shop holds
        row = conn.execute(select(n11_order_lines).where(n11_order_lines.c.order_line_id == created[0])).mappings()
        row = row.one()
        conn.execute(insert(n11_order_lines).values(**{**row, "store": "shop2", "order_line_id": "77"}))
    request(loaded, created[1], action="reject")
    request(loaded, created[2], action="Approve ")
    request(loaded, created[2])  # a separate row on every database: only this one is sent
    with loaded.begin() as conn:  # a line the shop holds cancelled
        conn.execute(update(n11_order_lines).where(n11_order_lines.c.order_line_id == created[3])
                     .values(status="Cancelled"))
    request(loaded, "123456", "77", created[3])

    summary = run(n11, loaded)

    rows = action_rows(loaded)
    assert summary.refused == 5 and sent_lines(n11) == [created[2]]
    assert {key: (row["result"], row["reason"]) for key, row in rows.items() if key != (created[2], "approve")} == {
        (created[1], "reject"): ("refused", "unknown action 'reject': the actions are 'approve' and 'cancel'"),
        (created[2], "Approve "): ("refused", "unknown action 'Approve ': the actions are 'approve' and 'cancel'"),
        ("123456", "approve"): ("refused", "no order line 123456 of store 'shop1' in n11_order_lines"),
        ("77", "approve"): ("refused", "the order line belongs to store 'shop2', not 'shop1'"),
        (created[3], "approve"): ("refused", "the line is Cancelled in the shop database; N11 approves only "
                                             "lines in Created"),
    }
    assert all(row["sent_at"] is None and row["requested_at"] is not None for key, row in rows.items()
               if key != (created[2], "approve"))


def test_two_lines_of_one_package_in_one_call_are_both_accepted_keeping_n11s_words(n11, loaded):
    """N11 approves packages: it moves the package with the first line and answers the second FAIL."""
    with loaded.connect() as conn:
        package = conn.execute(select(n11_order_lines.c.package_id).where(
            n11_order_lines.c.store == STORE.slug, n11_order_lines.c.order_line_id.in_(created_seller_lines(loaded)))
            .group_by(n11_order_lines.c.package_id).having(func.count() >= 2)
            .order_by(n11_order_lines.c.package_id)).scalars().first()
        pair = conn.execute(select(n11_order_lines.c.order_line_id).where(
            n11_order_lines.c.package_id == package).order_by(n11_order_lines.c.order_line_id)).scalars().all()[:2]
    request(loaded, *pair)

    summary = run(n11, loaded)

    [call] = n11.calls("PUT", UPDATE)
    assert [str(line["lineId"]) for line in call.body["lines"]] == pair
    rows = action_rows(loaded)
    assert summary.accepted == 2 and summary.failed == 0
    assert [rows[(line, "approve")]["result"] for line in pair] == ["accepted", "accepted"]
    assert rows[(pair[1], "approve")]["reason"] == ("N11 answered: Kalem Picking durumunda, onaylanamaz; N11 shows "
                                                    "the line Picking")
    assert {shop_lines(loaded)[line] for line in pair} == {"Picking"}
    assert run(n11, loaded).idle_reason() is not None and len(n11.calls("PUT", UPDATE)) == 1


def test_a_line_approved_in_n11s_panel_before_the_run_is_accepted(n11, loaded):
    """Seen by the extraction, it is accepted without sending; approved after it, N11's refusal is checked."""
    seen, unseen = created_seller_lines(loaded)[:2]
    account, now_ms = n11.state.account(TEST_KEY), int(datetime.now(UTC).timestamp() * 1000)
    with loaded.connect() as conn:
        numbers = dict(conn.execute(select(n11_order_lines.c.order_line_id, n11_order_lines.c.order_number).where(
            n11_order_lines.c.order_line_id.in_([seen, unseen]))).all())
    assert numbers[seen] != numbers[unseen]
    account.set_package_status(numbers[seen], "Picking", now_ms)
    now = datetime.now(UTC)
    sync(n11, loaded, now - timedelta(days=3), now + timedelta(minutes=1), now=now + timedelta(hours=1))
    account.set_package_status(numbers[unseen], "Picking", now_ms + 1)
    n11.clear_log()
    request(loaded, seen, unseen)

    summary = run(n11, loaded)

    rows = action_rows(loaded)
    assert sent_lines(n11) == [unseen] and (summary.reached, summary.accepted, summary.failed) == (1, 1, 0)
    assert rows[(seen, "approve")]["result"] == "accepted" and rows[(seen, "approve")]["sent_at"] is None
    assert rows[(seen, "approve")]["reason"] == ("N11 already shows the line Picking (approved before this run): "
                                                 "not sent")
    assert rows[(unseen, "approve")]["result"] == "accepted"
    assert rows[(unseen, "approve")]["reason"].startswith("N11 answered: Kalem Picking durumunda, onaylanamaz")


def test_warehouse_orders_and_orders_of_unknown_sender_are_never_approved_automatically(n11, loaded):
    with loaded.begin() as conn:
        conn.execute(update(n11_orders).where(n11_orders.c.store == STORE.slug, n11_orders.c.sender == "SELLER")
                     .values(sender=None))
    assert run(n11, loaded, AUTO).idle_reason() == (
        "store 'shop1': nothing to approve: no seller-fulfilled line is waiting in Created and the shop asked for "
        "no approval in n11_order_actions")
    warehouse = next(line for line, (status, sender) in live_lines(n11).items()
                     if sender == "N11" and status == "Created")
    request(loaded, warehouse)
    assert run(n11, loaded).refused == 1 and n11.calls("PUT", UPDATE) == []
    assert "fulfilled by N11 (N11's warehouse)" in action_rows(loaded)[(warehouse, "approve")]["reason"]


def test_overlapping_runs_send_each_line_once(n11, loaded, monkeypatch):
    monkeypatch.setattr(approve, "BATCH_LINES", 2)
    waiting = created_seller_lines(loaded)

    assert at_once(lambda: run(n11, loaded, AUTO)) == []
    assert sorted(sent_lines(n11)) == waiting
    assert {row["result"] for row in action_rows(loaded).values()} == {"accepted"}


def test_a_lost_answer_is_not_resent_and_is_settled_accepted_by_a_look_up(n11, loaded, monkeypatch):
    lines = created_seller_lines(loaded)[:2]
    request(loaded, *lines)
    n11.faults = FaultConfig(rate=1.0, kinds=("truncated",), paths=(UPDATE,))  # N11 did it; the answer is cut

    lost = run(n11, loaded)
    n11.faults = FaultConfig()
    again = run(n11, loaded)

    assert lost.unknown == 2 and again.idle_reason() is not None and len(n11.calls("PUT", UPDATE)) == 1
    assert {row["result"] for row in action_rows(loaded).values()} == {"unknown"}
    monkeypatch.setattr(approve, "SETTLE", timedelta(0))
    settled = run(n11, loaded)

    assert settled.settled == 2 and settled.resent == 0 and len(n11.calls("PUT", UPDATE)) == 1
    assert 1 <= len(look_ups(n11)) <= 2
    rows = action_rows(loaded)
    assert {row["result"] for row in rows.values()} == {"accepted"}
    assert "N11 later showed the line Picking" in rows[(lines[0], "approve")]["reason"]
    assert {shop_lines(loaded)[line] for line in lines} == {"Picking"}


def test_a_refused_send_settled_by_a_look_up_that_still_shows_created_is_sent_again_once(n11, loaded, monkeypatch):
    line = created_seller_lines(loaded)[0]
    request(loaded, line)
    n11.faults = FaultConfig(rate=1.0, kinds=("500",), paths=(UPDATE,))  # N11 failed before doing anything
    assert run(n11, loaded).unknown == 1
    n11.faults = FaultConfig()
    monkeypatch.setattr(approve, "SETTLE", timedelta(0))

    summary = run(n11, loaded)
    run(n11, loaded)

    assert summary.settled == summary.resent == summary.accepted == 1
    assert sent_lines(n11) == [line, line] and live_lines(n11)[line][0] == "Picking"
    assert action_rows(loaded)[(line, "approve")]["result"] == "accepted"


def test_a_send_whose_worker_died_waits_then_is_settled_by_the_extraction(n11, loaded, monkeypatch):
    line = created_seller_lines(loaded)[0]
    request(loaded, line)
    with loaded.begin() as conn:  # what a worker killed during the call leaves behind
        conn.execute(update(actions).values(attempt_id="dead", sent_at=utcnow(), requested_at=utcnow()))
    assert run(n11, loaded).idle_reason() is not None and n11.calls("PUT", UPDATE) == []

    with loaded.begin() as conn:  # the next extraction shows the line approved (the call did reach N11)
        conn.execute(update(n11_order_lines).where(n11_order_lines.c.order_line_id == line).values(status="Picking"))
    monkeypatch.setattr(approve, "SETTLE", timedelta(0))
    summary = run(n11, loaded)

    assert summary.settled == 1 and n11.calls("PUT", UPDATE) == [] and look_ups(n11) == []
    assert action_rows(loaded)[(line, "approve")]["result"] == "accepted"


def test_the_next_extraction_keeps_the_approved_lines_picking(n11, loaded):
    lines = created_seller_lines(loaded)
    run(n11, loaded, AUTO)
    now = datetime.now(UTC)
    sync(n11, loaded, now - timedelta(days=3), now, now=now + timedelta(hours=1))
    assert {shop_lines(loaded)[line] for line in lines} == {"Picking"}


def test_the_operations_guides_insert_and_reset_statements_work_as_documented(n11, loaded):
    guide = (Path(__file__).parents[3] / "docs" / "OPERATIONS.md").read_text(encoding="utf-8")
    section = guide[guide.index("## Approving orders"):guide.index("## Read the shop database")]
    insert_sql, reset_sql = (re.search(rf"^{verb} n11_order_actions.*?;$", section, re.M | re.S).group(0)
                             for verb in ("INSERT INTO", "UPDATE"))
    line = created_seller_lines(loaded)[0]
    with loaded.begin() as conn:
        conn.execute(text(insert_sql.replace("'magazam'", "'shop1'").replace("'880123456'", f"'{line}'")))
    n11.faults = FaultConfig(rate=1.0, kinds=("500",), paths=(UPDATE,))
    assert run(n11, loaded).unknown == 1
    n11.faults = FaultConfig()
    with loaded.begin() as conn:
        conn.execute(text(reset_sql.replace("'magazam'", "'shop1'").replace("'880123456'", f"'{line}'")))

    assert run(n11, loaded).accepted == 1 and sent_lines(n11) == [line, line]
    assert action_rows(loaded)[(line, "approve")]["requested_by"] == "back office"
