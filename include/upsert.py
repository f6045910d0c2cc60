"""Bulk idempotent upserts with each dialect's own statement, guarded by a version column.

One statement per batch (``INSERT ... ON CONFLICT DO UPDATE`` on SQLite and PostgreSQL,
``INSERT ... ON DUPLICATE KEY UPDATE`` on MySQL/MariaDB). With ``version`` set, an existing row is only
overwritten by a row whose version is not older, so a late or repeated answer never moves a row back.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, Table, func
from sqlalchemy.dialects import mysql, postgresql, sqlite

BATCH_ROWS = 1000


def upsert(conn: Connection, table: Table, rows: Sequence[dict], *, version: str | None = None,
           batch_rows: int = BATCH_ROWS) -> None:
    """Insert or update ``rows`` (dicts keyed by column name) on the table's primary key."""
    key = {c.name for c in table.primary_key.columns}
    for start in range(0, len(rows), batch_rows):
        batch = rows[start:start + batch_rows]
        updated = [c for c in batch[0] if c not in key]
        conn.execute(_statement(conn.dialect.name, table, batch, key, updated, version))


def _statement(dialect: str, table: Table, batch: Sequence[dict], key: set[str], updated: list[str],
               version: str | None):
    if dialect in ("mysql", "mariadb"):
        stmt = mysql.insert(table).values(list(batch))
        new = stmt.inserted
        if version is None:
            return stmt.on_duplicate_key_update({c: new[c] for c in updated})
        newer = table.c[version] <= new[version]
        # MySQL applies assignments left to right: the version column must change last, or the
        # comparisons after it would see the new value.
        ordered = [c for c in updated if c != version] + [version]
        return stmt.on_duplicate_key_update([(c, func.if_(newer, new[c], table.c[c])) for c in ordered])
    insert = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}[dialect]
    stmt = insert(table).values(list(batch))
    new = stmt.excluded
    where = table.c[version] <= new[version] if version else None
    return stmt.on_conflict_do_update(index_elements=sorted(key), set_={c: new[c] for c in updated}, where=where)
