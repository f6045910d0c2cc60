"""The confirmed values in ``n11_product_sync_state``: read in the comparable form, written per field group.

They are the diff's baseline for the listing and content groups (stock and price are compared with N11's live
values); for every group they keep the payload N11 last failed.

A group's baseline moves when N11 confirms a sent value, or, for a group nobody pushes (not covered by the
update type, or a SKU N11 will not update), when the scan shows N11's current value. Writing a group's
values also clears its failed payload: the baseline it failed against is gone.
"""

from __future__ import annotations

from datetime import datetime

import pandas as pd
from sqlalchemy import ColumnElement, Connection, column, delete, exists, or_, select, table

from include.products.groups import GROUPS, Group
from include.products.values import canonical, db_value, texts
from include.tables import n11_product_links, n11_product_sync_state
from include.upsert import upsert

state = n11_product_sync_state
FAILED = {group.name: f"{group.name}_failed_hash" for group in GROUPS}
UPDATED = {group.name: f"{group.name}_updated_at" for group in GROUPS}


def read(conn: Connection, slug: str, groups: tuple[Group, ...] = GROUPS) -> pd.DataFrame:
    """The baseline of ``groups`` in the comparable form, with their failed hashes, indexed by stock code."""
    columns = [column for group in groups for column in group.columns]
    failed = [FAILED[group.name] for group in groups]
    comparable = canonical(_select(conn, slug, columns))
    # Failures are few: read only their rows, rather than three mostly empty columns of every SKU.
    failures = _select(conn, slug, failed, or_(*(column(name).is_not(None) for name in failed)))
    for name in failed:
        comparable[name] = texts(failures[name].reindex(comparable.index))
    return comparable


def _select(conn: Connection, slug: str, columns: list[str], *where: ColumnElement) -> pd.DataFrame:
    """The store's rows of ``columns`` by stock code, as the driver gives them (no per-value type conversion)."""
    untyped = table(state.name, *map(column, ["store", "stock_code", *columns]))
    query = select(*untyped.c[1:]).where(untyped.c.store == slug, *where)
    return pd.read_sql(query, conn, index_col="stock_code")


def write(conn: Connection, slug: str, groups: tuple[Group, ...], values: pd.DataFrame, now: datetime) -> int:
    """Set the baseline of ``groups`` to ``values`` (comparable form, indexed by stock code); clears their failures.

    Returns the number of SKUs written.
    """
    columns = [column for group in groups for column in group.columns]
    stamps = {name: value for g in groups for name, value in ((FAILED[g.name], None), (UPDATED[g.name], now))}
    rows = [
        {"store": slug, "stock_code": code, **stamps,
         **{c: db_value(c, v) for c, v in zip(columns, record, strict=True)}}
        for code, record in zip(values.index, values[columns].itertuples(index=False), strict=True)
    ]
    upsert(conn, state, rows)
    return len(rows)


def mark_failed(conn: Connection, slug: str, group: Group, hashes: dict[str, str]) -> None:
    """Remember the payload N11 failed for these SKUs, so the diff does not send it again unchanged."""
    upsert(conn, state, [{"store": slug, "stock_code": code, FAILED[group.name]: value}
                         for code, value in hashes.items()])


def forget_unlinked(conn: Connection, slug: str) -> int:
    """Drop the baseline of SKUs no longer linked: if one comes back, it is seeded afresh from N11."""
    linked = exists().where(n11_product_links.c.store == state.c.store,
                            n11_product_links.c.stock_code == state.c.stock_code)
    return conn.execute(delete(state).where(state.c.store == slug, ~linked)).rowcount
