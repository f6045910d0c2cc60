"""The comparable form, the store's price and stock rules, and N11's payload rules, on small frames (no database,
no HTTP)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from include.products import desired, diff, rules
from include.products.groups import CONTENT, INFO, PRICE, STOCK
from include.products.values import canonical, changed, price, storable
from include.settings import StoreConfig

GOOD = {"quantity": 5, "list_price": Decimal("100.00"), "sale_price": Decimal("90.00"), "currency": "TL",
        "description": "<p>Güzel</p>", "vat_rate": 20, "preparing_day": 2, "shipment_template": "Standart",
        "status": "Active"}


STORE = StoreConfig(slug="shop1", name="Test Mağaza", start_date=date(2026, 1, 1))


def shop(**values) -> pd.DataFrame:
    return pd.DataFrame([{**GOOD, **values}], index=pd.Index(["SKU-1"], name="stock_code"))


def problems(group, frame: pd.DataFrame, stock_buffer: int = 0, markup: float = 0.0) -> list[str]:
    return list(rules.problems(frame, desired.values(frame, stock_buffer, markup), group, markup).rule)


def test_values_from_any_driver_compare_equal():
    decimals = shop(list_price=Decimal("1999.90"), quantity=Decimal("5"))
    floats = shop(list_price=1999.9, quantity=5.0)
    assert not any(changed(canonical(decimals), canonical(floats), group).any()
                   for group in (STOCK, PRICE, INFO, CONTENT))
    assert changed(canonical(shop(description="<p>güzel</p>")), canonical(shop()), CONTENT).all()
    assert not changed(canonical(shop(currency=None)), canonical(shop(currency=None)), PRICE).any()


def test_prices_leave_with_exactly_two_decimals():
    assert [str(price(cents)) for cents in canonical(shop(list_price=1999.9, sale_price=10))[
        ["list_price", "sale_price"]].iloc[0]] == ["1999.90", "10.00"]


@pytest.mark.parametrize(("given", "sent"), [
    (Decimal("99.999"), "100.00"), (Decimal("99.995"), "100.00"), (99.995, "100.00"), (Decimal("99.994"), "99.99"),
    (Decimal("10.005"), "10.01"), (0.125, "0.13"), (Decimal("1999.9"), "1999.90"),
])
def test_more_than_two_decimals_are_rounded_half_up_to_kurus(given, sent):
    assert str(price(canonical(shop(list_price=given)).list_price.iloc[0])) == sent


@pytest.mark.parametrize("spelling", ["TRY", "try", " TRY ", "TL"])
def test_try_means_tl(spelling):
    assert canonical(shop(currency=spelling)).currency.iloc[0] == "TL"
    assert problems(PRICE, shop(currency=spelling)) == []


@pytest.mark.parametrize(("quantity", "buffer", "sent"), [(10, 3, 10 - 3), (2, 3, 0), (-4, 0, 0), (7, 0, 7)])
def test_the_stock_buffer_is_subtracted_with_a_floor_of_zero(quantity, buffer, sent):
    assert desired.values(shop(quantity=quantity), buffer, 0).quantity.iloc[0] == sent


@pytest.mark.parametrize(("markup", "list_kurus", "sale_kurus"), [
    (10, 11000, 9900), (-12.5, 8750, 7875), (0, 10000, 9000), (7.777, 10778, 9700),
])
def test_the_price_markup_applies_to_list_and_sale_price_rounded_to_kurus(markup, list_kurus, sale_kurus):
    wanted = desired.values(shop(), 0, markup)
    assert (wanted.list_price.iloc[0], wanted.sale_price.iloc[0]) == (list_kurus, sale_kurus)


def test_a_markup_that_makes_a_price_zero_is_a_local_error_naming_the_value():
    cheap = shop(list_price=Decimal("0.01"), sale_price=Decimal("0.01"))
    assert problems(PRICE, cheap, markup=-60) == [
        "list_price 0.01 (after price_markup_percent -60: 0.00) is not above 0",
        "sale_price 0.01 (after price_markup_percent -60: 0.00) is not above 0"]
    assert problems(PRICE, cheap) == []


@pytest.mark.parametrize(("group", "values", "rule"), [
    (STOCK, {"quantity": "çok"}, "quantity is missing or not a number: 'çok'"),
    (STOCK, {"quantity": 2.5}, "quantity 2.5 is not a whole number"),
    (STOCK, {"quantity": 1_000_000}, "quantity 1000000 is outside 0..999999"),
    (STOCK, {"quantity": 10**12}, "quantity 1000000000000 is outside 0..999999"),
    (STOCK, {"quantity": float("inf")}, "quantity inf is outside 0..999999"),
    (PRICE, {"sale_price": Decimal("-1.00"), "list_price": Decimal("-1.00")}, "sale_price -1.00 is negative"),
    (PRICE, {"sale_price": Decimal("0.00"), "list_price": Decimal("0.00")}, "sale_price 0.00 is not above 0"),
    (PRICE, {"sale_price": float("nan")}, "sale_price is missing or not a number: nan"),
    (PRICE, {"list_price": float("inf")}, "list_price inf is not a finite number"),
    (PRICE, {"list_price": Decimal("1E+13")}, "list_price 1E+13 is above 999999999999.99"),
    (PRICE, {"sale_price": Decimal("120.00")}, "sale_price 120.00 is above list_price 100.00"),
    (PRICE, {"currency": "GBP"}, "currency 'GBP' is not one of ('TL', 'USD', 'EUR')"),
    (CONTENT, {"description": None}, "description is missing"),
    (CONTENT, {"description": "x" * 30_001}, "description has 30001 characters; N11 takes at most 30000"),
    (INFO, {"vat_rate": 18}, "vat_rate 18 is not one of (0, 1, 10, 20)"),
    (INFO, {"preparing_day": 0}, "preparing_day 0 is not a whole number above 0"),
    (INFO, {"preparing_day": 10**12}, "preparing_day 1000000000000 is above 2147483647"),
    (INFO, {"shipment_template": " "}, "shipment_template is missing"),
    (INFO, {"shipment_template": "K" * 101}, "shipment_template has 101 characters; at most 100"),
    (INFO, {"status": "Passive"}, "status 'Passive' is not one of ('Active', 'Suspended')"),
])
def test_each_rule_names_the_column_and_the_value(group, values, rule):
    assert rule in problems(group, shop(**values))


def test_a_good_row_breaks_no_rule():
    assert all(problems(group, shop()) == [] for group in (STOCK, PRICE, INFO, CONTENT))


def test_a_stock_code_too_long_for_n11_and_the_tables_is_refused_naming_it():
    code = "S" * 101
    [rule] = list(rules.overlong_codes(["SKU-1", code]).rule)
    assert rule == f"stock_code {code!r} has 101 characters; N11 takes at most 100"


def test_n11_values_the_tables_cannot_hold_are_read_as_unknown():
    n11 = canonical(shop(quantity=10**12, list_price=Decimal("1E+13"), currency="TLTL"))
    kept = storable(n11)
    assert np.isnan(kept.quantity.iloc[0]) and np.isnan(kept.list_price.iloc[0]) and kept.currency.iloc[0] is None
    assert kept.sale_price.iloc[0] == 9000


def plan_rows(frame: pd.DataFrame, live: pd.DataFrame) -> pd.DataFrame:
    """Plan rows as ``source.read_plan_rows`` gives them: the shop's columns beside N11's live ones."""
    rows = frame[["quantity"]].copy()
    rows["n11_quantity"] = live.quantity.reindex(frame.index).to_numpy()
    rows["stock_failed_hash"] = None
    return rows


def test_a_stock_code_listed_twice_is_held_back_whole():
    rows = pd.concat([shop(), shop(quantity=6), shop(quantity=7).rename(index={"SKU-1": "SKU-2"})])
    live = shop(quantity=1).rename(index={"SKU-1": "SKU-2"})

    plan = diff.plan([plan_rows(rows, live)], (STOCK,), False, STORE, refused=rules.repeated_codes(list(rows.index)))

    assert plan.entries["price-stock-update"] == [{"stockCode": "SKU-2", "quantity": 7}]
    assert list(plan.errors.itertuples(index=False)) == [("SKU-1", "all", "stock_code appears 2 times in the "
                                                                          "products source")]
