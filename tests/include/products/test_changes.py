"""Only what changed goes out, in as few calls as N11 allows, in the form N11 wants."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import Column, Float, Integer, MetaData, String, Table, Text

from devtools.sandbox import N11Sandbox, SandboxState, generate_account
from include.products.groups import PRICE_STOCK, PRODUCT_UPDATE, UPDATABLE_STATUSES
from include.shop_db import dispose_engines, engine_for
from tests.conftest import TEST_KEY, TEST_SECRET
from tests.include.products.conftest import Harness, mirror


def updatable(harness) -> list[str]:
    return sorted(p["stockCode"] for p in harness.account.products.values() if p["status"] in UPDATABLE_STATUSES)


def test_nothing_changed_makes_no_write_call_at_all(harness):
    lines = harness.sync("all")

    assert harness.writes() == 0
    assert harness.sandbox.calls("POST", "/ms/product/task-details/page-query") == []
    assert "changed stock 0, price 0, info 0, content 0" in lines[0]


def test_float_prices_leave_with_two_decimals_and_equal_values_are_no_change(sqlite_shop, sandbox):
    """A shop view may give prices as floats: 1999.9 and 10 leave as 1999.90 and 10.00."""
    floats = Table("shop_view", MetaData(), Column("stock_code", String(100), primary_key=True),
                   Column("title", String(500)), Column("description", Text), Column("list_price", Float),
                   Column("sale_price", Float), Column("currency", String(3)), Column("quantity", Float),
                   Column("vat_rate", Float), Column("preparing_day", Integer),
                   Column("shipment_template", String(100)), Column("status", String(16)))
    account = sandbox.state.account(TEST_KEY)
    rows = [{**row, "list_price": float(row["list_price"]), "sale_price": float(row["sale_price"])}
            for row in mirror(account)]
    harness = Harness(engine_for(sqlite_shop), sandbox, rows, source=floats)
    code = harness.plain()[0]
    harness.change(code, list_price=1999.9, sale_price=10)

    harness.sync("price")

    [entry] = harness.sent(PRICE_STOCK)
    assert (entry["stockCode"], str(entry["listPrice"]), str(entry["salePrice"])) == (code, "1999.90", "10.00")
    dispose_engines()


def test_2500_changed_skus_take_three_calls(sqlite_shop):
    account = generate_account(seed=3, api_key=TEST_KEY, api_secret=TEST_SECRET, products=3000, days=1,
                               packages_per_day=1)
    changed = sorted(p["stockCode"] for p in account.products.values() if p["status"] in UPDATABLE_STATUSES)[:2500]
    rows = [{**row, "quantity": row["quantity"] + 1} if row["stock_code"] in changed else row
            for row in mirror(account)]
    with N11Sandbox(SandboxState([account])).start() as sandbox:
        harness = Harness(engine_for(sqlite_shop), sandbox, rows)

        lines = harness.sync("all")

    assert [len(call.body["payload"]["skus"]) for call in harness.calls(PRICE_STOCK)] == [1000, 1000, 500]
    assert harness.calls(PRODUCT_UPDATE) == []
    assert sorted(entry["stockCode"] for entry in harness.sent(PRICE_STOCK)) == changed
    assert "succeeded 2500, failed 0, rejected 0" in lines[0]
    dispose_engines()


def test_a_dry_run_sends_nothing_and_says_what_it_would_send(quick_harness, caplog):
    harness = quick_harness
    first, second = harness.plain(2)
    harness.change(first, quantity=harness.n11(first)["quantity"] + 1)
    harness.change(second, description="<p>Yeni</p>")

    with caplog.at_level("INFO", logger="include.products"):
        lines = harness.sync("all", dry_run=True)

    assert harness.writes() == 0
    assert "dry run: nothing sent" in lines[0] and "changed stock 1, price 0, info 0, content 1" in lines[0]
    assert f'would send 1 SKU(s) to price-stock-update in 1 call(s), e.g. [{{"stockCode": "{first}"' in caplog.text
    assert "would send 1 SKU(s) to product-update in 1 call(s)" in caplog.text
    harness.sync("all")
    assert harness.writes() == 2


def test_a_full_resync_sends_every_covered_group_of_every_updatable_linked_sku(quick_harness):
    harness = quick_harness

    harness.sync("stock_and_price", full_resync=True)

    stock, price = ([call.body["payload"]["skus"] for call in harness.calls(PRICE_STOCK)])
    assert [entry["stockCode"] for entry in stock] == [entry["stockCode"] for entry in price] == updatable(harness)
    assert all(set(entry) == {"stockCode", "quantity"} for entry in stock)
    assert all(set(entry) == {"stockCode", "listPrice", "salePrice", "currencyType"} for entry in price)
    assert harness.calls(PRODUCT_UPDATE) == []
    harness.sync("stock_and_price")
    assert harness.writes() == 0


def test_a_shop_row_that_breaks_n11s_rules_is_a_local_error_and_the_rest_goes_out(harness):
    broken, fine = harness.plain(2)
    list_price = harness.n11(broken)["listPrice"]
    harness.change(broken, sale_price=list_price + 1, quantity=harness.n11(broken)["quantity"] + 1)
    harness.change(fine, quantity=harness.n11(fine)["quantity"] + 1)

    lines = harness.sync("stock_and_price")

    sent = {entry["stockCode"]: entry for entry in harness.sent(PRICE_STOCK)}
    assert set(sent) == {broken, fine}
    assert set(sent[broken]) == {"stockCode", "quantity"}  # its stock is fine and goes; its price does not
    [error] = harness.errors(kind="local")
    assert (error["stock_code"], error["groups"], error["task_id"]) == (broken, "price", "local")
    shown = float(list_price + 1), float(list_price)  # the shop's values, as the database gave them
    assert json.loads(error["reasons"]) == [f"sale_price {shown[0]} is above list_price {shown[1]}"]
    assert f"{broken} [price] local: sale_price" in "\n".join(lines)

    harness.change(broken, sale_price=harness.n11(broken)["salePrice"] - 1)
    harness.sync("stock_and_price")
    assert harness.errors(kind="local") == []  # fixed rows stop being reported
    assert [set(entry) for entry in harness.sent(PRICE_STOCK)] == [{"stockCode", "listPrice", "salePrice",
                                                                     "currencyType"}]


@pytest.mark.parametrize(("values", "rule"), [
    ({"currency": "GBP"}, "currency 'GBP' is not one of ('TL', 'USD', 'EUR')"),
    ({"quantity": 1_000_000}, "quantity 1000000 is outside 0..999999"),
    ({"description": "x" * 30_001}, "description has 30001 characters; N11 takes at most 30000"),
])
def test_each_payload_rule_holds_a_row_back(quick_harness, values, rule):
    harness = quick_harness
    code = harness.plain()[0]
    harness.change(code, **values)

    harness.sync("all")

    assert harness.writes() == 0
    [error] = harness.errors(kind="local")
    assert (error["stock_code"], json.loads(error["reasons"])) == (code, [rule])
