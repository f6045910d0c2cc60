"""Every store run carries its outcome in its run note (the runs list and the grid show it): counts, a skip's
reason, a dry run, a refusal with the failed task; a note a person wrote is kept."""

from __future__ import annotations

import pendulum
import pytest
from airflow.models.dagrun import DagRun, DagRunNote
from airflow.utils.session import create_session
from sqlalchemy import select

from include.tasks.run_note import NOTE_LENGTH, compose, write_note
from tests.helpers.dags import PRICE_STOCK, PRODUCT_UPDATE, latest_note, run_dag, run_products

ORDERS = "n11_shop1_orders"
PRODUCTS = "n11_shop1_products"


def today() -> pendulum.DateTime:
    return pendulum.now("Europe/Istanbul").start_of("day")


def test_the_note_lists_each_tasks_lines_then_the_failed_tasks():
    assert compose(["orders: 3 new", "approvals: sent 2"], ["sync_returns"]) == (
        "- orders: 3 new\n- approvals: sent 2\n- **failed**: sync_returns (see the task's log)")


def test_a_note_longer_than_airflow_stores_is_cut_at_a_line_saying_so():
    note = compose(["products: 100 refused", *(f"  SKU-{n} refused: price below the minimum" for n in range(100))],
                   [])
    assert len(note) <= NOTE_LENGTH and note.endswith("- ... (the rest in the tasks' logs)")
    assert note.startswith("- products: 100 refused\n  - SKU-0 refused")  # the SKUs nested under their summary


@pytest.mark.dags
def test_an_orders_run_notes_what_it_loaded_in_istanbul_time_and_that_no_order_action_or_return_waited(
        store_env):
    store_env(orders_schedule="0 0 * * *")
    assert run_dag(ORDERS, logical_date=today())["_run"] == "success"
    note = latest_note(ORDERS)
    assert note.startswith(f"- store 'shop1', orders modified {today().subtract(days=1).isoformat()}"), note
    assert "windows 1" in note
    assert "- order actions: nothing to approve, cancel or link (see the task's log)" in note
    assert "- return claims: periods 1; no decision waiting" in note


@pytest.mark.dags
def test_a_switched_off_store_run_is_noted_skipped_with_the_reason_and_where_to_switch_it(store_env):
    store_env(orders_schedule="0 0 * * *", variable='{"active": false}')
    assert run_dag(ORDERS, logical_date=today())["_run"] == "success"
    assert latest_note(ORDERS) == (
        "- skipped: store 'shop1': orders skipped because the store is passive (active=false); switch it with the "
        "Variable 'n11_store_shop1' (Admin > Variables) or in the store registry")


@pytest.mark.dags
def test_a_dry_run_is_noted_as_one_with_what_it_would_have_sent(demo_shop):
    assert run_products(dry_run=True)["_run"] == "success"
    note = latest_note(PRODUCTS)
    assert note.startswith("- **dry run**: nothing is sent to N11\n- store 'shop1' products"), note
    assert note.split("\n")[1].endswith("dry run: nothing sent")


@pytest.mark.dags
def test_a_refused_run_is_noted_with_the_reason_and_the_failed_task(store_env):
    store_env(products_source="no_such_view")
    assert run_products()["_run"] == "failed"
    note = latest_note(PRODUCTS)
    assert "Fix the store's products_source setting" in note
    assert note.endswith("- **failed**: plan_changes (see the task's log)")


@pytest.mark.dags
def test_a_note_a_person_wrote_on_the_run_is_kept(store_env):
    store_env(orders_schedule="0 0 * * *")
    run_dag(ORDERS, logical_date=today())
    with create_session() as session:
        run = session.scalars(select(DagRun).where(DagRun.dag_id == ORDERS).order_by(DagRun.id.desc())).first()
        assert run.note.startswith("- store 'shop1'")
        run.dag_run_note = DagRunNote("checked the missing order by hand", user_id="admin")
        session.flush()
        write_note(run)  # what the listener does when the run ends again (cleared, then rerun)
    assert latest_note(ORDERS) == "checked the missing order by hand"


@pytest.mark.dags
def test_a_dry_run_previews_a_store_whose_pushes_are_off_and_sends_nothing(demo_shop, store_env, sandbox):
    """The documented way to try a store's products DAG before it goes live (docs/OPERATIONS.md, "A dry run")."""
    store_env(variable='{"product_sync": false}')
    states = run_products(dry_run=True)
    assert states["_run"] == "success" and states["plan_changes"] == "success"
    assert sandbox.calls("POST", PRICE_STOCK) == [] and sandbox.calls("POST", PRODUCT_UPDATE) == []
    what_it_would_send = latest_note(PRODUCTS).split("\n")[2]
    assert "changed stock 4" in what_it_would_send and what_it_would_send.endswith("dry run: nothing sent")
    assert latest_note(PRODUCTS).startswith("- store 'shop1': product_sync=false, but a dry run sends nothing")
    assert run_products()["gate"] == "skipped"  # a real run stays off
