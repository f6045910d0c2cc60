"""Listing new products through Airflow (dag.test()): the products run creates the shop's new products after the
scan, its sensor records N11's answers, and the Variable's ``product_create`` pauses creation alone."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, select

from devtools.sandbox import new_shop_products, shop_products
from include.shop_db import url_for
from include.tables import n11_product_creations, n11_product_source, n11_product_sync_errors, source_metadata
from tests.conftest import TEST_KEY
from tests.helpers.dags import PRICE_STOCK, run_products

pytestmark = pytest.mark.dags
CREATE = "/ms/product/tasks/product-create"


@pytest.fixture
def new_products_shop(store_env, sandbox):
    """The store shop1 with the demo's shop side plus the demo's new products (one with a barcode N11 has)."""
    def configure(**store):
        shop = store_env(**store)
        engine = create_engine(url_for(shop))
        source_metadata.create_all(engine)
        account = sandbox.state.account(TEST_KEY)
        taken = account.products[min(account.products)]["barcode"]
        with engine.begin() as conn:
            conn.execute(n11_product_source.insert(), shop_products(account, seed=7))
            conn.execute(n11_product_source.insert(), new_shop_products(taken_barcode=taken))
        return engine

    return configure


def outcomes(engine) -> dict[str, str]:
    with engine.connect() as conn:
        created = dict(conn.execute(select(n11_product_creations.c.stock_code, n11_product_creations.c.status)).all())
        local = conn.execute(select(n11_product_sync_errors.c.stock_code).where(
            n11_product_sync_errors.c.task_id == "local")).scalars().all()
    return {**created, **dict.fromkeys(local, "local")}


def test_a_products_run_lists_the_new_products_and_records_n11s_answers(new_products_shop, sandbox, logged):
    engine = new_products_shop()

    states = run_products()

    assert states["_run"] == "success" and states["create_products"] == "success"
    assert outcomes(engine) == {**{f"NEW-{n:04d}": "created" for n in range(1, 7)}, "NEW-0104": "failed",
                                "NEW-0101": "local", "NEW-0102": "local", "NEW-0103": "local"}
    account = sandbox.state.account(TEST_KEY)
    assert account.products["NEW-0001"]["status"] == "InApproval"
    out = "\n".join(logged)
    assert "new products: created 6, failed 1" in out and "NEW-0104 (N11 task" in out
    assert "calls price-stock-update 1, product-update 1, product-create 1; succeeded" in out
    assert "Bu barkod başka bir ürüne ait" in out
    [call] = sandbox.calls("POST", CREATE)
    assert len(call.body["payload"]["skus"]) == 7

    sandbox.clear_log()
    assert run_products()["_run"] == "success"
    assert sandbox.calls("POST", CREATE) == []  # created ones are linked now; the refused one is unchanged


def test_product_create_false_in_the_variable_pauses_creation_but_not_updates(new_products_shop, sandbox, logged):
    new_products_shop(variable='{"product_create": false}')

    states = run_products()

    assert states["_run"] == "success" and states["create_products"] == "success"
    assert sandbox.calls("POST", CREATE) == [] and sandbox.calls("POST", PRICE_STOCK) != []
    assert any("product creation is paused (product_create is false)" in line for line in logged)


def test_a_dry_run_lists_the_new_products_and_sends_nothing(new_products_shop, sandbox, logged):
    new_products_shop(update_type="stock")

    assert run_products(dry_run=True)["_run"] == "success"

    assert sandbox.calls("POST", CREATE) == []
    assert sum("dry run: would create" in line for line in logged) == 7
