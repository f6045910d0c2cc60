"""N11's answer for every SKU: SUCCESS moves the baseline, FAIL and REJECT are recorded with N11's reasons."""

from __future__ import annotations

import json
import logging

import pytest

from devtools.sandbox import N11Sandbox
from include.products import results
from include.products import run as steps
from include.products.groups import PRICE_STOCK, PRODUCT_UPDATE
from include.products.run import RunOptions
from include.shop_db import dispose_engines, engine_for
from tests.conftest import make_state
from tests.include.products.conftest import Harness

CATALOGUE_REASON = "Katalog ürünlerinin içeriği güncellenemez; içerik N11 kataloğuna aittir."


def test_a_catalogue_products_fail_is_recorded_and_its_payload_not_sent_again_unchanged(harness, caplog):
    catalogue, plain = harness.catalogue(), harness.plain()[0]
    for code in (catalogue, plain):
        harness.change(code, description=f"<p>{code} için yeni açıklama</p>")
    stock_only = harness.plain(2)[1]
    harness.change(stock_only, quantity=harness.n11(stock_only)["quantity"] + 3)

    lines = harness.sync("all")

    assert "succeeded 2, failed 1, rejected 0" in lines[0]
    [failure] = harness.errors(kind="fail")
    assert (failure["stock_code"], failure["groups"], failure["endpoint"]) == (catalogue, "content", PRODUCT_UPDATE)
    assert json.loads(failure["reasons"]) == [CATALOGUE_REASON]
    [task] = [task for task in harness.account.tasks.values() if task.kind == "product-update"]
    assert failure["task_id"] == str(task.id)
    assert f"  {catalogue} [content] fail (N11 task {failure['task_id']}): {CATALOGUE_REASON}" in lines
    assert harness.n11(plain)["description"] == f"<p>{plain} için yeni açıklama</p>"
    assert harness.baseline(catalogue)["content_failed_hash"] is not None
    assert harness.baseline(plain)["content_failed_hash"] is None

    caplog.set_level(logging.INFO, logger="include")
    lines = harness.sync("all")
    assert harness.writes() == 0
    assert "held back 1" in lines[0]
    assert f"store 'shop1': held back, as N11 failed the same payload last time: {catalogue}" in caplog.text

    harness.change(catalogue, description="<p>Bir kez daha değişti</p>")
    harness.sync("all")
    assert [entry["stockCode"] for entry in harness.sent(PRODUCT_UPDATE)] == [catalogue]


def test_a_forced_resync_sends_a_failed_payload_again(quick_harness):
    harness = quick_harness
    catalogue = harness.catalogue()
    harness.change(catalogue, description="<p>Yeni</p>")
    harness.sync("product_info")

    harness.sync("product_info", full_resync=True)

    assert catalogue in {entry["stockCode"] for entry in harness.sent(PRODUCT_UPDATE)}


def test_fail_is_read_whatever_n11s_spelling(sqlite_shop):
    with N11Sandbox(make_state(item_fail_spelling="Fail")).start() as sandbox:
        harness = Harness(engine_for(sqlite_shop), sandbox)
        harness.change(harness.catalogue(), description="<p>Yeni</p>")
        lines = harness.sync("all")
    assert "succeeded 0, failed 1" in lines[0]
    dispose_engines()


def test_a_price_band_refusal_keeps_the_old_baseline(harness):
    code = harness.plain()[0]
    harness.sync("price")
    before = harness.baseline(code)
    list_price = harness.n11(code)["listPrice"]
    harness.change(code, list_price=list_price, sale_price=round(harness.n11(code)["salePrice"] / 10, 2))

    harness.sync("price")

    [failure] = harness.errors(kind="fail")
    assert "fahiş fiyat düşüklüğü" in json.loads(failure["reasons"])[0]
    after = harness.baseline(code)
    assert (after["list_price"], after["sale_price"]) == (before["list_price"], before["sale_price"])


def test_a_catalogue_product_is_suspended_while_its_content_change_is_refused(harness):
    """Seller-level fields of a catalogue product go out in their own batch; the content is N11's."""
    catalogue = harness.catalogue()
    harness.change(catalogue, status="Suspended", preparing_day=harness.n11(catalogue)["preparingDay"] + 1,
                   description="<p>Kataloğa ait değil</p>")

    harness.sync("product_info")

    assert harness.n11(catalogue)["status"] == "Suspended"
    assert harness.n11(catalogue)["saleStatus"] == "Sale_Closed"
    [failure] = harness.errors()
    assert (failure["stock_code"], failure["groups"], failure["kind"]) == (catalogue, "content", "fail")
    assert json.loads(failure["reasons"]) == [CATALOGUE_REASON]
    assert harness.baseline(catalogue)["status"] == "Suspended"


REFUSED_IN = pytest.mark.parametrize("locks", ["locked_codes", "late_locked_codes"],
                                     ids=["in the receipt", "only when N11 processes the task"])


@pytest.mark.one_case_per_server
@REFUSED_IN
def test_a_rejected_batch_is_split_until_the_refused_sku_is_alone_and_the_others_go_through(harness, locks):
    codes = harness.plain(5)
    for code in codes:
        harness.change(code, quantity=harness.n11(code)["quantity"] + 2)
    bad = codes[3]
    getattr(harness.account, locks).add(bad)  # late: the receipt says IN_QUEUE, the task's result REJECT
    quantity = harness.n11(bad)["quantity"]

    lines = harness.sync("stock")

    assert "succeeded 4, failed 0, rejected 1" in lines[0]
    assert all(harness.n11(code)["quantity"] == harness.baseline(code)["quantity"] for code in codes if code != bad)
    [rejected] = harness.errors(kind="reject")
    assert rejected["stock_code"] == bad and "işlem kilidi" in json.loads(rejected["reasons"])[0]
    assert harness.n11(bad)["quantity"] == quantity and harness.baseline(bad)["stock_failed_hash"] is not None
    sizes = [len(call.body["payload"]["skus"]) for call in harness.calls(PRICE_STOCK)]
    assert sizes[0] == 5 and sizes.count(1) >= 1 and len(sizes) <= 1 + 2 * 3  # halves down to the one SKU

    harness.sync("stock")  # the refused payload is not sent again unchanged
    assert harness.writes() == 0
    getattr(harness.account, locks).clear()
    harness.change(bad, quantity=quantity + 5)
    harness.sync("stock")
    assert harness.sent(PRICE_STOCK) == [{"stockCode": bad, "quantity": quantity + 5}]


@REFUSED_IN
def test_a_batch_refused_for_a_reason_of_every_sku_costs_a_bounded_number_of_calls(quick_harness, monkeypatch, locks):
    harness = quick_harness
    codes = harness.plain(8)
    for code in codes:
        harness.change(code, quantity=harness.n11(code)["quantity"] + 2)
    getattr(harness.account, locks).update(codes)
    monkeypatch.setattr("include.products.push.MAX_SPLIT_SENDS", 4)

    lines = harness.sync("stock")

    assert len(harness.calls(PRICE_STOCK)) == 1 + 4  # the batch, then halves until the run's budget is spent
    assert "succeeded 0, failed 0, rejected 8" in lines[0]
    assert sorted(error["stock_code"] for error in harness.errors(kind="reject")) == codes


def test_a_sku_missing_from_n11s_results_is_recorded_and_the_next_scan_decides(quick_harness, monkeypatch):
    harness = quick_harness
    first, second = harness.plain(2)
    for code in (first, second):
        harness.change(code, quantity=harness.n11(code)["quantity"] + 2)
    process = type(harness.sandbox.state)._process

    def drop_first_item(state, account, task):
        process(state, account, task)
        task.items = [item for item in task.items if item["itemCode"] != first]

    monkeypatch.setattr(type(harness.sandbox.state), "_process", drop_first_item)

    lines = harness.sync("stock")

    assert "succeeded 1" in lines[0] and "no result 1" in lines[0]
    [error] = harness.errors(kind="no_result")
    assert error["stock_code"] == first
    harness.sync("stock")  # N11 did apply it (the scan shows it): nothing to send
    assert harness.writes() == 0
    harness.account.panel_edit(first, quantity=0)  # had it not, the scan would show the old value
    harness.sync("stock")
    assert [entry["stockCode"] for entry in harness.sent(PRICE_STOCK)] == [first]


def test_a_refused_price_never_holds_the_stock_back(harness):
    """A sell-out and a price cut N11's price band refuses, in the same run: the stock goes out and is confirmed."""
    code = harness.plain()[0]
    harness.change(code, quantity=0, sale_price=round(harness.n11(code)["salePrice"] / 10, 2))

    lines = harness.sync("stock_and_price")

    assert (harness.n11(code)["quantity"], harness.n11(code)["saleStatus"]) == (0, "Out_Of_Stock")
    [failure] = harness.errors(kind="fail")
    assert (failure["stock_code"], failure["groups"]) == (code, "price")
    assert "succeeded 1, failed 1" in lines[0]
    state = harness.baseline(code)
    assert state["price_failed_hash"] is not None and state["stock_failed_hash"] is None

    harness.account.panel_edit(code, quantity=4)  # stock put back on N11's side: the next run takes it off again
    lines = harness.sync("stock_and_price")
    assert harness.sent(PRICE_STOCK) == [{"stockCode": code, "quantity": 0}]  # the refused price is held back
    assert "held back 1" in lines[0] and harness.n11(code)["quantity"] == 0


def test_tasks_of_an_earlier_run_whose_sensor_gave_up_are_collected_before_the_next_plan(quick_harness):
    harness = quick_harness
    stock, content = harness.plain(2)
    harness.change(stock, quantity=harness.n11(stock)["quantity"] + 6)
    harness.change(content, description="<p>Toplanmamış</p>")
    store = harness.store()
    steps.start(harness.engine, harness.client, store, "run-a")
    steps.plan(harness.engine, harness.client, store, "run-a", RunOptions())
    steps.push_run(harness.engine, harness.client, store, "run-a")
    steps.finish(harness.engine, store, "run-a")  # the sensor timed out: the teardown released the lock
    harness.sandbox.state.process_queued(harness.account)  # N11 did the work; nobody asked for the results

    harness.sync("all")

    assert harness.writes() == 0  # N11 had both; nothing is sent again
    assert len(harness.sandbox.calls("POST", "/ms/product/task-details/page-query")) == 2  # run-a's two tasks
    assert harness.baseline(content)["description"] == "<p>Toplanmamış</p>"
    with harness.engine.connect() as conn:
        assert results.totals(conn, "shop1", "run-a").succeeded == 2


def test_two_queued_tasks_processed_out_of_order_are_put_right_by_the_next_run(quick_harness):
    harness = quick_harness
    code = harness.plain()[0]
    store = harness.store("stock")
    harness.sandbox.state.queue_polls = 10**6  # N11 keeps both tasks queued
    planned = {}
    for run, quantity in (("run-a", 5), ("run-b", 3)):
        harness.change(code, quantity=quantity)
        steps.start(harness.engine, harness.client, store, run)
        planned[run] = steps.plan(harness.engine, harness.client, store, run, RunOptions())
        steps.push_run(harness.engine, harness.client, store, run)
        steps.finish(harness.engine, store, run)
    assert harness.sandbox.state.process_queued(harness.account, newest_first=True)  # 3 applied, then the stale 5
    assert harness.n11(code)["quantity"] == 5
    harness.sandbox.state.queue_polls = 1

    harness.sync("stock")

    assert harness.sent(PRICE_STOCK) == [{"stockCode": code, "quantity": 3}]
    assert harness.n11(code)["quantity"] == 3
