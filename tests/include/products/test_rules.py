"""The comparable form and N11's payload rules, on small frames (no database, no HTTP)."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from include.products import diff, rules
from include.products.groups import INFO, PRICE, STOCK
from include.products.values import canonical, changed, price

GOOD = {"quantity": 5, "list_price": Decimal("100.00"), "sale_price": Decimal("90.00"), "currency": "TL",
        "description": "<p>Güzel</p>", "vat_rate": 20, "preparing_day": 2, "shipment_template": "Standart",
        "status": "Active"}


def shop(**values) -> pd.DataFrame:
    return pd.DataFrame([{**GOOD, **values}], index=pd.Index(["SKU-1"], name="stock_code"))


def test_values_from_any_driver_compare_equal():
    decimals = shop(list_price=Decimal("1999.90"), quantity=Decimal("5"))
    floats = shop(list_price=1999.9, quantity=5.0)
    assert not any(changed(canonical(decimals), canonical(floats), group).any() for group in (STOCK, PRICE, INFO))
    assert changed(canonical(shop(description="<p>güzel</p>")), canonical(shop()), INFO).all()
    assert not changed(canonical(shop(currency=None)), canonical(shop(currency=None)), PRICE).any()


def test_prices_leave_with_exactly_two_decimals():
    assert [str(price(cents)) for cents in canonical(shop(list_price=1999.9, sale_price=10))[
        ["list_price", "sale_price"]].iloc[0]] == ["1999.90", "10.00"]


@pytest.mark.parametrize(("group", "values", "rule"), [
    (STOCK, {"quantity": "çok"}, "quantity is missing or not a number: 'çok'"),
    (STOCK, {"quantity": 2.5}, "quantity 2.5 is not a whole number"),
    (STOCK, {"quantity": -1}, "quantity -1 is outside 0..999999"),
    (STOCK, {"quantity": 1_000_000}, "quantity 1000000 is outside 0..999999"),
    (PRICE, {"list_price": Decimal("10.001")}, "list_price 10.001 has more than two decimals"),
    (PRICE, {"sale_price": Decimal("-1.00"), "list_price": Decimal("-1.00")}, "sale_price -1.00 is negative"),
    (PRICE, {"sale_price": Decimal("120.00")}, "sale_price 120.00 is above list_price 100.00"),
    (PRICE, {"currency": "GBP"}, "currency 'GBP' is not one of ('TL', 'USD', 'EUR')"),
    (INFO, {"description": None}, "description is missing"),
    (INFO, {"description": "x" * 30_001}, "description has 30001 characters; N11 takes at most 30000"),
    (INFO, {"vat_rate": 18}, "vat_rate 18 is not one of (0, 1, 10, 20)"),
    (INFO, {"preparing_day": 0}, "preparing_day 0 is not a whole number above 0"),
    (INFO, {"shipment_template": " "}, "shipment_template is missing"),
    (INFO, {"status": "Passive"}, "status 'Passive' is not one of ('Active', 'Suspended')"),
])
def test_each_rule_names_the_column_and_the_value(group, values, rule):
    assert rule in list(rules.problems(shop(**values), group).rule)


def test_a_good_row_breaks_no_rule():
    assert all(rules.problems(shop(), group).empty for group in (STOCK, PRICE, INFO))


def test_a_stock_code_listed_twice_is_held_back_whole():
    rows = pd.concat([shop(), shop(quantity=6), shop(quantity=7).rename(index={"SKU-1": "SKU-2"})])
    base = canonical(shop(quantity=1)).rename(index={"SKU-1": "SKU-2"})
    base["stock_failed_hash"] = np.array([None], dtype=object)

    plan = diff.plan(rows, base, (STOCK,), full_resync=False)

    assert plan.entries["price-stock-update"] == [{"stockCode": "SKU-2", "quantity": 7}]
    assert list(plan.errors.itertuples(index=False)) == [("SKU-1", "all", "stock_code appears 2 times in the "
                                                                          "products source")]
