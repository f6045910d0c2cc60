"""The runtime override Variable n11_store_<slug>: applied at run time, refused with a clear message if bad."""

from __future__ import annotations

import itertools
import re
from decimal import Decimal
from pathlib import Path

import pytest

from include.registry import parse_store
from include.settings import (
    FIELDS,
    OVERRIDABLE,
    SettingsError,
    StoreConfig,
    apply_override,
    orders_enabled,
    products_enabled,
    returns_enabled,
)

ROOT = Path(__file__).resolve().parents[2]

STORE = parse_store({"slug": "demo", "name": "Demo", "start_date": "2026-01-01"})


def test_no_variable_keeps_the_registry_settings():
    assert apply_override(STORE, None) == STORE
    assert apply_override(STORE, "  ") == STORE


def test_the_variable_overrides_the_four_switches():
    effective = apply_override(STORE, '{"active": false, "order_sync": false, "product_sync": false, '
                                      '"update_type": "stock"}')
    assert (effective.active, effective.order_sync, effective.product_sync, effective.update_type) == \
        (False, False, False, "stock")
    assert effective.slug == STORE.slug


def test_a_passive_store_stops_both_integrations():
    passive = apply_override(STORE, '{"active": false}')
    assert not orders_enabled(passive) and not products_enabled(passive)
    no_orders = apply_override(STORE, '{"order_sync": false}')
    assert not orders_enabled(no_orders) and products_enabled(no_orders)


def test_the_returns_follow_the_orders_switches_and_their_own():
    assert returns_enabled(STORE)
    for raw in ('{"active": false}', '{"order_sync": false}', '{"returns_sync": false}'):
        assert not returns_enabled(apply_override(STORE, raw)), raw
    no_returns = apply_override(STORE, '{"returns_sync": false}')
    assert orders_enabled(no_returns) and products_enabled(no_returns)


@pytest.mark.parametrize(("raw", "problem"), [
    ("{active: false}", "is not valid JSON"),
    ('["active"]', "must be a JSON object"),
    ('{"active": "no"}', "active='no'; it must be true or false"),
    ('{"update_type": "campaign"}', "update_type='campaign'; it must be one of"),
    ('{"slug": "other"}', "unknown key(s) slug"),
])
def test_a_bad_variable_names_itself_and_its_value(raw, problem):
    with pytest.raises(SettingsError) as err:
        apply_override(STORE, raw)
    message = str(err.value)
    assert "Airflow Variable 'n11_store_demo'" in message
    assert repr(raw) in message
    assert problem in message


def test_the_variable_overrides_the_price_stock_and_order_rules_too():
    effective = apply_override(STORE, '{"stock_buffer": 3, "price_markup_percent": 12.345, '
                                      '"product_create": false, "auto_approve_orders": true}')
    assert (effective.stock_buffer, effective.price_markup_percent, effective.product_create,
            effective.auto_approve_orders) == (3, Decimal("12.345"), False, True)


def test_a_json_markup_keeps_its_exact_decimal_digits():
    assert apply_override(STORE, '{"price_markup_percent": 0.1}').price_markup_percent == Decimal("0.1")
    assert str(apply_override(STORE, '{"price_markup_percent": -7.25}').as_dict()["price_markup_percent"]) == "-7.25"


@pytest.mark.parametrize(("raw", "problem"), [
    ('{"price_markup_percent": -100}', "has price_markup_percent=-100; it must be a percentage above -100 "
                                       "(a price must stay positive)"),
    ('{"price_markup_percent": "abc"}', "has price_markup_percent='abc'; it must be a percentage"),
    ('{"price_markup_percent": NaN}', "has price_markup_percent=nan; it must be a percentage"),
    ('{"price_markup_percent": true}', "has price_markup_percent=True; it must be a number, not true or false"),
    ('{"stock_buffer": 2.5}', "has stock_buffer=2.5; it must be a whole number from 0 to 1000000"),
    ('{"stock_buffer": -1}', "has stock_buffer=-1; it must be a whole number"),
    ('{"stock_buffer": "3"}', "has stock_buffer='3'; it must be a whole number"),
    ('{"product_create": 0}', "has product_create=0; it must be true or false"),
    ('{"auto_approve_orders": null}', "has auto_approve_orders=None; it must be true or false"),
    ('{"returns_sync": "off"}', "has returns_sync='off'; it must be true or false"),
    ('{"notify": {"email": ["a@b.c"]}}', "unknown key(s) notify; allowed: active, order_sync"),
    ('{"orders_schedule": "* * * * *"}', "unknown key(s) orders_schedule"),
])
def test_a_bad_new_key_names_the_variable_the_key_and_the_value(raw, problem):
    with pytest.raises(SettingsError) as err:
        apply_override(STORE, raw)
    assert "Airflow Variable 'n11_store_demo'" in str(err.value) and problem in str(err.value)


@pytest.mark.parametrize(("raw", "problem"), [
    ("[" * 100_000 + "]" * 100_000, "is longer than 10000 characters"),
    ("[" * 4_000 + "]" * 4_000, "is nested too deeply"),
    ('{"active": ' + "[" * 4_000 + "]" * 4_000 + "}", "is nested too deeply"),
    ('{"active": "' + "x" * 9_000 + '"}', "has active='xxxxxxxx"),
])
def test_a_huge_or_deep_variable_is_refused_in_one_bounded_line(raw, problem):
    with pytest.raises(SettingsError) as err:
        apply_override(STORE, raw)
    message = str(err.value)
    assert problem in message and "\n" not in message and len(message) < 600


def readme_settings() -> dict[str, tuple[str, str]]:
    """The README's registry table: field -> (default cell, Variable cell)."""
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    start = lines.index("| field | default | Variable | meaning |") + 2
    rows = {}
    for line in itertools.takewhile(lambda row: row.startswith("|"), lines[start:]):
        names, default, variable = (cell.strip() for cell in line.strip("|").split("|")[:3])
        rows.update({name: (default, variable) for name in re.findall(r"`([a-z0-9_]+)`", names)})
    return rows


def schema_default(name: str) -> str:
    info = StoreConfig.__pydantic_fields__[name]
    if info.is_required():
        return "required"
    value = info.get_default()
    if name == "n11_conn_id":
        return "`n11_<slug>`"  # filled in from the slug
    if value is None:
        return "none"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, float | Decimal):
        return f"`{value:g}`" if isinstance(value, float) else f"`{value}`"
    return f"`{value}`" if value != "" else '`""`'


def test_the_readme_table_lists_exactly_the_schemas_settings_with_their_defaults():
    table = readme_settings()
    assert list(table) == list(FIELDS)
    assert {name: default for name, (default, _) in table.items()} == {name: schema_default(name) for name in FIELDS}
    assert [name for name, (_, variable) in table.items() if variable == "yes"] == list(OVERRIDABLE)
