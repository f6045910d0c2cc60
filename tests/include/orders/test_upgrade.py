"""A shop database the previous version made (its order tables, with rows) gains the new columns and the packages
table on the first run of this one, keeps every row, and the next loads work over it."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, insert, inspect, select

from include.clock import to_ms
from include.shop_db import create_tables, url_for
from include.tables import Money, Rate, StockCode, UtcDateTime, n11_order_lines, n11_orders
from tests.include.orders.conftest import MONTH_START, account_of, add_package, stored, sync

OLD = datetime(2026, 9, 1)


def previous_order_tables() -> MetaData:
    """``n11_orders`` and ``n11_order_lines`` as the previous version defined them."""
    old = MetaData()
    Table("n11_orders", old,
          Column("store", String(64), primary_key=True), Column("order_number", String(32), primary_key=True),
          Column("status", String(32), nullable=False), Column("customer_id", String(40)),
          Column("customer_name", String(255)), Column("customer_email", String(255)),
          Column("billing_city", String(100)), Column("shipping_city", String(100)), Column("total_amount", Money),
          Column("total_discount_amount", Money), Column("invoice_total", Money),
          Column("cargo_provider", String(100)), Column("cargo_tracking_number", String(100)),
          Column("created_at", UtcDateTime), Column("last_modified", UtcDateTime, nullable=False),
          Column("loaded_at", UtcDateTime, nullable=False))
    Table("n11_order_lines", old,
          Column("store", String(64), primary_key=True), Column("order_line_id", String(40), primary_key=True),
          Column("order_number", String(32), nullable=False, index=True), Column("package_id", String(40)),
          Column("status", String(32), nullable=False), Column("stock_code", StockCode, index=True),
          Column("product_id", String(40)), Column("product_name", String(500)),
          Column("quantity", Integer, nullable=False), Column("price", Money), Column("seller_discount", Money),
          Column("seller_coupon_discount", Money), Column("mall_discount", Money),
          Column("total_seller_discount_price", Money), Column("seller_invoice_amount", Money),
          Column("vat_rate", Rate), Column("commission_rate", Rate),
          Column("last_modified", UtcDateTime, nullable=False), Column("loaded_at", UtcDateTime, nullable=False))
    return old


def test_a_previous_shop_database_gains_the_order_columns_and_packages_table_keeping_every_row(
        shop_conn, month):
    engine = create_engine(url_for(shop_conn))
    old = previous_order_tables()
    old.create_all(engine)
    orders = [{"store": "shop1", "order_number": f"90000000{n:04d}", "status": "Delivered", "customer_id": "7",
               "customer_name": "Eski Müşteri", "billing_city": "Bursa", "shipping_city": "Bursa",
               "total_amount": 10, "invoice_total": 10, "total_discount_amount": 0, "last_modified": OLD,
               "loaded_at": OLD} for n in range(30)]
    lines = [{"store": "shop1", "order_line_id": str(700 + n), "order_number": f"90000000{n:04d}",
              "package_id": str(500 + n), "status": "Delivered", "quantity": 1, "price": 10,
              "seller_invoice_amount": 10, "last_modified": OLD, "loaded_at": OLD} for n in range(30)]
    with engine.begin() as conn:
        conn.execute(insert(old.tables["n11_orders"]), orders)
        conn.execute(insert(old.tables["n11_order_lines"]), lines)

    create_tables(engine)  # what the first run of this version does
    columns = {column["name"] for column in inspect(engine).get_columns("n11_orders")}
    assert {"shipping_address", "billing_gsm", "tc_id", "tax_office", "agreed_delivery_date", "sender"} <= columns
    assert "n11_order_packages" in inspect(engine).get_table_names()
    with engine.connect() as conn:
        kept_orders = conn.execute(select(n11_orders.c.order_number, n11_orders.c.customer_name,
                                          n11_orders.c.shipping_address)).all()
        kept_lines = conn.execute(select(n11_order_lines.c.order_line_id)).scalars().all()
    assert sorted(kept_orders) == [(row["order_number"], "Eski Müşteri", None) for row in orders]
    assert sorted(kept_lines) == sorted(row["order_line_id"] for row in lines)

    # The next runs load new orders beside the old rows.
    hour = MONTH_START + timedelta(days=5)
    add_package(account_of(month), "2000000000009", to_ms(hour))
    sync(month, engine, hour, hour + timedelta(hours=1))
    found = stored(engine)["n11_orders"]
    assert "2000000000009" in found and {row["order_number"] for row in orders} <= set(found)
    engine.dispose()
