"""The shop database tables, defined once with SQLAlchemy Core for SQLite, PostgreSQL and MySQL/MariaDB.

Conventions: every table has a ``store`` column (the registry slug); N11 ids are strings (their widths grow);
money is an exact decimal; times are naive UTC with millisecond precision (MySQL's DATETIME keeps whole
seconds unless told otherwise).
"""

from __future__ import annotations

from sqlalchemy import Boolean, Column, DateTime, Integer, MetaData, Numeric, String, Table, Text
from sqlalchemy.dialects import mysql

metadata = MetaData()  # the tables this project owns, created if missing
source_metadata = MetaData()  # the shop's side: a real shop brings its own view

UtcDateTime = DateTime().with_variant(mysql.DATETIME(fsp=3), "mysql", "mariadb")
Money = Numeric(14, 2)
Rate = Numeric(7, 2)


def _store() -> Column:
    return Column("store", String(64), primary_key=True)


n11_stores = Table(
    "n11_stores", metadata,
    _store(),
    Column("name", String(255), nullable=False),
    Column("store_url", String(500)),
    Column("active", Boolean, nullable=False),
    Column("order_sync", Boolean, nullable=False),
    Column("product_sync", Boolean, nullable=False),
    Column("update_type", String(32), nullable=False),
    Column("api_status", String(32)),
    Column("api_message", String(500)),
    Column("api_checked_at", UtcDateTime),
    Column("settings_updated_at", UtcDateTime, nullable=False),
)

n11_orders = Table(
    "n11_orders", metadata,
    _store(),
    Column("order_number", String(32), primary_key=True),
    Column("status", String(32), nullable=False),
    Column("customer_id", String(40)),
    Column("customer_name", String(255)),
    Column("customer_email", String(255)),
    Column("billing_city", String(100)),
    Column("shipping_city", String(100)),
    Column("total_amount", Money),
    Column("total_discount_amount", Money),
    Column("invoice_total", Money),
    Column("cargo_provider", String(100)),
    Column("cargo_tracking_number", String(100)),
    Column("created_at", UtcDateTime),
    Column("last_modified", UtcDateTime, nullable=False),
    Column("loaded_at", UtcDateTime, nullable=False),
)

n11_order_lines = Table(
    "n11_order_lines", metadata,
    _store(),
    Column("order_line_id", String(40), primary_key=True),
    Column("order_number", String(32), nullable=False, index=True),
    Column("package_id", String(40)),
    Column("status", String(32), nullable=False),
    Column("stock_code", String(100), index=True),
    Column("product_id", String(40)),
    Column("product_name", String(500)),
    Column("quantity", Integer, nullable=False),
    Column("price", Money),
    Column("seller_discount", Money),
    Column("seller_coupon_discount", Money),
    Column("mall_discount", Money),
    Column("total_seller_discount_price", Money),
    Column("seller_invoice_amount", Money),
    Column("vat_rate", Rate),
    Column("commission_rate", Rate),
    Column("last_modified", UtcDateTime, nullable=False),
    Column("loaded_at", UtcDateTime, nullable=False),
)

# The shop's products as the sync reads them. A real shop points the store setting ``products_source`` at a
# view over its own schema; this default table is what the demo and the tests fill.
n11_product_source = Table(
    "n11_product_source", source_metadata,
    Column("stock_code", String(100), primary_key=True),
    Column("title", String(500)),
    Column("description", Text),
    Column("list_price", Money),
    Column("sale_price", Money),
    Column("currency", String(3)),
    Column("quantity", Integer),
    Column("vat_rate", Integer),
    Column("preparing_day", Integer),
    Column("shipment_template", String(100)),
    Column("status", String(16)),
)
