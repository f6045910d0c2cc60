"""The update type decides which field groups reach N11; nothing outside them is ever sent."""

from __future__ import annotations

from decimal import Decimal

import pytest

from include.products.groups import PRICE_STOCK, PRODUCT_UPDATE

STOCK_FIELDS = {"quantity"}
PRICE_FIELDS = {"listPrice", "salePrice", "currencyType"}
INFO_FIELDS = {"description"}  # the test changes the content; the listing fields follow the same update types
EXPECTED = {
    "all": (STOCK_FIELDS | PRICE_FIELDS, INFO_FIELDS),
    "product_info": (set(), INFO_FIELDS),
    "price": (PRICE_FIELDS, set()),
    "stock": (STOCK_FIELDS, set()),
    "stock_and_price": (STOCK_FIELDS | PRICE_FIELDS, set()),
}


def raise_price(harness, code: str, factor: str = "1.10") -> tuple[Decimal, Decimal]:
    product = harness.n11(code)
    prices = tuple((product[k] * Decimal(factor)).quantize(Decimal("0.01")) for k in ("listPrice", "salePrice"))
    harness.change(code, list_price=prices[0], sale_price=prices[1])
    return prices


def fields(entries: list[dict]) -> set[str]:
    return {name for entry in entries for name in entry} - {"stockCode"}


@pytest.mark.parametrize("update_type", list(EXPECTED))
def test_each_update_type_sends_exactly_its_groups(quick_harness, update_type):
    harness = quick_harness
    code = harness.plain()[0]
    harness.change(code, quantity=harness.n11(code)["quantity"] + 5, description="<p>Yeni açıklama</p>")
    raise_price(harness, code)

    harness.sync(update_type)

    price_stock, product_info = EXPECTED[update_type]
    for endpoint, expected in ((PRICE_STOCK, price_stock), (PRODUCT_UPDATE, product_info)):
        sent = harness.sent(endpoint)
        assert fields(sent) == expected, endpoint
        assert {entry["stockCode"] for entry in sent} == ({code} if expected else set())


def test_the_campaign_case_stock_leaves_n11s_price_alone_until_prices_are_covered(harness):
    with_stock_and_price, price_only = harness.plain(2)
    harness.sync("stock")  # the first run: baseline seeded from N11, nothing differs
    assert harness.writes() == 0

    # During a campaign N11 shows a lower price; the shop keeps its regular one and changes stock and price.
    campaign = harness.n11(price_only)
    regular = (campaign["listPrice"], campaign["salePrice"])
    campaign["salePrice"] = (campaign["salePrice"] * Decimal("0.80")).quantize(Decimal("0.01"))
    new_quantity = harness.n11(with_stock_and_price)["quantity"] + 7
    harness.change(with_stock_and_price, quantity=new_quantity)
    shop_prices = raise_price(harness, with_stock_and_price)
    n11_prices_before = {code: (harness.n11(code)["listPrice"], harness.n11(code)["salePrice"])
                         for code in (with_stock_and_price, price_only)}

    harness.sync("stock")

    assert harness.sent(PRICE_STOCK) == [{"stockCode": with_stock_and_price, "quantity": new_quantity}]
    assert harness.sent(PRODUCT_UPDATE) == []
    assert harness.n11(with_stock_and_price)["quantity"] == new_quantity
    assert {code: (harness.n11(code)["listPrice"], harness.n11(code)["salePrice"])
            for code in n11_prices_before} == n11_prices_before

    # The campaign ends: switching to stock_and_price sends the shop's prices wherever N11 shows another.
    harness.sync("stock_and_price")

    sent = {entry["stockCode"]: entry for entry in harness.sent(PRICE_STOCK)}
    assert set(sent) == {with_stock_and_price, price_only}
    assert sent[with_stock_and_price] == {"stockCode": with_stock_and_price, "listPrice": shop_prices[0],
                                          "salePrice": shop_prices[1], "currencyType": "TL"}
    assert (sent[price_only]["listPrice"], sent[price_only]["salePrice"]) == regular
    assert "quantity" not in sent[price_only]
    assert (harness.n11(price_only)["listPrice"], harness.n11(price_only)["salePrice"]) == regular

    harness.sync("stock_and_price")
    assert harness.writes() == 0


def test_a_price_or_stock_changed_on_n11_is_put_right_by_the_next_run(harness):
    """Drift repair: whatever changed N11's live stock or price (a panel edit here), the next run sends the shop's."""
    price_code, stock_code = harness.plain(2)
    harness.sync("stock_and_price")
    shop_price = (harness.n11(price_code)["listPrice"], harness.n11(price_code)["salePrice"])
    shop_quantity = harness.n11(stock_code)["quantity"]
    harness.account.panel_edit(price_code, salePrice=(shop_price[1] * Decimal("0.90")).quantize(Decimal("0.01")))
    harness.account.panel_edit(stock_code, quantity=shop_quantity + 40)

    harness.sync("stock_and_price")

    assert harness.sent(PRICE_STOCK) == [
        {"stockCode": stock_code, "quantity": shop_quantity},
        {"stockCode": price_code, "listPrice": shop_price[0], "salePrice": shop_price[1], "currencyType": "TL"}]
    assert (harness.n11(price_code)["listPrice"], harness.n11(price_code)["salePrice"]) == shop_price
    assert harness.n11(stock_code)["quantity"] == shop_quantity
    harness.sync("stock_and_price")
    assert harness.writes() == 0
