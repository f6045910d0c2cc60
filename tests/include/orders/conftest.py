"""Fixtures for the order sync: a month of sandbox orders, an N11 client without throttling, table snapshots."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import Engine, select

from devtools.sandbox import Account, N11Sandbox, SandboxState, generate_account
from devtools.sandbox.rules import canonical_status
from include.clock import from_ms, to_ms
from include.orders.sync import SyncSummary, sync_orders
from include.registry import StoreConfig
from include.shop_db import engine_for
from include.tables import n11_order_lines, n11_orders
from n11.client import ClientSettings, N11Client
from tests.conftest import TEST_KEY, TEST_SECRET

LOADED = datetime(2026, 11, 27, 12)
MODIFIED_MS = 1788220800000  # 2026-09-01 00:00 UTC


def wire_line(line_id=880000001, **fields) -> dict:
    """An order line as the client hands it over (JSON numbers arrive as floats)."""
    return {"orderLineId": line_id, "productId": 540001234, "productName": "Lale Şık Porselen Kahve Kupası",
            "stockCode": "SKU-00007", "quantity": 2, "price": 149.9, "sellerDiscount": 15.0,
            "sellerCouponDiscount": 0.0, "totalSellerDiscountPrice": 15.0, "mallDiscount": 0.0,
            "sellerInvoiceAmount": 284.8, "vatRate": 20, "commissionRate": 12.5,
            "orderItemLineItemStatusName": "Created", **fields}


def wire_package(package_id=300000011, order_number="1000000000123", modified_ms=MODIFIED_MS,
                 status="Created", lines=None, **fields) -> dict:
    """A shipment package as the client hands it over: a company invoice for a person, one line by default."""
    return {"id": package_id, "orderNumber": order_number, "shipmentPackageStatus": status,
            "customerId": 70000123, "customerfullName": "Ayşe Yılmaz", "customerEmail": "ayse.yilmaz7@example.com",
            "billingAddress": {"fullName": "Yılmaz Bilişim Ltd. Şti.", "city": "İzmir"},
            "shippingAddress": {"fullName": "Ayşe Yılmaz", "city": "İstanbul"},
            "cargoProviderName": "Aras Kargo", "cargoTrackingNumber": "123456789012", "totalAmount": 299.8,
            "totalDiscountAmount": 15.0, "lastModifiedDate": modified_ms,
            "packageHistories": [{"createdDate": modified_ms - 3_600_000, "status": "Created"}],
            "lines": [wire_line()] if lines is None else lines, **fields}


MONTH_END = datetime(2026, 10, 1, tzinfo=UTC)
MONTH_START = MONTH_END - timedelta(days=30)
STORE = StoreConfig(slug="shop1", name="Test Mağaza", start_date=date(2026, 9, 1))
FAST = ClientSettings(requests_per_minute=600_000, max_attempts=2, backoff_seconds=0.01)


def month_account() -> Account:
    """A month of orders (a few a day) in every status, with split packages, warehouse orders, pick-up-point
    orders and stray status spellings."""
    return generate_account(seed=11, api_key=TEST_KEY, api_secret=TEST_SECRET, products=40, days=30,
                            end=MONTH_END, packages_per_day=3)


@pytest.fixture
def start_sandbox() -> Iterator[Callable[..., N11Sandbox]]:
    """Start a sandbox over an account (a fresh month by default) with SandboxState options; stopped after."""
    started: list[N11Sandbox] = []

    def start(account: Account | None = None, **options) -> N11Sandbox:
        started.append(N11Sandbox(SandboxState([account or month_account()], **options)).start())
        return started[-1]

    yield start
    for sandbox in started:
        sandbox.stop()


@pytest.fixture
def month(start_sandbox) -> N11Sandbox:
    return start_sandbox()


@pytest.fixture
def shop(shop_conn) -> Engine:
    """The shop database (SQLite, PostgreSQL, MariaDB) with its tables."""
    return engine_for(shop_conn)


def account_of(sandbox: N11Sandbox) -> Account:
    return sandbox.state.account(TEST_KEY)


def sync(sandbox: N11Sandbox, shop: Engine, start: datetime, end: datetime, store: StoreConfig = STORE,
         now: datetime | None = None) -> SyncSummary:
    client = N11Client(TEST_KEY, TEST_SECRET, sandbox.url, FAST)
    try:
        return sync_orders(client, shop, store, start, end, now=now)
    finally:
        client.close()


def sync_every(sandbox: N11Sandbox, shop: Engine, step: timedelta, store: StoreConfig) -> None:
    """Consecutive runs of length ``step`` over the month, as a schedule or a backfill makes them."""
    start = MONTH_START
    while start < MONTH_END:
        sync(sandbox, shop, start, start + step, store)
        start += step


def snapshot(shop: Engine, store: str = STORE.slug, *, loaded_at: bool = False) -> dict[str, list[dict]]:
    """Both order tables of a store, keyed and sorted; without ``loaded_at`` (and ``store``) unless asked."""
    left_out = {"store"} | (set() if loaded_at else {"loaded_at"})
    tables = {}
    with shop.connect() as conn:
        for table in (n11_orders, n11_order_lines):
            columns = [c for c in table.columns if c.name not in left_out]
            query = select(*columns).where(table.c.store == store).order_by(*table.primary_key.columns)
            tables[table.name] = [dict(row) for row in conn.execute(query).mappings()]
    return tables


ORDER_FIELDS = ("status", "customer_name", "last_modified", "total_amount", "invoice_total",
                "total_discount_amount")
LINE_FIELDS = ("order_number", "package_id", "status", "stock_code", "quantity", "price", "seller_invoice_amount",
               "last_modified")


def expected(sandbox: N11Sandbox, start: datetime = MONTH_START, end: datetime = MONTH_END) -> dict[str, dict]:
    """What the sandbox holds for a lastModified range, in the terms of the shop tables (``ORDER_FIELDS``,
    ``LINE_FIELDS``): an order has the status and buyer of its newest package (a pick-up-point order names
    the buyer only in the billing address) and amounts summed over all its packages; a line appears once,
    under its live package (``expected_orders`` leaves split parents out)."""
    packages = account_of(sandbox).expected_orders(to_ms(start), to_ms(end))
    orders: dict[str, dict] = {}
    lines: dict[str, dict] = {}
    for package in sorted(packages, key=lambda p: p["lastModifiedDate"]):
        zero = {"total_amount": 0, "invoice_total": 0, "total_discount_amount": 0}
        before = orders.get(package["orderNumber"], zero)
        orders[package["orderNumber"]] = {
            "status": canonical_status(package["shipmentPackageStatus"]),
            "customer_name": package["customerfullName"] or package["billingAddress"]["fullName"],
            "last_modified": from_ms(package["lastModifiedDate"]),
            "total_amount": before["total_amount"] + package["totalAmount"],
            "invoice_total": before["invoice_total"] + sum(line["sellerInvoiceAmount"] for line in package["lines"]),
            "total_discount_amount": before["total_discount_amount"] + package["totalDiscountAmount"],
        }
        for line in package["lines"]:
            lines[str(line["orderLineId"])] = {
                "order_number": package["orderNumber"],
                "package_id": str(package["id"]),
                "status": canonical_status(line["orderItemLineItemStatusName"]),
                "stock_code": line["stockCode"],
                "quantity": line["quantity"],
                "price": line["price"],
                "seller_invoice_amount": line["sellerInvoiceAmount"],
                "last_modified": from_ms(package["lastModifiedDate"]),
            }
    return {"n11_orders": orders, "n11_order_lines": lines}


def stored(shop: Engine, store: str = STORE.slug) -> dict[str, dict]:
    """The shop tables in the shape of ``expected``."""
    tables = snapshot(shop, store)
    return {
        "n11_orders": {row["order_number"]: {k: row[k] for k in ORDER_FIELDS} for row in tables["n11_orders"]},
        "n11_order_lines": {row["order_line_id"]: {k: row[k] for k in LINE_FIELDS}
                            for row in tables["n11_order_lines"]},
    }


def add_package(account: Account, order_number: str, modified_ms: int, *, lines: int = 1, **fields) -> dict:
    """A new Delivered package of an order, modified at ``modified_ms``, with at least ``lines`` lines: a copy
    of a generated one with fresh ids."""
    with account.lock:
        template = copy.deepcopy(next(p for p in account.packages if len(p["lines"]) >= lines
                                      and canonical_status(p["shipmentPackageStatus"]) != "Unpacked"))
        next_id = max(int(p["id"]) for p in account.packages if p["id"] is not None) + 1
        next_line = max(int(line["orderLineId"]) for p in account.packages for line in p["lines"]) + 1
    for offset, line in enumerate(template["lines"]):
        line.update(orderLineId=next_line + offset, orderItemLineItemStatusName="Delivered")
    template.update({"id": next_id, "orderNumber": order_number, "lastModifiedDate": modified_ms,
                     "shipmentPackageStatus": "Delivered", "_created": modified_ms, "_sender": "SELLER",
                     "packageHistories": [{"createdDate": modified_ms, "status": "Created"}], **fields})
    account.add_package(template)
    return template
