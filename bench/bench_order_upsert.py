"""Order upsert speed: 50,000 order lines of 10,000 orders (full addresses, one package each), beside a plain bulk
insert of the same rows.

For each database (SQLite in a temporary file; PostgreSQL and MariaDB on 127.0.0.1 when they answer), in the
same run and each on empty tables:
- plain insert: SQLAlchemy Core ``insert()`` with the list of rows into an empty table of the same schema;
- upsert: ``include.upsert.upsert`` of the rows into the empty ``n11_order_lines`` (what the orders task uses);
- re-upsert: the same rows again, all unchanged;
- window load: the whole ``load_window`` of the 10,000 orders (packages, orders, lines, then each order's status,
  cargo and amounts from its stored packages and lines) beside a plain insert of the same package, order and
  line rows.
Targets: upsert and window load within 2x of the plain insert; a re-upsert no slower than the first upsert.
Run with ``python -m bench order_upsert``.
"""

from __future__ import annotations

import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime
from pathlib import Path

from sqlalchemy import URL, Connection, Engine, Index, MetaData, Table, create_engine, insert, text
from sqlalchemy.exc import OperationalError

from include.orders.load import load_window
from include.orders.transform import WindowRows, package_rows
from include.tables import metadata, n11_order_lines, n11_order_packages, n11_orders
from include.upsert import upsert

ORDERS = 10_000
LINES_PER_ORDER = 5
REPEATS = 3  # each figure is the best of this many runs, to keep a noisy neighbour out of the ratio
STORE = "bench"
FIRST_MS = 1788220800000  # 2026-09-01 00:00 UTC
LOADED_AT = datetime(2026, 11, 27, 12)

_plain = MetaData()


def plain_copy(table: Table) -> Table:
    """The same columns, key and indexes under other names, for the plain insert to fill."""
    copy = Table(f"bench_plain_{table.name}", _plain, *(column._copy() for column in table.columns))
    for index in table.indexes:
        Index(f"{index.name}_plain", *(copy.c[column.name] for column in index.columns))
    return copy


PLAIN_LINES = plain_copy(n11_order_lines)
PLAIN_ORDERS = plain_copy(n11_orders)
PLAIN_PACKAGES = plain_copy(n11_order_packages)
ADDRESS = {"fullName": "Ayşe Yılmaz", "address": "Caferağa Mah. Moda Cad. No:42 D:7", "neighborhood": "Caferağa",
           "district": "Kadıköy", "city": "İstanbul", "postalCode": "34710", "gsm": "05321234567",
           "tcId": "12345678901", "taxId": None, "taxHouse": None, "invoiceType": 1}


def window_rows() -> WindowRows:
    """The rows of 10,000 generated packages of five lines each, made by the orders task's own transform."""
    packages = []
    for order in range(ORDERS):
        lines = [{"orderLineId": 880_000_000 + order * LINES_PER_ORDER + n, "productId": 540_000_000 + n,
                  "productName": "Boğaziçi Şık Porselen Kahve Kupası Lacivert", "stockCode": f"SKU-{n:05d}",
                  "quantity": 1 + n % 3, "price": 149.9, "sellerDiscount": 15.0, "sellerCouponDiscount": 0.0,
                  "totalSellerDiscountPrice": 15.0, "mallDiscount": 0.0, "sellerInvoiceAmount": 134.9,
                  "vatRate": 20, "commissionRate": 12.5, "orderItemLineItemStatusName": "Delivered"}
                 for n in range(LINES_PER_ORDER)]
        modified = FIRST_MS + order * 60_000
        packages.append({
            "id": 300_000_000 + order, "orderNumber": str(1_000_000_000_000 + order),
            "shipmentPackageStatus": "Delivered", "customerId": 70_000_000 + order,
            "customerfullName": "Ayşe Yılmaz", "customerEmail": "ayse.yilmaz@example.com",
            "billingAddress": ADDRESS, "shippingAddress": ADDRESS, "deliveryAddressType": None,
            "cargoProviderName": "Yurtiçi Kargo", "cargoTrackingNumber": str(800_000_000_000 + order),
            "cargoTrackingLink": f"https://kargotakip.example.com/{800_000_000_000 + order}", "shipmentMethod": 1,
            "sender": "SELLER", "agreedDeliveryDate": modified + 3 * 86_400_000,
            "lastModifiedDate": modified, "packageHistories": [{"createdDate": modified, "status": "Created"}],
            "lines": lines,
        })
    return package_rows(STORE, packages, LOADED_AT)


@contextmanager
def sqlite_engine() -> Iterator[Engine]:
    with tempfile.TemporaryDirectory() as folder:
        engine = create_engine(URL.create("sqlite", database=str(Path(folder) / "bench.db")))
        yield engine
        engine.dispose()


@contextmanager
def server_engine(admin: URL) -> Iterator[Engine | None]:
    """A fresh database on a local server, dropped afterwards; None when the server does not answer."""
    name = f"n11_bench_{uuid.uuid4().hex[:8]}"
    quote = '"' if admin.get_backend_name() == "postgresql" else "`"
    server = create_engine(admin, isolation_level="AUTOCOMMIT")
    try:
        with server.connect() as conn:
            conn.execute(text(f"CREATE DATABASE {quote}{name}{quote}"))
    except OperationalError:
        server.dispose()
        yield None
        return
    engine = create_engine(admin.set(database=name))
    try:
        yield engine
    finally:
        engine.dispose()
        with server.connect() as conn:
            force = " WITH (FORCE)" if quote == '"' else ""
            conn.execute(text(f"DROP DATABASE {quote}{name}{quote}{force}"))
        server.dispose()


DATABASES: dict[str, Callable[[], AbstractContextManager[Engine | None]]] = {
    "sqlite": sqlite_engine,
    "postgresql": lambda: server_engine(URL.create("postgresql+psycopg2", "postgres", host="127.0.0.1",
                                                   database="postgres")),
    "mariadb": lambda: server_engine(URL.create("mysql+pymysql", "root", host="127.0.0.1",
                                                query={"charset": "utf8mb4"})),
}


def best_time(engine: Engine, work: Callable[[Connection], object], prepare: Callable[[], None]) -> float:
    """The best of ``REPEATS`` timings of ``work`` in one transaction, each after ``prepare``."""
    timings = []
    for _ in range(REPEATS):
        prepare()
        start = time.perf_counter()
        with engine.begin() as conn:
            work(conn)
        timings.append(time.perf_counter() - start)
    return min(timings)


def measure(engine: Engine, rows: WindowRows) -> dict[str, float]:
    def empty() -> None:
        for tables in (metadata, _plain):
            tables.drop_all(engine)
            tables.create_all(engine)

    def insert_lines(conn: Connection) -> None:
        conn.execute(insert(PLAIN_LINES), rows.lines)

    def upsert_lines(conn: Connection) -> None:
        upsert(conn, n11_order_lines, rows.lines, version="last_modified")

    def insert_window(conn: Connection) -> None:
        conn.execute(insert(PLAIN_PACKAGES), rows.packages)
        conn.execute(insert(PLAIN_ORDERS), rows.orders)
        insert_lines(conn)

    return {
        "insert": best_time(engine, insert_lines, empty),
        "upsert": best_time(engine, upsert_lines, empty),
        "re-upsert": best_time(engine, upsert_lines, lambda: None),
        "insert window": best_time(engine, insert_window, empty),
        "load window": best_time(engine, lambda conn: load_window(conn, STORE, rows), empty),
    }


def main() -> None:
    rows = window_rows()
    count = len(rows.lines)
    print(f"{count:,} order lines of {len(rows.orders):,} orders; each figure the best of {REPEATS} runs")
    print("targets: upsert <= 2.00x the plain insert; re-upsert <= 1.00x the first upsert\n")
    header = f"{'database':<11}{'plain insert':>24}{'upsert':>24}{'ratio':>7}{'re-upsert':>24}{'ratio':>7}"
    print(header)
    windows = []
    for name, open_engine in DATABASES.items():
        with open_engine() as engine:
            if engine is None:
                print(f"{name:<11}skipped: no server on 127.0.0.1")
                continue
            t = measure(engine, rows)
        windows.append((name, t))
        print(f"{name:<11}{_figure(t['insert'], count)}{_figure(t['upsert'], count)}"
              f"{t['upsert'] / t['insert']:>6.2f}x{_figure(t['re-upsert'], count)}"
              f"{t['re-upsert'] / t['upsert']:>6.2f}x", flush=True)
    print(f"\nwhole window load (packages + orders + lines + each order's status and amounts) beside a plain "
          f"insert of the same {count + len(rows.orders) + len(rows.packages):,} rows; target <= 2.00x")
    for name, t in windows:
        print(f"{name:<11}{t['insert window']:>8.2f} s plain  {t['load window']:>8.2f} s load  "
              f"{t['load window'] / t['insert window']:>6.2f}x")


def _figure(seconds: float, rows: int) -> str:
    return f"{seconds:>8.2f} s {rows / seconds:>9,.0f} rows/s"
