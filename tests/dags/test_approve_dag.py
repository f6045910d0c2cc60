"""The orders DAG's approval task, run through Airflow (dag.test()) against the sandbox and a shop database."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import pendulum
import pytest
from sqlalchemy import create_engine, insert, select

from devtools.sandbox.rules import UNPACKED, canonical_status
from include.clock import to_ms
from include.shop_db import url_for
from include.tables import metadata, n11_order_actions, n11_order_lines
from tests.conftest import TEST_KEY
from tests.dags.conftest import load_dag, run_dag

pytestmark = pytest.mark.dags
UPDATE = "/rest/order/v1/update"


def yesterdays_packages_created(sandbox, today) -> list[str]:
    """Make the packages N11 modified yesterday Created, seller-fulfilled, with their sender on the wire."""
    account = sandbox.state.account(TEST_KEY)
    line_ids = []
    for package in account.packages:
        if to_ms(today.subtract(days=1)) <= package["lastModifiedDate"] < to_ms(today) \
                and canonical_status(package["shipmentPackageStatus"]) != UNPACKED:
            package.update(shipmentPackageStatus="Created", _sender="SELLER", sender="SELLER")
            for line in package["lines"]:
                line["orderItemLineItemStatusName"] = "Created"
                line_ids.append(str(line["orderLineId"]))
    assert line_ids
    return sorted(line_ids)


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
    counts = returned("n11_shop1_orders", "approve_orders")
    assert counts["accepted"] == len(sent) and all(isinstance(value, int) for value in counts.values())


def test_with_nothing_to_approve_the_task_succeeds_saying_why_in_its_log(store_env, sandbox, capfd, caplog):
    store_env(orders_schedule="0 0 * * *")
    today = pendulum.now("Europe/Istanbul").start_of("day")

    states = run_dag("n11_shop1_orders", logical_date=today)

    assert states["load_orders"] == "success" and states["approve_orders"] == "success"
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

    assert states["approve_orders"] == "success" and sandbox.calls("PUT", UPDATE) == []
    with engine.connect() as conn:
        row = conn.execute(select(n11_order_actions)).one()
    assert (row.result, row.reason) == ("refused", "no order line 4711 of store 'shop1' in n11_order_lines")
    assert "order line 4711, action 'approve' refused without sending" in capfd.readouterr().out + caplog.text
