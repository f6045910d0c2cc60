"""The SQL docs/OPERATIONS.md gives a shop ("today's orders to ship") runs on every database and lists what a
shop must ship today: its own open lines with their addresses, not N11's warehouse orders, not cancelled ones."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlalchemy import text

from include.clock import to_ms
from include.orders.load import load_window
from include.orders.transform import package_rows
from tests.include.orders.conftest import LOADED, wire_line, wire_package

DOC = Path(__file__).resolve().parents[3] / "docs" / "OPERATIONS.md"
TODAY_MS = to_ms(datetime.fromisoformat("2026-11-27T09:00:00+00:00"))  # inside the day the example names


def documented_query() -> str:
    doc = DOC.read_text(encoding="utf-8")
    start = doc.index("-- today's orders to ship")
    return doc[start:doc.index(";", start)]


def package(number, status, created_ms=TODAY_MS, **fields):
    return wire_package(package_id=int(number[-3:]), order_number=number, status=status, modified_ms=created_ms,
                        lines=[wire_line(int(number[-3:]), orderItemLineItemStatusName=status)],
                        packageHistories=[{"createdDate": created_ms, "status": "Created"}], **fields)


def test_the_documented_query_lists_todays_open_seller_lines_with_their_shipping_addresses(shop):
    packages = [package("1000000000101", "Created"), package("1000000000102", "Picking"),
                package("1000000000103", "Shipped"), package("1000000000104", "Cancelled"),
                package("1000000000105", "Created", sender="N11"),
                package("1000000000106", "Created", created_ms=TODAY_MS - 86_400_000)]
    with shop.begin() as conn:
        load_window(conn, "magazam", package_rows("magazam", packages, LOADED))
        rows = conn.execute(text(documented_query())).mappings().all()
    assert [(row["order_number"], row["status"]) for row in rows] == [("1000000000101", "Created"),
                                                                       ("1000000000102", "Picking")]
    assert {(row["shipping_address"], row["shipping_gsm"]) for row in rows} == {
        ("Moda Mah. Bahariye Cad. No:12 D:5", "05551234567")}
