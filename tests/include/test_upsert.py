"""The bulk upsert on SQLite, PostgreSQL and MariaDB: idempotent, version-guarded, counted, in batches."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from include.shop_db import engine_for
from include.tables import n11_order_lines, n11_stores
from include.upsert import upsert

T0 = datetime(2026, 9, 1, 12, 0, 0, 123000)


def line_row(line_id: int, status: str = "Created", modified: datetime = T0) -> dict:
    return {"store": "shop1", "order_line_id": str(line_id), "order_number": "1000000000001", "package_id": "1",
            "status": status, "stock_code": "SKU-1", "product_id": "5", "product_name": "Kupa", "quantity": 1,
            "price": Decimal("10.00"), "seller_discount": None, "seller_coupon_discount": None, "mall_discount": None,
            "total_seller_discount_price": None, "seller_invoice_amount": Decimal("10.00"), "vat_rate": Decimal("20"),
            "commission_rate": Decimal("12.50"), "last_modified": modified, "loaded_at": T0}


@pytest.fixture
def shop(shop_conn):
    return engine_for(shop_conn)


def statuses(shop) -> dict[str, tuple[str, datetime]]:
    with shop.connect() as conn:
        query = select(n11_order_lines.c.order_line_id, n11_order_lines.c.status, n11_order_lines.c.last_modified)
        return {line_id: (status, modified) for line_id, status, modified in conn.execute(query)}


def put(shop, rows, **options):
    with shop.begin() as conn:
        return upsert(conn, n11_order_lines, rows, version="last_modified", **options)


def test_new_rows_are_inserted_and_the_same_rows_again_are_counted_unchanged_and_not_sent(shop):
    first = put(shop, [line_row(1), line_row(2)])
    assert (first.new, first.updated, first.unchanged) == (2, 0, 0)
    again = put(shop, [line_row(1), line_row(2)])
    assert (again.new, again.updated, again.unchanged, again.written) == (0, 0, 2, [])
    assert statuses(shop) == {"1": ("Created", T0), "2": ("Created", T0)}


def test_a_newer_version_updates_the_row_and_an_older_one_never_moves_it_back(shop):
    later = T0 + timedelta(milliseconds=1)
    put(shop, [line_row(1)])
    newer = put(shop, [line_row(1, "Shipped", later)])
    assert (newer.new, newer.updated, newer.unchanged) == (0, 1, 0)
    older = put(shop, [line_row(1, "Cancelled", T0)])
    assert (older.updated, older.unchanged) == (0, 1)
    assert statuses(shop) == {"1": ("Shipped", later)}


def test_a_key_given_twice_in_one_call_keeps_its_newest_row_in_any_order(shop):
    later = T0 + timedelta(seconds=1)
    result = put(shop, [line_row(1, "Shipped", later), line_row(1, "Created", T0), line_row(2)])
    assert (result.new, len(result.written)) == (2, 2)
    assert statuses(shop)["1"] == ("Shipped", later)


def test_rows_over_many_batches_are_all_written_and_counted(shop):
    put(shop, [line_row(n) for n in range(5)])
    later = T0 + timedelta(hours=1)
    result = put(shop, [line_row(n, "Shipped", later) for n in range(3)] + [line_row(n) for n in range(3, 12)],
                 batch_rows=4)
    assert (result.new, result.updated, result.unchanged) == (7, 3, 2)
    assert len(statuses(shop)) == 12 and statuses(shop)["2"] == ("Shipped", later)


def test_without_a_version_the_given_columns_overwrite_and_the_others_keep_their_values(shop):
    row = {"store": "shop1", "name": "Mağaza", "active": True, "order_sync": True, "product_sync": True,
           "update_type": "all", "settings_updated_at": T0}
    with shop.begin() as conn:
        upsert(conn, n11_stores, [row])
        conn.execute(n11_stores.update().values(api_status="ok"))
        result = upsert(conn, n11_stores, [row | {"update_type": "stock"}])
    assert (result.new, result.updated) == (0, 1)
    with shop.connect() as conn:
        stored = conn.execute(select(n11_stores.c.update_type, n11_stores.c.api_status)).one()
    assert tuple(stored) == ("stock", "ok")
