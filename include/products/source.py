"""The shop's side: the store's ``products_source`` table or view (default ``n11_product_source``).

Read through a lightweight table clause, so any table or view with the contract's columns works and the
values arrive as the driver gives them (``values.canonical`` evens out the drivers' types).
"""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd
from sqlalchemy import Connection, TableClause, column, inspect, select, table

from include.products.baseline import FAILED
from include.products.diff import BASE_PREFIX
from include.products.groups import LIVE_COLUMNS, UPDATABLE_STATUSES, Group
from include.tables import n11_product_links, n11_product_sync_state

CHUNK_ROWS = 20_000  # plan rows held at once: bounds a large store's memory

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


def stock_codes(conn: Connection, source: TableClause) -> tuple[list[str], int]:
    """The shop's stock codes as listed (a code listed twice is there twice), and how many rows have none
    (they cannot be matched to N11)."""
    codes = [str(code) if code is not None and str(code).strip() else None
             for code in conn.execute(select(source.c.stock_code)).scalars()]
    return [code for code in codes if code is not None], codes.count(None)


def _untyped(name: str, names: list[str]) -> TableClause:
    """A table clause without column types: values arrive as the driver gives them (no per-value conversion)."""
    return table(name, *map(column, names))


def read_plan_rows(conn: Connection, source: TableClause, slug: str,
                   covered: tuple[Group, ...]) -> Iterator[pd.DataFrame]:
    """The plan rows of SKUs N11 lets us update, in chunks by stock code: the shop's columns of the covered
    groups, N11's live values (``n11_<column>``), the baseline (``base_<column>``) and the failed payloads."""
    live = [LIVE_COLUMNS[c] for g in covered if g.live for c in g.columns]
    base = [c for g in covered if not g.live for c in g.columns]
    failed = [FAILED[g.name] for g in covered]
    links = _untyped(n11_product_links.name, ["store", "stock_code", "n11_status", *live])
    state = _untyped(n11_product_sync_state.name, ["store", "stock_code", *base, *failed])
    query = (select(source.c.stock_code, *[source.c[c] for g in covered for c in g.columns], *links.c[3:],
                    *[state.c[c].label(BASE_PREFIX + c) for c in base], *[state.c[f] for f in failed])
             .select_from(source.join(links, links.c.stock_code == source.c.stock_code)
                          .outerjoin(state, (state.c.store == links.c.store)
                                     & (state.c.stock_code == links.c.stock_code)))
             .where(links.c.store == slug, links.c.n11_status.in_(UPDATABLE_STATUSES))
             .order_by(links.c.stock_code))
    streamed = conn.execution_options(stream_results=True)
    yield from pd.read_sql(query, streamed, index_col="stock_code", chunksize=CHUNK_ROWS)
