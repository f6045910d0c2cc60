"""Each batch reaches N11 at most once: a retried push re-uses the recorded task id and never sends blindly."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from devtools.sandbox import FaultConfig
from include.clock import utcnow
from include.products import links, push, results
from include.products.groups import PRICE_STOCK
from include.products.run import RunOptions, plan_run
from include.tables import n11_product_push_batches

RUN = "manual__2026-11-27T10:00:00+00:00"


def planned(harness, changed: int = 1) -> list[push.BatchRef]:
    """Links refreshed and a run planned with ``changed`` stock changes; returns its batches."""
    for code in harness.plain(changed):
        harness.change(code, quantity=harness.n11(code)["quantity"] + 1)
    store = harness.store("stock")
    links.refresh(harness.engine, harness.client, store)
    harness.sandbox.clear_log()
    return plan_run(harness.engine, store, RUN, RunOptions())[1]


def send(harness, ref: push.BatchRef) -> str | None:
    return push.send(harness.engine, harness.client, "shop1", RUN, ref)


def test_a_retried_push_reuses_the_recorded_task_instead_of_sending_again(quick_harness):
    [ref] = planned(quick_harness)

    first = send(quick_harness, ref)
    again = send(quick_harness, ref)

    assert first == again and first is not None
    assert len(quick_harness.calls(PRICE_STOCK)) == 1 and len(quick_harness.account.tasks) == 1


def test_a_batch_whose_receipt_was_lost_is_not_sent_again_blindly(quick_harness):
    harness = quick_harness
    [ref] = planned(harness)
    harness.sandbox.faults = FaultConfig(rate=1.0, kinds=("truncated",), paths=("/ms/product/tasks",))

    with pytest.raises(push.OutcomeUnknown, match="not sent again in this run"):
        send(harness, ref)
    harness.sandbox.faults = FaultConfig()
    with pytest.raises(push.OutcomeUnknown, match="not sent again blindly"):
        send(harness, ref)

    assert len(harness.calls(PRICE_STOCK)) == 1 and len(harness.account.tasks) == 1  # N11 did take it once
    assert results.collect(harness.engine, harness.client, "shop1", RUN)
    with harness.engine.connect() as conn:
        assert results.totals(conn, "shop1", RUN).unsent == 1


def test_planning_a_run_again_replaces_its_unsent_batches(quick_harness):
    harness = quick_harness
    assert planned(harness) == [push.BatchRef(PRICE_STOCK, 1)]
    send(harness, push.BatchRef(PRICE_STOCK, 1))

    again = plan_run(harness.engine, harness.store("stock"), RUN, RunOptions())[1]

    assert again == [push.BatchRef(PRICE_STOCK, 2)]  # the sent batch stays; the new one is numbered after it
    with harness.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(n11_product_push_batches)).scalar_one() == 2


def test_batches_hold_at_most_1000_skus(quick_harness):
    entries = {PRICE_STOCK: [{"stockCode": f"S{i:05d}", "quantity": i} for i in range(2001)]}
    with quick_harness.engine.begin() as conn:
        refs = push.save(conn, "shop1", RUN, entries)
        sizes = conn.execute(select(n11_product_push_batches.c.sku_count)
                             .order_by(n11_product_push_batches.c.batch_no)).scalars().all()
    assert [ref.batch_no for ref in refs] == [1, 2, 3] and sizes == [1000, 1000, 1]


def test_batches_recorded_long_ago_are_dropped_when_a_run_is_planned(quick_harness):
    old_run = {PRICE_STOCK: [{"stockCode": "S1", "quantity": 1}]}
    with quick_harness.engine.begin() as conn:
        push.save(conn, "shop1", "old-run", old_run)
        conn.execute(update(n11_product_push_batches).values(
            finished_at=utcnow() - timedelta(days=push.RETAIN_DAYS + 1)))
        push.save(conn, "shop1", RUN, old_run)
        runs = conn.execute(select(n11_product_push_batches.c.run_id)).scalars().all()
    assert runs == [RUN]


@pytest.mark.parametrize(("fault", "n11_took_it"), [("502", True), ("504", True), ("truncated", True),
                                                    ("reset", False), ("500", False)])
def test_a_write_with_an_unknown_outcome_is_not_sent_again_blind_and_the_next_scan_decides(quick_harness, fault,
                                                                                           n11_took_it):
    harness = quick_harness
    code = harness.plain()[0]
    wanted = harness.n11(code)["quantity"] + 4
    harness.change(code, quantity=wanted)
    harness.sandbox.faults = FaultConfig(rate=1.0, kinds=(fault,), paths=("/ms/product/tasks",))

    lines = harness.sync("stock")

    assert len(harness.calls(PRICE_STOCK)) == 1 and "not sent 1" in lines[0]  # one try, no blind retry
    harness.sandbox.faults = FaultConfig()
    harness.sandbox.state.process_queued(harness.account)  # N11 works through what it took, on its own
    harness.sync("stock")
    assert len(harness.calls(PRICE_STOCK)) == (0 if n11_took_it else 1)
    assert harness.n11(code)["quantity"] == wanted
