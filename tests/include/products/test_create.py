"""Listing new products on N11: candidates, attribute resolution, local rules, batches sent once, switches.

Runs against the sandbox's product-create (real HTTP) and a real shop database; ``harness`` covers SQLite,
PostgreSQL and MariaDB, ``quick_harness`` SQLite.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from decimal import Decimal

import pytest
from sqlalchemy import Column, Integer, MetaData, Numeric, String, Table, Text, select, update

from devtools.sandbox import FaultConfig
from include.clock import utcnow
from include.products import categories, links, push, results
from include.products.categories import Attribute, Category
from include.products.create import plan_creation, resolve
from include.products.groups import PRICE_STOCK, PRODUCT_CREATE
from include.products.source import COLUMNS
from include.shop_db import engine_for
from include.tables import n11_categories, n11_product_creations, n11_product_push_batches, n11_product_source
from tests.conftest import TEST_KEY
from tests.include.products.conftest import Harness, mirror

CREATE = "/ms/product/tasks/product-create"
HEADPHONES = {"Bağlantı Türü": "Bluetooth", "Garanti Süresi": "2 Yıl", "Renk": "Siyah"}


def new_row(code: str, **values) -> dict:
    """A shop product not on N11, ready to be created in the sandbox's "Kulaklık" (1301)."""
    row = {"stock_code": code, "title": "Anadolu Kablosuz Bluetooth Kulaklık", "description": "<p>Kulaklık</p>",
           "list_price": Decimal("899.90"), "sale_price": Decimal("849.90"), "currency": "TL", "quantity": 12,
           "vat_rate": 20, "preparing_day": 2, "shipment_template": "Standart Kargo", "status": "Active",
           "n11_category_id": "1301", "brand": "Anadolu", "barcode": None,
           "image_urls": json.dumps(["https://img.example.com/a-1.jpg", "https://img.example.com/a-2.jpg"]),
           "attributes": json.dumps(HEADPHONES, ensure_ascii=False), "product_main_id": "PM-A"}
    return {**row, **values}


def add(harness, *rows: dict) -> None:
    with harness.engine.begin() as conn:
        conn.execute(n11_product_source.insert(), list(rows))


def run_create(harness, store=None, dry_run: bool = False) -> dict:
    """Scan, plan and send the new products, then collect N11's answers, as one products run does."""
    harness.sandbox.clear_log()
    harness.runs += 1
    store = store or harness.store()
    links.refresh(harness.engine, harness.client, store)
    counts, refs = plan_creation(harness.engine, harness.client, store, harness.run_id, dry_run)
    push.send_all(harness.engine, harness.client, store.slug, harness.run_id, refs)
    while not results.collect(harness.engine, harness.client, store.slug, harness.run_id):
        pass
    return counts


def created_skus(harness) -> list[dict]:
    return [sku for call in harness.sandbox.calls("POST", CREATE) for sku in call.body["payload"]["skus"]]


def creation(harness, code: str) -> dict | None:
    table = n11_product_creations
    with harness.engine.connect() as conn:
        row = conn.execute(select(table).where(table.c.stock_code == code)).mappings().one_or_none()
    return dict(row) if row else None


def test_a_shop_product_missing_on_n11_with_a_category_is_created_with_n11s_ids(harness):
    add(harness, new_row("NEW-1"))

    counts = run_create(harness)

    [sku] = created_skus(harness)
    assert counts["sending"] == 1 and counts["calls"] == 1
    assert sku["categoryId"] == 1301 and sku["title"] == "Anadolu Kablosuz Bluetooth Kulaklık"
    assert sku["images"] == [{"url": "https://img.example.com/a-1.jpg", "order": 1},
                             {"url": "https://img.example.com/a-2.jpg", "order": 2}]
    assert sku["attributes"] == [{"id": 1, "valueId": 1001}, {"id": 2, "valueId": 2001}, {"id": 6, "valueId": 6004},
                                 {"id": 8, "valueId": 8002}]  # Marka (from the brand column), Renk, Garanti, Bağlantı
    assert sku["listPrice"] == Decimal("899.90") and sku["salePrice"] == Decimal("849.90")
    assert sku["productMainId"] == "PM-A" and sku["vatRate"] == 20 and sku["quantity"] == 12
    assert harness.n11("NEW-1")["status"] == "InApproval"
    assert creation(harness, "NEW-1")["status"] == "created"


def test_a_shop_product_without_a_category_stays_unlinked(quick_harness):
    add(quick_harness, new_row("SHOP-1", n11_category_id=None))

    counts = run_create(quick_harness)

    assert counts["candidates"] == 0 and quick_harness.sandbox.calls("POST", CREATE) == []
    assert quick_harness.sandbox.calls("GET", "/cdn/categories") == []  # no candidate: no category call either


def test_a_source_without_the_creation_columns_keeps_working(sqlite_shop, sandbox):
    shop_side = MetaData()
    legacy = Table("legacy_products", shop_side, Column("stock_code", String(100), primary_key=True),
                   Column("title", String(500)), Column("description", Text), Column("list_price", Numeric(14, 2)),
                   Column("sale_price", Numeric(14, 2)), Column("currency", String(3)), Column("quantity", Integer),
                   Column("vat_rate", Integer), Column("preparing_day", Integer),
                   Column("shipment_template", String(100)), Column("status", String(16)))
    assert [c.name for c in legacy.columns] == list(COLUMNS)
    harness = Harness(engine_for(sqlite_shop), sandbox, mirror(sandbox.state.account(TEST_KEY)), legacy)
    code = harness.plain()[0]
    harness.change(code, quantity=harness.n11(code)["quantity"] + 3)

    counts = run_create(harness)
    harness.sync("stock")

    assert counts == {"no_category_column": True}
    assert [sku["stockCode"] for sku in harness.sent(PRICE_STOCK)] == [code]


def test_the_brand_goes_as_the_attribute_marka_and_a_listed_value_as_its_id():
    known = {"marka": Attribute(1, "Marka", True, False, True, {"anadolu": 1001}, ("Anadolu",))}
    category = Category("1301", "Kulaklık", "Elektronik > Kulaklık", True, True)

    assert resolve(known, {"Marka": " ANADOLU "}, category) == ([{"id": 1, "valueId": 1001}], [])
    assert resolve(known, {"marka": "Yeni Marka"}, category) == ([{"id": 1, "customValue": "Yeni Marka"}], [])


@pytest.mark.parametrize(("written", "listed"), [
    ("SİYAH", "Siyah"), ("  kırmızı ", "Kırmızı"), ("KIRMIZI", "Kırmızı"), ("ışık", "IŞIK"), ("istanbul", "İstanbul"),
])
def test_a_value_matches_n11s_ignoring_case_with_turkish_i_and_surrounding_spaces(written, listed):
    fold = categories.fold
    known = {"renk": Attribute(2, "Renk", False, True, False, {fold(listed): 2001}, (listed,))}

    entries, problems = resolve(known, {"Renk": written}, Category("1", "Kılıf", "Kılıf", True, True))

    assert entries == [{"id": 2, "valueId": 2001}] and problems == []


def test_dotted_and_dotless_i_stay_different_letters():
    assert categories.fold("KIRMIZI") == "kırmızı" != categories.fold("kirmizi")


@pytest.mark.parametrize(("written", "found"), [("SIYAH", 2001), ("kirmizi", 2002), ("KIRİK", None)])
def test_a_value_upper_cased_the_english_way_matches_only_when_it_names_one_value(written, found):
    fold = categories.fold
    known = {"renk": Attribute(2, "Renk", False, True, False,
                               {fold("Siyah"): 2001, fold("Kırmızı"): 2002, fold("Kırık"): 2003, fold("Kirik"): 2004})}

    assert known["renk"].value_id(written) == found


def test_an_unlisted_value_goes_as_a_custom_value_only_where_n11_allows_one():
    known = {"materyal": Attribute(7, "Materyal", False, False, True, {"pamuk": 7001}, ("Pamuk",)),
             "renk": Attribute(2, "Renk", False, True, False, {"siyah": 2001}, ("Siyah",))}
    category = Category("2102", "Kupa & Bardak", "Ev & Yaşam > Mutfak > Kupa & Bardak", True, True)

    entries, problems = resolve(known, {"Materyal": "Seramik", "Renk": "Turkuaz"}, category)

    assert entries == [{"id": 7, "customValue": "Seramik"}]
    assert problems == ["attribute 'Renk' = 'Turkuaz' is not one of N11's values for category 2102 (Kupa & Bardak), "
                        "and N11 takes no other value for it; N11's values: Siyah"]


LOCAL_RULES = [
    ({"attributes": json.dumps({"Renk": "Siyah", "Garanti Süresi": "2 Yıl"})},
     "category 1301 (Kulaklık) requires attribute 'Bağlantı Türü'"),
    ({"brand": None}, "requires attribute 'Marka'; give it in the brand column or attributes"),
    ({"attributes": json.dumps({**HEADPHONES, "Renk": "Turkuaz"})},
     "attribute 'Renk' = 'Turkuaz' is not one of N11's values"),
    ({"attributes": json.dumps({**HEADPHONES, "Su Geçirmezlik": "IPX4"})},
     "attribute 'Su Geçirmezlik' is not an attribute of category 1301"),
    ({"attributes": "Renk=Siyah"}, "attributes is not a JSON object"),
    ({"n11_category_id": "1300"}, "n11_category_id 1300 (Elektronik > Ses ve Görüntü) has subcategories"),
    ({"n11_category_id": "987654"}, "n11_category_id 987654 is not an N11 category"),
    ({"title": "Kulaklık"}, "title 'Kulaklık' has 8 characters; N11 wants at least 15"),
    ({"image_urls": None}, "image_urls is empty; N11 needs at least one image"),
    ({"image_urls": "[]"}, "image_urls is empty; N11 needs at least one image"),
    ({"image_urls": json.dumps(["http://img.example.com/a.jpg"])}, "is not an https URL"),
    ({"vat_rate": 18}, "is not one of (0, 1, 10, 20)"),
    ({"list_price": Decimal("99.90")}, "is above list_price"),
]


@pytest.mark.parametrize(("change", "reason"), LOCAL_RULES, ids=[r for _, r in LOCAL_RULES])
def test_a_row_breaking_a_rule_is_a_local_error_with_its_reason_and_is_not_sent(quick_harness, change, reason):
    add(quick_harness, new_row("NEW-BAD", **change), new_row("NEW-GOOD"))

    counts = run_create(quick_harness)

    [error] = quick_harness.errors(stock_code="NEW-BAD")
    assert error["kind"] == "local" and error["groups"] == "create" and error["endpoint"] == "product-create"
    assert any(reason in text for text in json.loads(error["reasons"])), error["reasons"]
    assert [sku["stockCode"] for sku in created_skus(quick_harness)] == ["NEW-GOOD"]
    assert counts["local_errors"] == 1


def test_a_fixed_row_loses_its_local_error_and_is_created(quick_harness):
    add(quick_harness, new_row("NEW-1", title="Kısa"))
    run_create(quick_harness)
    quick_harness.change("NEW-1", title="Kısa Ama Artık Yeterince Uzun Başlık")

    run_create(quick_harness)

    assert quick_harness.errors(stock_code="NEW-1") == []
    assert creation(quick_harness, "NEW-1")["status"] == "created"


def test_candidates_go_in_batches_of_at_most_1000(quick_harness):
    add(quick_harness, *(new_row(f"NEW-{i:04d}", product_main_id=None) for i in range(1001)))

    counts = run_create(quick_harness)

    assert [len(call.body["payload"]["skus"]) for call in quick_harness.sandbox.calls("POST", CREATE)] == [1000, 1]
    assert counts["calls"] == 2 and sum(p["stockCode"].startswith("NEW-") for p in
                                        quick_harness.account.products.values()) == 1001


def test_a_batch_is_recorded_with_n11s_task_id_and_a_retried_send_does_not_repeat_it(quick_harness):
    harness = quick_harness
    add(harness, new_row("NEW-1"))
    links.refresh(harness.engine, harness.client, harness.store())
    [ref] = plan_creation(harness.engine, harness.client, harness.store(), "run-x", False)[1]

    first = push.send(harness.engine, harness.client, "shop1", "run-x", ref)
    again = push.send(harness.engine, harness.client, "shop1", "run-x", ref)

    with harness.engine.connect() as conn:
        stored = conn.execute(select(n11_product_push_batches.c.task_id)).scalar_one()
    assert first == again == stored and len(harness.sandbox.calls("POST", CREATE)) == 1


def test_a_sku_n11_is_still_working_on_is_not_planned_again(quick_harness):
    harness = quick_harness
    add(harness, new_row("NEW-1"))
    links.refresh(harness.engine, harness.client, harness.store())
    refs = plan_creation(harness.engine, harness.client, harness.store(), "run-a", False)[1]
    push.send_all(harness.engine, harness.client, "shop1", "run-a", refs)  # N11's answer not collected yet

    counts, again = plan_creation(harness.engine, harness.client, harness.store(), "run-b", False)

    assert again == [] and counts["waiting"] == 1


def test_a_refused_product_is_not_sent_again_until_its_row_changes(quick_harness):
    harness = quick_harness
    taken = harness.n11(harness.plain()[0])["barcode"]
    add(harness, new_row("NEW-1", barcode=taken))

    run_create(harness)
    [refusal] = harness.errors(stock_code="NEW-1")
    unchanged = run_create(harness)
    sent_unchanged = created_skus(harness)
    harness.change("NEW-1", barcode="8690000000017")
    changed = run_create(harness)

    assert refusal["kind"] == "fail" and "Bu barkod başka bir ürüne ait" in refusal["reasons"]
    assert sent_unchanged == [] and unchanged["held_back"] == 1
    assert [sku["stockCode"] for sku in created_skus(harness)] == ["NEW-1"] and changed["sending"] == 1
    assert creation(harness, "NEW-1")["status"] == "created"


def test_a_whole_batch_n11_rejects_is_split_until_the_refused_product_is_alone(quick_harness):
    harness = quick_harness
    add(harness, new_row("NEW-1"), new_row("NEW-2"))
    links.refresh(harness.engine, harness.client, harness.store())
    refs = plan_creation(harness.engine, harness.client, harness.store(), "run-r", False)[1]
    with harness.engine.begin() as conn:  # what N11 would refuse although the shop's rules let it through
        entries = push.loads(conn.execute(select(n11_product_push_batches.c.payload)).scalar_one())
        entries[0]["title"] = "Kısa"
        conn.execute(update(n11_product_push_batches).values(payload=push.dumps(entries)))

    push.send_all(harness.engine, harness.client, "shop1", "run-r", refs)
    assert any(results.collect(harness.engine, harness.client, "shop1", "run-r") for _ in range(50))

    assert [(e["stock_code"], e["kind"]) for e in harness.errors()] == [("NEW-1", "reject")]
    assert creation(harness, "NEW-1")["status"] == "rejected" and creation(harness, "NEW-2")["status"] == "created"


def test_a_created_product_is_linked_by_the_next_scan_and_then_updated_like_any_other(harness):
    add(harness, new_row("NEW-1"))
    run_create(harness)
    harness.account.approve("NEW-1")  # N11 approved the new product
    harness.change("NEW-1", quantity=40)

    second = run_create(harness)
    harness.sync("all")

    assert second["candidates"] == 0 and harness.sandbox.calls("POST", CREATE) == []
    assert [sku["quantity"] for sku in harness.sent(PRICE_STOCK) if sku["stockCode"] == "NEW-1"] == [40]
    assert harness.n11("NEW-1")["quantity"] == 40


def test_product_create_false_pauses_creation_alone(quick_harness):
    harness = quick_harness
    add(harness, new_row("NEW-1"))
    code = harness.plain()[0]
    harness.change(code, quantity=harness.n11(code)["quantity"] + 1)
    paused = dataclasses.replace(harness.store(), product_create=False)

    counts = run_create(harness, paused)
    harness.sync("stock", {"product_create": False})  # the whole run, as the DAG runs it

    assert counts == {"paused": True} and harness.sandbox.calls("POST", CREATE) == []
    assert [sku["stockCode"] for sku in harness.sent(PRICE_STOCK)] == [code]


def test_the_update_type_does_not_limit_creation(quick_harness):
    add(quick_harness, new_row("NEW-1"))

    run_create(quick_harness, quick_harness.store("stock"))

    [sku] = created_skus(quick_harness)
    assert sku["listPrice"] == Decimal("899.90") and sku["description"] == "<p>Kulaklık</p>"


def test_a_dry_run_lists_the_resolved_payloads_and_sends_nothing(quick_harness, caplog):
    add(quick_harness, new_row("NEW-1"), new_row("NEW-2", title="Kısa"))

    with caplog.at_level(logging.INFO, logger="include"):
        counts = run_create(quick_harness, dry_run=True)

    assert quick_harness.sandbox.calls("POST", CREATE) == [] and counts["sending"] == 1
    [listed] = [r.getMessage() for r in caplog.records if "dry run: would create" in r.getMessage()]
    assert '"stockCode": "NEW-1"' in listed and '{"id": 8, "valueId": 8002}' in listed
    assert any("not created NEW-2: title 'Kısa'" in r.getMessage() for r in caplog.records)
    assert quick_harness.errors() == [] and creation(quick_harness, "NEW-1") is None


def test_each_categorys_attributes_are_read_from_n11_once_per_run(quick_harness):
    add(quick_harness, *(new_row(f"NEW-{i}") for i in range(5)),
        new_row("NEW-T", n11_category_id="3102", attributes=json.dumps({"Beden": "M"})))

    run_create(quick_harness)

    paths = [call.path for call in quick_harness.sandbox.requests if call.path.startswith("/cdn/category/")]
    assert sorted(paths) == ["/cdn/category/1301/attribute", "/cdn/category/3102/attribute"]



def test_a_category_whose_attributes_n11_refuses_holds_its_products_back_and_is_asked_again(quick_harness):
    harness = quick_harness
    add(harness, new_row("NEW-1", n11_category_id="9999"))
    categories.refresh_tree(harness.engine, harness.client)
    with harness.engine.begin() as conn:  # a leaf in the cached tree that N11 no longer knows
        conn.execute(n11_categories.insert().values(category_id="9999", name="Eski Kategori", path="Eski Kategori",
                                                    is_leaf=True, refreshed_at=utcnow()))

    first = run_create(harness)
    run_create(harness)

    [error] = harness.errors(stock_code="NEW-1")
    assert "N11 did not list the attributes of category 9999 (Eski Kategori) yet" in error["reasons"]
    assert first["sending"] == 0 and harness.sandbox.calls("POST", CREATE) == []
    assert len(harness.sandbox.calls("GET", "/cdn/category/9999/attribute")) == 1  # asked again by the second run


def test_a_batch_sent_without_a_receipt_is_not_planned_again_for_a_day(quick_harness):
    harness = quick_harness
    add(harness, new_row("NEW-1"))
    harness.sandbox.faults = FaultConfig(rate=1.0, kinds=("truncated",), paths=(CREATE,))
    run_create(harness)  # N11 took the task, but the answer was cut
    harness.sandbox.faults = FaultConfig()
    harness.account.products.pop("NEW-1", None)  # and the scan does not show the product (yet)

    counts = run_create(harness)

    assert counts["waiting"] == 1 and harness.sandbox.calls("POST", CREATE) == []


def test_saving_the_new_products_keeps_the_runs_unsent_update_batches(quick_harness):
    with quick_harness.engine.begin() as conn:
        push.save(conn, "shop1", "run-s", {PRICE_STOCK: [{"stockCode": "S1", "quantity": 1}]})
        push.save(conn, "shop1", "run-s", {PRODUCT_CREATE: [new_row("NEW-1")]})
        endpoints = conn.execute(select(n11_product_push_batches.c.endpoint)).scalars().all()

    assert sorted(endpoints) == [PRICE_STOCK, PRODUCT_CREATE]
