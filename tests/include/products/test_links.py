"""Links: which shop SKUs exist on N11 (a full scan), and a baseline that starts from N11's values."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest
from sqlalchemy import select, text

from devtools.sandbox import shop_products
from include.products import links
from include.products.groups import PRICE_STOCK, PRODUCT_UPDATE, UPDATABLE_STATUSES
from include.products.run import RunOptions, plan_run
from include.products.source import SourceError
from include.tables import n11_product_links, n11_product_sync_state


def test_the_scan_links_shop_skus_found_on_n11_and_counts_the_rest(quick_harness):
    harness = quick_harness
    gone = harness.plain()[0]
    del harness.account.products[gone]  # the shop still lists it
    product = next(p for p in harness.account.products.values() if p["catalogId"] is not None)

    counts = links.refresh(harness.engine, harness.client, harness.store())

    products = harness.account.products.values()
    assert counts.linked == len(products) and counts.unlinked == 1 and counts.shop_skus == len(products) + 1
    assert counts.not_updatable == sum(p["status"] not in UPDATABLE_STATUSES for p in products)
    assert counts.seeded == len(products)
    assert [call.query["size"] for call in harness.sandbox.calls("GET", "/ms/product-query")] == ["250"]
    with harness.engine.connect() as conn:
        row = conn.execute(select(n11_product_links).where(
            n11_product_links.c.stock_code == product["stockCode"])).mappings().one()
    assert (row["n11_product_id"], row["n11_status"], row["sale_status"], row["catalog_id"]) == (
        str(product["n11ProductId"]), product["status"], product["saleStatus"], str(product["catalogId"]))


def test_only_updatable_linked_skus_are_sent(quick_harness):
    harness = quick_harness
    blocked = min(p["stockCode"] for p in harness.account.products.values() if p["status"] == "InApproval")
    suspended = harness.plain(status="Suspended")[0]
    gone = harness.plain()[0]
    del harness.account.products[gone]
    for code in (blocked, suspended, gone):
        harness.change(code, quantity=77)

    lines = harness.sync("stock")

    assert [entry["stockCode"] for entry in harness.sent(PRICE_STOCK)] == [suspended]
    assert "unlinked 1, not updatable" in lines[0]


def test_the_first_run_sends_real_differences_only(harness):
    """The shop's demo side differs from N11 for a few SKUs: only those go out, not the catalogue."""
    with harness.engine.begin() as conn:
        conn.execute(harness.source.delete())
        conn.execute(harness.source.insert(), shop_products(harness.account, seed=11))
    with harness.engine.connect() as conn:
        shop = {row.stock_code: row for row in conn.execute(select(harness.source))}
    updatable = {code for code, p in harness.account.products.items() if p["status"] in UPDATABLE_STATUSES}
    stock_changed = {code for code in updatable if shop[code].quantity != harness.n11(code)["quantity"]}
    price_changed = {code for code in updatable
                     if Decimal(shop[code].sale_price).quantize(Decimal("0.01")) != harness.n11(code)["salePrice"]}

    harness.sync("stock_and_price")

    sent = harness.sent(PRICE_STOCK)
    assert stock_changed and price_changed
    assert [entry["stockCode"] for entry in sent if "quantity" in entry] == sorted(stock_changed)
    assert [entry["stockCode"] for entry in sent if "salePrice" in entry] == sorted(price_changed)
    assert harness.calls(PRODUCT_UPDATE) == []


def test_a_sku_n11_approves_starts_from_n11s_values(quick_harness):
    """While in approval its baseline follows N11; once approved only real differences go out."""
    harness = quick_harness
    pending = min(p["stockCode"] for p in harness.account.products.values() if p["status"] == "InApproval")
    harness.sync("all")
    harness.n11(pending)["status"] = "Active"

    harness.sync("all")
    assert harness.writes() == 0

    harness.change(pending, description="<p>Onaylandı</p>")
    harness.sync("all")
    assert [entry["stockCode"] for entry in harness.sent(PRODUCT_UPDATE)] == [pending]


def test_a_sku_n11_no_longer_lists_loses_its_link_and_baseline(quick_harness):
    harness = quick_harness
    code = harness.plain()[0]
    harness.sync("all")
    del harness.account.products[code]

    harness.sync("all")

    with harness.engine.connect() as conn:
        for table in (n11_product_links, n11_product_sync_state):
            assert conn.execute(select(table).where(table.c.stock_code == code)).first() is None


def test_a_view_can_be_the_products_source(quick_harness):
    harness = quick_harness
    with harness.engine.begin() as conn:
        conn.execute(text("CREATE VIEW shop_products_view AS SELECT * FROM n11_product_source"))
    store = replace(harness.store(), products_source="shop_products_view")

    counts = links.refresh(harness.engine, harness.client, store)

    assert counts.linked == len(harness.account.products)


def test_a_missing_products_source_is_named(quick_harness):
    store = replace(quick_harness.store(), products_source="no_such_view")
    with pytest.raises(SourceError, match="products_source 'no_such_view' is neither a table nor a view"):
        links.refresh(quick_harness.engine, quick_harness.client, store)


def test_a_products_source_lacking_a_covered_column_names_it(quick_harness):
    """The scan needs only stock codes; the plan needs the columns of the groups the update type covers."""
    harness = quick_harness
    with harness.engine.begin() as conn:
        conn.execute(text("CREATE VIEW thin AS SELECT stock_code, title FROM n11_product_source"))
    store = replace(harness.store("stock"), products_source="thin")
    links.refresh(harness.engine, harness.client, store)

    with pytest.raises(SourceError, match=r"products_source 'thin' lacks the column\(s\) quantity; expected: "):
        plan_run(harness.engine, store, "run", RunOptions())
