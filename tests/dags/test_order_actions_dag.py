"""The orders DAG's after-sale tasks, run through Airflow (dag.test()) against the sandbox and a shop database:
`send_order_actions` (approvals, cancels, invoice links) and `sync_returns` (claims in, decisions out)."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import pendulum
import pytest
from sqlalchemy import create_engine, insert, select

from devtools.sandbox.claims import file_claim
from devtools.sandbox.rules import UNPACKED, canonical_status
from include.clock import to_ms
from include.shop_db import url_for
from include.tables import (
    metadata,
    n11_order_actions,
    n11_order_invoices,
    n11_order_lines,
    n11_return_actions,
    n11_returns,
)
from tests.conftest import TEST_KEY
from tests.dags.conftest import load_dag, run_dag
from tests.helpers.dags import latest_note
from tests.helpers.returns import ask, give_link, operations

pytestmark = pytest.mark.dags
UPDATE = "/rest/order/v1/update"


def yesterdays_packages(sandbox, today, status: str, items: int = 1) -> list[dict]:
    """Make the live packages N11 modified yesterday with at least ``items`` items ``status``, seller-fulfilled with
    their sender on the wire (as N11 shows an order once approved, say); returns them."""
    account = sandbox.state.account(TEST_KEY)
    moved = []
    for package in account.packages:
        if to_ms(today.subtract(days=1)) <= package["lastModifiedDate"] < to_ms(today) \
                and canonical_status(package["shipmentPackageStatus"]) not in (UNPACKED, "Cancelled", "UnSupplied") \
                and sum(line["quantity"] for line in package["lines"]) >= items:
            package.update(shipmentPackageStatus=status, _sender="SELLER", sender="SELLER")
            for line in package["lines"]:
                line["orderItemLineItemStatusName"] = status
            moved.append(package)
    assert moved
    return moved


def yesterdays_packages_created(sandbox, today) -> list[str]:
    """Make the packages N11 modified yesterday Created; their line ids."""
    return sorted(str(line["orderLineId"]) for package in yesterdays_packages(sandbox, today, "Created")
                  for line in package["lines"])


def tries(dag_id: str, task_id: str) -> int:
    """How many tries a task of the DAG's latest run took."""
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session

    with create_session() as session:
        return session.scalars(select(TaskInstance.try_number).where(
            TaskInstance.dag_id == dag_id, TaskInstance.task_id == task_id).order_by(
            TaskInstance.start_date.desc())).first()


def returned(dag_id: str, task_id: str) -> dict:
    """The XCom return value of a task's latest run."""
    with sqlite3.connect(Path(os.environ["AIRFLOW_HOME"]) / "airflow.db") as conn:
        value = conn.execute("SELECT value FROM xcom WHERE dag_id = ? AND task_id = ? AND key = 'return_value' "
                             "ORDER BY timestamp DESC LIMIT 1", (dag_id, task_id)).fetchone()[0]
    return json.loads(value)


def test_with_auto_approval_switched_on_the_run_approves_the_loaded_created_lines_after_the_load(
        store_env, sandbox, capfd, caplog):
    shop = store_env(orders_schedule="0 0 * * *", variable='{"auto_approve_orders": true}')
    today = pendulum.now("Europe/Istanbul").start_of("day")
    waiting = yesterdays_packages_created(sandbox, today)
    seller_created = {str(line["orderLineId"]) for package in sandbox.state.account(TEST_KEY).packages
                      if canonical_status(package["shipmentPackageStatus"]) == "Created"
                      and package.get("_sender") == "SELLER" for line in package["lines"]}

    states = run_dag("n11_shop1_orders", logical_date=today)

    assert states == {"_run": "success", **dict.fromkeys(load_dag("n11_shop1_orders").task_ids, "success")}
    sent = sorted(str(line["lineId"]) for call in sandbox.calls("PUT", UPDATE) for line in call.body["lines"])
    # yesterday's lines, and any other Created seller line the padded windows loaded: each once
    assert set(waiting) <= set(sent) <= seller_created and len(sent) == len(set(sent))
    with create_engine(url_for(shop)).connect() as conn:
        statuses = set(conn.execute(select(n11_order_lines.c.status).where(
            n11_order_lines.c.order_line_id.in_(sent))).scalars())
        results = set(conn.execute(select(n11_order_actions.c.result)).scalars())
    assert statuses == {"Picking"} and results == {"accepted"}
    out = capfd.readouterr().out + caplog.text
    assert (f"store 'shop1', order approval (auto on): lines sent {len(sent)} in 1 call(s), accepted "
            f"{len(sent)}, failed 0") in out
    counts = returned("n11_shop1_orders", "send_order_actions")["approvals"]
    assert counts["accepted"] == len(sent) and all(isinstance(value, int) for value in counts.values())


def test_with_nothing_to_approve_the_task_succeeds_saying_why_in_its_log(store_env, sandbox, capfd, caplog):
    store_env(orders_schedule="0 0 * * *")
    today = pendulum.now("Europe/Istanbul").start_of("day")

    states = run_dag("n11_shop1_orders", logical_date=today)

    assert states["load_orders"] == "success" and states["send_order_actions"] == "success"
    reason = ("store 'shop1': nothing to approve: auto_approve_orders is off and the shop asked for no approval in "
              "n11_order_actions")
    logged = capfd.readouterr().out + caplog.text
    assert any(reason in line and "include.tasks.orders" in line for line in logged.splitlines())
    assert sandbox.calls("PUT", UPDATE) == []


def test_a_shop_request_for_an_unknown_line_is_refused_in_the_run_and_never_sent(
        store_env, sandbox, capfd, caplog):
    shop = store_env(orders_schedule="0 0 * * *")
    today = pendulum.now("Europe/Istanbul").start_of("day")
    engine = create_engine(url_for(shop))
    metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(insert(n11_order_actions).values(store="shop1", order_line_id="4711", action="approve"))

    states = run_dag("n11_shop1_orders", logical_date=today)

    assert states["send_order_actions"] == "success" and sandbox.calls("PUT", UPDATE) == []
    with engine.connect() as conn:
        row = conn.execute(select(n11_order_actions)).one()
    assert (row.result, row.reason) == ("refused", "no order line 4711 of store 'shop1' in n11_order_lines")
    assert "order line 4711, action 'approve' refused without sending" in capfd.readouterr().out + caplog.text


SPLIT = "/rest/delivery/v1/splitPackageByQuantity"


def test_one_run_cancels_a_line_sends_an_invoice_link_loads_a_claim_and_sends_the_shops_decision(
        store_env, sandbox):
    shop = store_env(orders_schedule="0 0 * * *")
    today = pendulum.now("Europe/Istanbul").start_of("day")
    cancelled, invoiced = yesterdays_packages(sandbox, today, "Picking", items=2)[:2]
    line = cancelled["lines"][0]
    claim = file_claim(sandbox.state.account(TEST_KEY), invoiced["orderNumber"], today.subtract(days=1).date())
    engine = create_engine(url_for(shop))
    metadata.create_all(engine)
    with engine.begin() as conn:  # what the shop asks before the run
        conn.execute(insert(n11_order_actions).values(store="shop1", order_line_id=str(line["orderLineId"]),
                                                      action="cancel", quantity=1, cancel_reason=62))
    give_link(engine, invoiced["orderNumber"], "https://fatura.example.com/a.pdf?x=1&y=2")
    ask(engine, claim["claimReturnId"], "approve")

    states = run_dag("n11_shop1_orders", logical_date=today)

    assert states == {"_run": "success", **dict.fromkeys(load_dag("n11_shop1_orders").task_ids, "success")}
    assert len(sandbox.calls("POST", SPLIT)) == 1
    assert [call["url"] for call in operations(sandbox, "SaveLinkSellerInvoice")] == \
        ["https://fatura.example.com/a.pdf?x=1&y=2"]
    assert [call["claimReturnId"] for call in operations(sandbox, "ClaimReturnApprove")] == [claim["claimReturnId"]]
    with engine.connect() as conn:
        results = {row.action: row.result for row in conn.execute(select(n11_order_actions))}
        invoice = conn.execute(select(n11_order_invoices)).one()
        decision = conn.execute(select(n11_return_actions)).one()
        loaded = conn.execute(select(n11_returns).where(n11_returns.c.claim_id == claim["claimReturnId"])).one()
        parts = set(conn.execute(select(n11_order_lines.c.status).where(
            n11_order_lines.c.order_number == cancelled["orderNumber"])).scalars())
    assert results == {"cancel": "accepted"} and invoice.result == "accepted" and decision.result == "accepted"
    assert loaded.order_line_id == str(invoiced["lines"][0]["orderLineId"]) and loaded.stock_code
    assert "UnSupplied" in parts
    counts = returned("n11_shop1_orders", "send_order_actions")
    assert (counts["cancels"]["accepted"], counts["invoices"]["accepted"]) == (1, 1)
    assert returned("n11_shop1_orders", "sync_returns")["decisions"]["accepted"] == 1
    note = latest_note("n11_shop1_orders")
    assert "- cancels: calls 1, sent 1, accepted 1, reread 1; invoice links: sent 1, accepted 1" in note
    assert "- return claims: periods 1, claims 1, open 1, new 1; return decisions: sent 1, accepted 1" in note


def test_with_returns_sync_off_the_returns_task_is_skipped_saying_why_and_the_order_actions_still_run(
        store_env, sandbox):
    store_env(orders_schedule="0 0 * * *", variable='{"returns_sync": false}')
    today = pendulum.now("Europe/Istanbul").start_of("day")

    states = run_dag("n11_shop1_orders", logical_date=today)

    assert states["sync_returns"] == "skipped" and states["send_order_actions"] == "success"
    assert states["_run"] == "success" and operations(sandbox, "ClaimReturnList") == []
    assert "skipped: store 'shop1': returns skipped because returns_sync=false" in latest_note("n11_shop1_orders")


def test_a_claim_n11_sends_unreadable_fails_the_returns_task_at_once_and_the_order_actions_still_run(
        store_env, sandbox):
    store_env(orders_schedule="0 0 * * *")
    today = pendulum.now("Europe/Istanbul").start_of("day")
    order = yesterdays_packages(sandbox, today, "Delivered")[0]["orderNumber"]
    claim = file_claim(sandbox.state.account(TEST_KEY), order, today.subtract(days=1).date())
    claim["quantity"] = "iki"  # a retry would read the same claim: no try of the task's retries can help

    states = run_dag("n11_shop1_orders", logical_date=today)

    assert states["sync_returns"] == "failed" and tries("n11_shop1_orders", "sync_returns") == 1  # no retry
    assert states["load_orders"] == states["send_order_actions"] == "success"
