"""The shop's side: the store's ``products_source`` table or view (default ``n11_product_source``).

Read through a lightweight table clause, so any table or view with the contract's columns works and the
values arrive as the driver gives them (``values.canonical`` evens out the drivers' types).
"""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Connection, TableClause, column, inspect, select, table

from include.products.groups import UPDATABLE_STATUSES
from include.tables import n11_product_links

COLUMNS = ("stock_code", "title", "description", "list_price", "sale_price", "currency", "quantity", "vat_rate",
           "preparing_day", "shipment_template", "status")


class SourceError(ValueError):
    """The products source is missing or lacks columns: only a person can fix the setting or the view."""


def source_table(conn: Connection, name: str, columns: list[str]) -> TableClause:
    """The source as a table clause with ``columns`` (plus stock_code), after checking they all exist."""
    schema, _, bare = name.rpartition(".")
    schema = schema or None
    inspector = inspect(conn)
    if not inspector.has_table(bare, schema=schema):  # views count as tables here
        raise SourceError(f"products_source {name!r} is neither a table nor a view in the shop database")
    found = {c["name"] for c in inspector.get_columns(bare, schema=schema)}
    wanted = ["stock_code", *[c for c in columns if c != "stock_code"]]
    missing = [c for c in wanted if c not in found]
    if missing:
        raise SourceError(f"products_source {name!r} lacks the column(s) {', '.join(missing)}; "
                          f"expected: {', '.join(COLUMNS)}")
    return table(bare, *[column(c) for c in wanted], schema=schema)


def stock_codes(conn: Connection, source: TableClause) -> tuple[set[str], int]:
    """The shop's stock codes, and how many rows have none (they cannot be matched to N11)."""
    codes = [str(code) if code is not None and str(code).strip() else None
             for code in conn.execute(select(source.c.stock_code)).scalars()]
    return {code for code in codes if code is not None}, codes.count(None)


def read_linked(conn: Connection, source: TableClause, store: str) -> pd.DataFrame:
    """The source rows of SKUs N11 lets us update, indexed by stock code (a code listed twice stays twice)."""
    links = n11_product_links
    query = select(*source.c).join(links, links.c.stock_code == source.c.stock_code).where(
        links.c.store == store, links.c.n11_status.in_(UPDATABLE_STATUSES))
    return pd.read_sql(query, conn, index_col="stock_code")
