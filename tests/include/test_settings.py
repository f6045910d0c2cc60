"""The runtime override Variable n11_store_<slug>: applied at run time, refused with a clear message if bad."""

from __future__ import annotations

import pytest

from include.registry import parse_store
from include.settings import SettingsError, apply_override, orders_enabled, products_enabled

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
