"""What the store sends: prices rounded half up to kuruş, TRY read as TL, the stock buffer and the price markup,
over real HTTP on SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

import json
from decimal import ROUND_HALF_UP, Decimal

import pytest
from sqlalchemy import Column, Integer, MetaData, Numeric, String, Table, Text

from include.products.groups import PRICE_STOCK, UPDATABLE_STATUSES
from include.shop_db import engine_for
from tests.include.products.conftest import Harness, mirror

KURUS = Decimal("0.01")
# A shop view whose prices carry four decimals (VAT-derived prices).
FINE_PRICES = Table("shop_prices", MetaData(), Column("stock_code", String(100), primary_key=True),
                    Column("title", String(500)), Column("description", Text), Column("list_price", Numeric(14, 4)),
                    Column("sale_price", Numeric(14, 4)), Column("currency", String(3)), Column("quantity", Integer),
                    Column("vat_rate", Integer), Column("preparing_day", Integer),
                    Column("shipment_template", String(100)), Column("status", String(16)))


@pytest.fixture
def fine(shop_conn, sandbox) -> Harness:
    return Harness(engine_for(shop_conn), sandbox, mirror(sandbox.state.account("test-appkey")), source=FINE_PRICES)


def updatable(harness: Harness) -> list[str]:
    return sorted(code for code, p in harness.account.products.items() if p["status"] in UPDATABLE_STATUSES)


def test_prices_with_more_than_two_decimals_are_rounded_half_up_and_sent_and_try_means_tl(fine):
    harness = fine
    rounded, same = harness.plain(2)
    list_price, sale_price = harness.n11(rounded)["listPrice"], harness.n11(rounded)["salePrice"]
    harness.change(rounded, list_price=list_price + Decimal("0.009"), sale_price=sale_price + Decimal("0.005"),
                   currency="TRY")
    harness.change(same, currency="TRY")  # the same price as N11's, only spelled TRY: nothing to send

    lines = harness.sync("price")

    assert harness.sent(PRICE_STOCK) == [{"stockCode": rounded, "listPrice": list_price + KURUS,
                                          "salePrice": sale_price + KURUS, "currencyType": "TL"}]
    assert "succeeded 1, failed 0" in lines[0] and harness.errors() == []
    assert (harness.n11(rounded)["listPrice"], harness.n11(rounded)["salePrice"]) == (list_price + KURUS,
                                                                                      sale_price + KURUS)
    harness.sync("price")
    assert harness.writes() == 0


def test_a_new_buffer_and_markup_reach_every_affected_sku_on_the_next_run_and_leave_with_them(harness):
    harness.sync("stock_and_price")
    assert harness.writes() == 0
    shop = {code: dict(harness.n11(code)) for code in updatable(harness)}
    campaign = {"stock_buffer": 3, "price_markup_percent": 7.5}

    harness.sync("stock_and_price", settings=campaign)

    for code, before in shop.items():
        n11 = harness.n11(code)
        assert n11["quantity"] == max(before["quantity"] - 3, 0)
        assert (n11["listPrice"], n11["salePrice"]) == tuple(
            (before[k] * Decimal("1.075")).quantize(KURUS, ROUND_HALF_UP) for k in ("listPrice", "salePrice"))
    harness.sync("stock_and_price", settings=campaign)
    assert harness.writes() == 0

    harness.sync("stock_and_price")  # the campaign ends: the shop's own values again
    assert all((harness.n11(code)["quantity"], harness.n11(code)["salePrice"]) == (p["quantity"], p["salePrice"])
               for code, p in shop.items())


def test_a_markup_that_makes_one_products_price_zero_is_a_local_error_of_that_sku_only(harness):
    cheap, *others = harness.plain(3)
    harness.change(cheap, list_price=Decimal("0.01"), sale_price=Decimal("0.01"))
    before = {code: harness.n11(code)["salePrice"] for code in others}

    lines = harness.sync("price", settings={"price_markup_percent": -60})

    [error] = harness.errors(kind="local")
    assert (error["store"], error["stock_code"], error["groups"]) == ("shop1", cheap, "price")
    assert json.loads(error["reasons"]) == [
        "list_price 0.01 (after price_markup_percent -60: 0.00) is not above 0",
        "sale_price 0.01 (after price_markup_percent -60: 0.00) is not above 0"]
    assert cheap not in {entry["stockCode"] for entry in harness.sent(PRICE_STOCK)}
    assert all(harness.n11(code)["salePrice"] == (price * Decimal("0.4")).quantize(KURUS, ROUND_HALF_UP)
               for code, price in before.items())
    assert f"  {cheap} [price] local: list_price 0.01" in "\n".join(lines)
