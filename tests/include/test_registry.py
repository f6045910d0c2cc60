"""The store registry: valid entries become StoreConfigs, a broken entry is reported without hiding the others."""

from __future__ import annotations

from datetime import date

import pytest
import yaml

from include.registry import RegistryError, StoreConfig, load_registry, parse_store

VALID = {"slug": "magaza_1", "name": "Mağaza 1", "start_date": "2026-03-01"}


def write(tmp_path, document) -> object:
    path = tmp_path / "stores.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    return path


def test_defaults_follow_the_design():
    store = parse_store(VALID)
    assert store.n11_conn_id == "n11_magaza_1"
    assert store.shop_conn_id == "shop_db"
    assert (store.active, store.order_sync, store.product_sync, store.update_type) == (True, True, True, "all")
    assert store.orders_dag_id == "n11_magaza_1_orders"
    assert store.products_dag_id == "n11_magaza_1_products"
    assert store.variable_name == "n11_store_magaza_1"
    assert store.start_date == date(2026, 3, 1)


def test_round_trips_through_the_task_argument_form():
    store = parse_store({**VALID, "update_type": "stock", "order_sender": "SELLER"})
    assert StoreConfig.from_dict(store.as_dict()) == store


@pytest.mark.parametrize(("field", "value", "expected"), [
    ("slug", "Mağaza-1", "field 'slug' must match"),
    ("update_type", "prices", "field 'update_type' must be one of"),
    ("active", "yes", "field 'active' must be true or false"),
    ("orders_schedule", "every hour", "field 'orders_schedule' must be a cron expression"),
    ("n11_conn_id", "bad id!", "field 'n11_conn_id' must be an Airflow connection id"),
    ("start_date", "01.03.2026", "field 'start_date' must be a date"),
    ("order_sender", "BOTH", "field 'order_sender' must be one of"),
    ("colour", "red", "unknown field(s) colour"),
])
def test_a_bad_field_is_named_with_its_value(field, value, expected):
    with pytest.raises(ValueError, match=expected.replace("(", r"\(").replace(")", r"\)")) as err:
        parse_store({**VALID, field: value})
    assert repr(value) in str(err.value) or field == "colour"


def test_required_fields():
    for field in ("slug", "name", "start_date"):
        with pytest.raises(ValueError, match=f"field '{field}' is required"):
            parse_store({k: v for k, v in VALID.items() if k != field})


def test_one_broken_entry_costs_only_that_store(tmp_path):
    path = write(tmp_path, {"stores": [
        VALID,
        {**VALID, "slug": "magaza_2", "update_type": "fiyat"},
        {**VALID, "slug": "magaza_3"},
        {**VALID},  # duplicate slug
        {"name": "no slug", "start_date": "2026-01-01"},
    ]})
    registry = load_registry(path)
    assert [s.slug for s in registry.stores] == ["magaza_1", "magaza_3"]
    messages = {e.dag_id: e.message for e in registry.errors}
    assert set(messages) == {"n11_registry_error_2_magaza_2", "n11_registry_error_4_magaza_1",
                             "n11_registry_error_5"}
    assert "store 'magaza_2' (entry 2)" in messages["n11_registry_error_2_magaza_2"]
    assert "update_type" in messages["n11_registry_error_2_magaza_2"]
    assert "'fiyat'" in messages["n11_registry_error_2_magaza_2"]
    assert "must be unique" in messages["n11_registry_error_4_magaza_1"]
    assert "field 'slug' is required" in messages["n11_registry_error_5"]


def test_defaults_section_applies_to_every_store(tmp_path):
    path = write(tmp_path, {"defaults": {"shop_conn_id": "shop_pg", "update_type": "stock"},
                            "stores": [VALID, {**VALID, "slug": "other", "update_type": "price"}]})
    stores = load_registry(path).stores
    assert [(s.shop_conn_id, s.update_type) for s in stores] == [("shop_pg", "stock"), ("shop_pg", "price")]


@pytest.mark.parametrize("content", ["stores: [unclosed", "just text", "stores: {a: 1}"])
def test_an_unreadable_file_is_one_clear_error(tmp_path, content):
    path = tmp_path / "stores.yaml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(RegistryError, match=str(path)):
        load_registry(path)


def test_the_file_can_be_chosen_with_an_environment_variable(tmp_path, monkeypatch):
    monkeypatch.setenv("N11_STORES_FILE", str(write(tmp_path, {"stores": [VALID]})))
    assert [s.slug for s in load_registry().stores] == ["magaza_1"]


def test_the_shipped_registry_is_valid():
    registry = load_registry()
    assert registry.errors == [] and [s.slug for s in registry.stores] == ["demo"]
