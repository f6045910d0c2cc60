"""The store registry: valid entries become StoreConfigs, a broken entry is reported without hiding the others."""

from __future__ import annotations

import json
import re
import time
import tracemalloc
from datetime import date
from decimal import Decimal

import pytest
import yaml

from include.registry import RegistryError, load_registry, load_registry_or_error, parse_store
from include.settings import StoreConfig

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
    ("slug", "Mağaza-1", "field 'slug' must be made of a-z, 0-9 and _"),
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


# Values a shop table cannot hold, or an Airflow DAG id, are refused with the limit (issue 14).
@pytest.mark.parametrize(("field", "value", "limit"), [
    ("slug", "s" * 65, "at most 64 characters"),
    ("name", "N" * 256, "1 to 255 characters"),
    ("name", "", "1 to 255 characters"),
    ("store_url", "https://www.n11.com/" + "m" * 481, "at most 500 characters"),
    ("store_url", "www.n11.com/magaza", "http(s) address"),
    ("products_source", "t" * 129, "at most 128 characters"),
    ("products_source", "products; DROP TABLE n11_orders", "a table or view name"),
    ("products_source", "a.b.c", "optionally schema.table"),
    ("pool_slots", 17, "a whole number from 1 to 16"),
    ("pool_slots", True, "a whole number from 1 to 16"),
    ("order_window_overlap_hours", float("nan"), "a number from 0 to 24"),
])
def test_a_value_beyond_its_limit_is_refused_with_the_limit(field, value, limit):
    with pytest.raises(ValueError) as err:
        parse_store({**VALID, field: value})
    message = str(err.value)
    assert f"field {field!r} must be" in message and limit in message
    assert len(message) < 400


def test_a_schema_qualified_products_source_is_accepted():
    assert parse_store({**VALID, "products_source": "shop.v_n11_products"}).products_source == "shop.v_n11_products"


@pytest.mark.parametrize(("text", "problem"), [
    ("2026-02-30", "a real date like 2026-01-31"),
    ("0001-01-01", "a date from 2024-11-01 (N11 serves no older orders) to 2100-12-31"),
    ("2024-10-31", "a date from 2024-11-01 (N11 serves no older orders) to 2100-12-31"),
    ("2101-01-01", "a date from 2024-11-01 (N11 serves no older orders) to 2100-12-31"),
    ("20260301", "a date like 2026-01-31"),
    ("2026-01-01T10:00:00", "a date like 2026-01-31"),
])
def test_an_impossible_or_out_of_range_start_date_costs_only_its_store(tmp_path, text, problem):
    path = tmp_path / "stores.yaml"
    path.write_text(f"stores:\n  - {{slug: good, name: Good, start_date: 2026-01-01}}\n"
                    f"  - {{slug: bad, name: Bad, start_date: {text}}}\n", encoding="utf-8")
    registry = load_registry(path)
    assert [s.slug for s in registry.stores] == ["good"]
    [error] = registry.errors
    assert error.dag_id == "n11_registry_error_2_bad"
    assert f"store 'bad' (entry 2): field 'start_date' must be {problem}, got " in error.message
    assert text in error.message


def test_the_first_day_n11_serves_is_a_valid_start():
    assert parse_store({**VALID, "start_date": "2024-11-01"}).start_date == date(2024, 11, 1)


@pytest.mark.parametrize(("schedule", "problem"), [
    ("0 * * * * *", "a cron expression of exactly 5 fields (minute hour day month weekday); a sixth field "
                    "would mean seconds, and runs less than a minute apart are refused"),
    ("* * * * * *", "a cron expression of exactly 5 fields"),
    ("0 0 1 1 * 2026 1", "a cron expression of exactly 5 fields"),
    ("0 0 *", "a cron expression of exactly 5 fields"),
    ("@reboot", "a cron expression or one of the presets @hourly, @daily"),
    ("@every 5s", "a cron expression or one of the presets"),
    ("0 0 31 2 *", "a cron expression that fires (this one matches no date)"),
    ("H * * * *", "a cron expression of 5 fields"),
    ("61 * * * *", "a cron expression of 5 fields"),
    ("0 0 * * 5L", "a cron expression of 5 fields"),
    (15, "a cron expression of 5 fields or a preset like @hourly"),
    ("* " * 60, "a cron expression of 5 fields or a preset like @hourly"),
])
def test_a_schedule_airflow_would_misread_or_never_run_is_refused(schedule, problem):
    for field in ("orders_schedule", "products_schedule"):
        with pytest.raises(ValueError) as err:
            parse_store({**VALID, field: schedule})
        assert f"field {field!r} must be {problem}" in str(err.value)


@pytest.mark.parametrize("schedule", ["*/15 * * * *", "* * * * *", "0 0 * * *", "30 2 * * 1-5", "0 0 L * *",
                                      "@hourly", "@daily", "@weekly", "@monthly", "@quarterly", "@yearly"])
def test_five_field_crons_and_airflows_presets_are_accepted(schedule):
    assert parse_store({**VALID, "orders_schedule": schedule}).orders_schedule == schedule


def test_the_new_settings_default_to_the_shops_current_behaviour():
    store = parse_store(VALID)
    assert store.orders_schedule == "*/15 * * * *"
    assert (store.stock_buffer, store.price_markup_percent, store.product_create, store.auto_approve_orders,
            store.notify) == (0, Decimal(0), True, False, None)


def test_every_setting_round_trips_through_json_exactly():
    store = parse_store({**VALID, "stock_buffer": 2, "price_markup_percent": 12.345, "product_create": False,
                         "auto_approve_orders": True, "order_window_overlap_hours": 2,
                         "notify": {"email": ["ops@shop.com.tr"], "slack_conn_id": "slack_ops"}})
    as_json = json.loads(json.dumps(store.as_dict()))
    assert as_json["price_markup_percent"] == "12.345"
    assert as_json["notify"] == {"email": ["ops@shop.com.tr"], "slack_conn_id": "slack_ops"}
    back = StoreConfig.from_dict(as_json)
    assert back == store and back.price_markup_percent == Decimal("12.345")


@pytest.mark.parametrize(("field", "value", "expected"), [
    ("price_markup_percent", -100, "field 'price_markup_percent' must be a percentage above -100"),
    ("price_markup_percent", "-250", "a price must stay positive"),
    ("price_markup_percent", "nan", "field 'price_markup_percent' must be a percentage"),
    ("price_markup_percent", True, "field 'price_markup_percent' must be a number, not true or false"),
    ("price_markup_percent", "1.00001", "with at most 4 decimals"),
    ("stock_buffer", -1, "field 'stock_buffer' must be a whole number from 0 to 1000000"),
    ("stock_buffer", 1.5, "field 'stock_buffer' must be a whole number"),
    ("stock_buffer", "5", "field 'stock_buffer' must be a whole number"),
    ("product_create", "no", "field 'product_create' must be true or false"),
    ("auto_approve_orders", 1, "field 'auto_approve_orders' must be true or false"),
    ("notify", ["ops@shop.com.tr"], "field 'notify' must be a mapping with email"),
    ("notify", {"email": "ops@shop.com.tr"}, "field 'notify.email' must be a list of at most 20 e-mail"),
    ("notify", {"email": ["ops@shop.com.tr", "ops"]}, "field 'notify.email' must be a list"),
    ("notify", {"email": ["o@s.tr"] * 21}, "field 'notify.email' must be a list of at most 20"),
    ("notify", {"slack_conn_id": "slack ops!"}, "field 'notify.slack_conn_id' must be an Airflow connection id"),
    ("notify", {"teams": "x"}, "field 'notify.teams' is unknown"),
])
def test_the_new_settings_refuse_bad_values(field, value, expected):
    with pytest.raises(ValueError, match=re.escape(expected)):
        parse_store({**VALID, field: value})


def test_a_markup_just_above_minus_100_keeps_prices_positive():
    assert parse_store({**VALID, "price_markup_percent": "-99.99"}).price_markup_percent == Decimal("-99.99")


def test_a_huge_value_is_shown_bounded():
    with pytest.raises(ValueError) as err:
        parse_store({**VALID, "name": ["N" * 1_000_000] * 1000})
    message = str(err.value)
    assert "field 'name' must be text of 1 to 255 characters, got [" in message
    assert len(message) < 250


def test_unknown_fields_are_listed_bounded(tmp_path):
    path = tmp_path / "stores.yaml"
    path.write_text("stores:\n  - {slug: s, name: S, start_date: 2026-01-01, 1: one, "
                    + ", ".join(f"{'k' * 1000}{i}: x" for i in range(50)) + "}\n", encoding="utf-8")
    [error] = load_registry(path).errors
    assert error.message.startswith("store 's' (entry 1): unknown field(s) 1, kkk")
    assert "and 46 more; known: slug, name" in error.message and len(error.message) <= 1000


def test_an_integer_too_long_to_convert_costs_only_its_store(tmp_path):
    path = tmp_path / "stores.yaml"
    path.write_text(f"stores:\n  - {{slug: s, name: S, start_date: 2026-01-01, pool_slots: {'9' * 5000}}}\n"
                    "  - {slug: t, name: T, start_date: 2026-01-01}\n", encoding="utf-8")
    registry = load_registry(path)
    assert [s.slug for s in registry.stores] == ["t"]
    assert "store 's' (entry 1): field 'pool_slots' must be a whole number from 1 to 16, got '999" in \
        registry.errors[0].message


def alias_bomb(field: str) -> str:
    """A registry whose entry ``bomb`` has, under ``field``, 9 nested levels of 9 aliases: expanded, the
    last level would hold 9**9 (387 million) strings; the file is under 600 bytes."""
    levels = ['["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
              *("[" + ",".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 9))]
    name = [] if field == "name" else ["    name: Bomb"]
    return "\n".join(["stores:", "  - {slug: good, name: Good, start_date: 2026-01-01}",
                      "  - slug: bomb", *name, "    start_date: 2026-01-01", f"    {field}:",
                      *(f"      - &a{i} {level}" for i, level in enumerate(levels)), ""])


@pytest.mark.parametrize(("field", "problem"), [
    ("name", "field 'name' must be text of 1 to 255 characters, got [["),
    ("notify", "field 'notify' must be a mapping with email"),
    ("colour", "unknown field(s) colour"),
])
def test_a_yaml_alias_bomb_loads_small_and_costs_only_its_store(tmp_path, field, problem):
    text = alias_bomb(field)
    path = tmp_path / "stores.yaml"
    path.write_text(text, encoding="utf-8")
    assert len(text.encode()) < 600
    tracemalloc.start()
    started = time.perf_counter()
    try:
        registry = load_registry(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 5_000_000 and time.perf_counter() - started < 1
    assert [s.slug for s in registry.stores] == ["good"]
    [error] = registry.errors
    assert error.message.startswith(f"store 'bomb' (entry 2): {problem}")
    assert len(error.message) < 1000


def test_yaml_nested_deeper_than_libyaml_allows_is_one_clear_registry_error(tmp_path):
    path = tmp_path / "stores.yaml"
    path.write_text("stores:\n  - {slug: s, name: " + "[" * 100_000 + "]" * 100_000 + "}\n", encoding="utf-8")
    with pytest.raises(RegistryError, match="cannot be read: .* exceeded maximum nesting depth") as err:
        load_registry(path)
    assert len(str(err.value)) < 1000 and "\n" not in str(err.value)


def test_yaml_nested_just_within_the_limit_costs_only_its_store(tmp_path):
    path = tmp_path / "stores.yaml"
    path.write_text("stores:\n  - {slug: good, name: Good, start_date: 2026-01-01}\n"
                    "  - {slug: deep, start_date: 2026-01-01, name: " + "[" * 990 + "]" * 990 + "}\n",
                    encoding="utf-8")
    registry = load_registry(path)
    assert [s.slug for s in registry.stores] == ["good"]
    assert registry.errors[0].message.startswith("store 'deep' (entry 2): field 'name' must be text")
    assert len(registry.errors[0].message) < 1000


@pytest.mark.parametrize(("defaults", "problem"), [
    (["shop_conn_id", "shop_pg"], "has 'defaults' that is not a mapping of settings, got ['shop_conn_id', 'shop_pg']"),
    ([], "has 'defaults' that is not a mapping of settings, got []"),
    ({"update_type": "fiyat"}, "has 'defaults' whose field 'update_type' must be one of all, product_info"),
    ({"orders_schedule": "* * * * * *"}, "has 'defaults' whose field 'orders_schedule' must be a cron expression"),
    ({"active": None}, "has 'defaults' whose field 'active' must be true or false, got None"),
    ({"slug": "x", "colour": "red"}, "has 'defaults' with field(s) colour, slug: unknown, or one store's own "
                                     "(slug, name, n11_conn_id)"),
])
def test_broken_defaults_stop_every_store_with_one_error_naming_defaults(tmp_path, defaults, problem):
    """Defaults apply to every store: building stores without them could point a store at the wrong shop
    database, so none is built; the DAG file shows the one registry error instead."""
    path = write(tmp_path, {"defaults": defaults, "stores": [VALID]})
    with pytest.raises(RegistryError) as err:
        load_registry(path)
    assert problem in str(err.value) and str(path) in str(err.value)
    registry = load_registry_or_error(path)
    assert registry.stores == []
    assert [(e.dag_id, e.message) for e in registry.errors] == [("n11_registry_error", str(err.value))]


@pytest.mark.parametrize("content", ["\x00\x01 not yaml at all: [", "- a\n- b\n", "stores: [unclosed",
                                     "stores: [{slug: a, !!binary x: 1}]", "stores: !!int abc"])
def test_a_file_that_is_no_registry_becomes_one_error_not_an_exception(tmp_path, content):
    path = tmp_path / "stores.yaml"
    path.write_text(content, encoding="utf-8")
    [error] = load_registry_or_error(path).errors
    assert error.dag_id == "n11_registry_error"
    assert error.message.startswith(f"store registry {path} ") and "\n" not in error.message


def test_a_registry_file_over_10_mb_is_refused_unread(tmp_path):
    path = tmp_path / "stores.yaml"
    path.write_text("stores: []\n" + "#" * 10_000_001, encoding="utf-8")
    with pytest.raises(RegistryError, match="is larger than 10 MB"):
        load_registry(path)


def test_a_missing_file_is_one_error(tmp_path):
    [error] = load_registry_or_error(tmp_path / "nowhere.yaml").errors
    assert error.dag_id == "n11_registry_error" and "cannot be read" in error.message


def test_an_entry_with_several_problems_names_the_first_and_counts_the_rest():
    with pytest.raises(ValueError) as err:
        parse_store({**VALID, "active": "yes", "pool_slots": 0, "update_type": "x"})
    assert str(err.value) == ("field 'active' must be true or false, got 'yes' (2 more problem(s) in this entry)")
