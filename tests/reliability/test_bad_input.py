"""Bad input, one case per test: each fails or is held back with a message naming what is wrong, and costs
nothing else. Cases already specified elsewhere are listed in docs/RELIABILITY.md and not repeated here:
broken registry entry (tests/include/test_registry.py, tests/dags/test_dag_factory.py), a Variable with an unknown
update type or not JSON (tests/include/test_settings.py, tests/dags/test_gate_and_credentials.py), sale above list
and stock above 999999 (tests/include/products/test_changes.py), an N11 package with missing fields
(tests/include/orders/test_sync.py, test_transform.py), an unknown order status (test_transform.py)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import BigInteger, Column, Float, Integer, MetaData, String, Table, Text

from devtools.sandbox import FaultConfig, N11Sandbox, SandboxState
from include.orders.errors import OrderFetchError
from include.orders.windows import order_windows
from include.products import links
from include.products.groups import PRICE_STOCK
from include.shop_db import dispose_engines, engine_for
from tests.conftest import make_state
from tests.helpers.orders import (
    MONTH_END,
    MONTH_START,
    READING_IDS,
    READINGS,
    STORE,
    expected,
    month_account,
    stored,
)
from tests.helpers.products import Harness, mirror
from tests.helpers.reliability import FAULTY, Retried, order_intervals

DAY = timedelta(days=1)


@pytest.fixture
def harness(sqlite_shop):
    with N11Sandbox(make_state()).start() as sandbox:
        yield Harness(engine_for(sqlite_shop), sandbox)
    dispose_engines()


def test_a_negative_price_is_a_local_error_naming_the_sku_and_the_other_changes_go_out(harness):
    broken, fine = harness.plain(2)
    n11_price = harness.n11(broken)["salePrice"]
    harness.change(broken, sale_price=-5, list_price=-5)
    harness.change(fine, quantity=harness.n11(fine)["quantity"] + 1)

    harness.run("run-1", Retried())

    assert [entry["stockCode"] for entry in harness.sent(PRICE_STOCK)] == [fine]
    [error] = harness.errors(kind="local")
    assert error["stock_code"] == broken and "sale_price -5.0 is negative" in json.loads(error["reasons"])
    assert harness.n11(broken)["salePrice"] == n11_price  # nothing of it was sent


def test_a_shop_row_without_a_stock_code_is_counted_and_the_rest_goes_out(sqlite_shop):
    with N11Sandbox(make_state()).start() as sandbox:
        rows = mirror(sandbox.state.account("test-appkey"))
        rows.append({**rows[0], "stock_code": " "})
        harness = Harness(engine_for(sqlite_shop), sandbox, rows)
        code = harness.plain()[0]
        harness.change(code, quantity=harness.n11(code)["quantity"] + 2)
        counts = links.refresh(harness.engine, harness.client, harness.store())
        assert counts.no_stock_code == 1
        harness.run("run-1", Retried())
        assert [entry["stockCode"] for entry in harness.sent(PRICE_STOCK)] == [code]
        assert harness.n11(code)["quantity"] == harness.baseline(code)["quantity"]
    dispose_engines()


@pytest.mark.parametrize("reading", READINGS, ids=READING_IDS)
def test_an_n11_answer_in_html_fails_naming_store_window_and_status_and_writes_nothing(sqlite_shop, reading):
    with N11Sandbox(SandboxState([month_account()], order_date_filter=reading)).start() as sandbox:
        engine = engine_for(sqlite_shop)
        day = MONTH_START + 10 * DAY
        sandbox.faults = FaultConfig(rate=1.0, kinds=("503",), paths=("/rest/",))
        with pytest.raises(OrderFetchError) as failure:
            order_intervals(sandbox, engine, STORE, day, day + DAY, DAY, FAULTY)
        (window,) = order_windows(day, day + DAY, timedelta(hours=STORE.order_window_overlap_hours), MONTH_END)
        assert f"store 'shop1', window {window}: status Created page 0:" in str(failure.value)
        assert "HTTP 503: 503 Service Temporarily Unavailable" in str(failure.value)
        assert stored(engine) == {"n11_orders": {}, "n11_order_packages": {}, "n11_order_lines": {}}

        sandbox.faults = FaultConfig()
        order_intervals(sandbox, engine, STORE, day, day + DAY, DAY, FAULTY)
        assert stored(engine) == expected(sandbox, window.start, window.end)
    dispose_engines()


# A shop view wider than the shop tables: long stock codes, big quantities, float prices (NaN and infinity where the
# database can hold them).
WIDE = Table("shop_wide", MetaData(), Column("stock_code", String(200), primary_key=True),
             Column("title", String(500)), Column("description", Text), Column("list_price", Float),
             Column("sale_price", Float), Column("currency", String(3)), Column("quantity", BigInteger),
             Column("vat_rate", Integer), Column("preparing_day", Integer), Column("shipment_template", String(100)),
             Column("status", String(16)))


def test_shop_values_n11_or_the_shop_tables_cannot_hold_are_local_errors_of_their_skus_only(shop_conn):
    """Issue 14.5: never a raw DataError, never the other SKUs: each such row is a local error naming the store (the
    row's ``store``), the SKU, the field and the value."""
    with N11Sandbox(make_state()).start() as sandbox:
        rows = [{**row, "list_price": float(row["list_price"]), "sale_price": float(row["sale_price"])}
                for row in mirror(sandbox.state.account("test-appkey"))]
        long_code = "UZUN-" + "X" * 120
        rows.append({**rows[0], "stock_code": long_code})
        harness = Harness(engine_for(shop_conn), sandbox, rows, source=WIDE)
        huge, unpriced, fine = harness.plain(3)
        harness.change(huge, quantity=10**12)
        harness.change(unpriced, sale_price=float("nan") if shop_conn.conn_type != "mysql" else None)
        harness.change(fine, quantity=harness.n11(fine)["quantity"] + 1)

        lines = harness.run("run-1")

        reasons = {error["stock_code"]: json.loads(error["reasons"]) for error in harness.errors(kind="local")}
        assert reasons[huge] == ["quantity 1000000000000 is outside 0..999999"]
        assert reasons[unpriced] == ["sale_price is missing or not a number: nan"]  # MariaDB holds no NaN: NULL
        [cut] = [code for code in reasons if code.startswith("UZUN-")]
        assert len(cut) == 100 and reasons[cut] == [f"stock_code {long_code!r} has 125 characters; N11 takes at most "
                                                    "100"]
        assert all(error["store"] == "shop1" for error in harness.errors())
        assert harness.sent(PRICE_STOCK) == [{"stockCode": fine, "quantity": harness.n11(fine)["quantity"]}]
        assert "local errors 3" in lines[0]


def test_n11_values_the_shop_tables_cannot_hold_are_read_as_unknown_and_put_right(harness):
    code = harness.plain()[0]
    shop_quantity = harness.n11(code)["quantity"]
    harness.account.panel_edit(code, quantity=10**12, shipmentTemplate="Ş" * 300)

    harness.run("run-1", Retried())

    assert harness.sent(PRICE_STOCK) == [{"stockCode": code, "quantity": shop_quantity}]
    assert harness.n11(code)["quantity"] == shop_quantity
