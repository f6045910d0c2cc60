"""N11's answer for every SKU: SUCCESS moves the baseline, FAIL and REJECT are recorded with N11's reasons."""

from __future__ import annotations

import json

from devtools.sandbox import N11Sandbox, rules
from include.products.groups import PRICE_STOCK, PRODUCT_UPDATE
from include.shop_db import dispose_engines, engine_for
from tests.conftest import make_state
from tests.include.products.conftest import Harness

CATALOGUE_REASON = "Katalog ürünlerinin içeriği güncellenemez; içerik N11 kataloğuna aittir."


def test_a_catalogue_products_fail_is_recorded_and_its_payload_not_sent_again_unchanged(harness):
    catalogue, plain = harness.catalogue(), harness.plain()[0]
    for code in (catalogue, plain):
        harness.change(code, description=f"<p>{code} için yeni açıklama</p>")
    stock_only = harness.plain(2)[1]
    harness.change(stock_only, quantity=harness.n11(stock_only)["quantity"] + 3)

    lines = harness.sync("all")

    assert "succeeded 2, failed 1, rejected 0" in lines[0]
    [failure] = harness.errors(kind="fail")
    assert (failure["stock_code"], failure["groups"], failure["endpoint"]) == (catalogue, "info", PRODUCT_UPDATE)
    assert json.loads(failure["reasons"]) == [CATALOGUE_REASON]
    [task] = [task for task in harness.account.tasks.values() if task.kind == "product-update"]
    assert failure["task_id"] == str(task.id)
    assert f"  {catalogue} [info] fail (N11 task {failure['task_id']}): {CATALOGUE_REASON}" in lines
    assert harness.n11(plain)["description"] == f"<p>{plain} için yeni açıklama</p>"
    assert harness.baseline(catalogue)["info_failed_hash"] is not None
    assert harness.baseline(plain)["info_failed_hash"] is None

    lines = harness.sync("all")
    assert harness.writes() == 0
    assert "held back 1" in lines[0]

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


def test_a_rejected_task_moves_no_baseline_and_is_sent_again_next_run(harness, monkeypatch):
    first, second = harness.plain(2)
    for code in (first, second):
        harness.change(code, quantity=harness.n11(code)["quantity"] + 2)
    quantities = {code: harness.n11(code)["quantity"] for code in (first, second)}
    monkeypatch.setattr(rules, "reject_reasons", lambda kind, skus: ["Bilinmeyen bir kural ihlal edildi."])

    lines = harness.sync("stock")

    assert "succeeded 0, failed 0, rejected 2" in lines[0]
    rejected = harness.errors(kind="reject")
    assert [(e["stock_code"], json.loads(e["reasons"])) for e in rejected] == [
        (first, ["Bilinmeyen bir kural ihlal edildi."]), (second, ["Bilinmeyen bir kural ihlal edildi."])]
    assert {code: harness.baseline(code)["quantity"] for code in quantities} == quantities
    assert {code: harness.baseline(code)["stock_failed_hash"] for code in quantities} == {first: None, second: None}

    monkeypatch.undo()
    lines = harness.sync("stock")
    assert sorted(entry["stockCode"] for entry in harness.sent(PRICE_STOCK)) == [first, second]
    assert "succeeded 2" in lines[0]


def test_a_sku_missing_from_n11s_results_keeps_its_baseline(quick_harness, monkeypatch):
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
    harness.sync("stock")
    assert [entry["stockCode"] for entry in harness.sent(PRICE_STOCK)] == [first]
