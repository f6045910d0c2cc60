"""Bulk idempotent upserts with each dialect's own statement, guarded by a version column.

The statement is ``INSERT ... ON CONFLICT DO UPDATE`` on SQLite and PostgreSQL and
``INSERT ... ON DUPLICATE KEY UPDATE`` on MySQL/MariaDB, executed once per batch with every row of it (the
drivers send it as multi-row inserts). With ``version`` set, a stored row is only overwritten by a row whose
version is newer, so a late or repeated answer never moves a row back.

Before writing, the stored keys (and versions) of each batch are read in one query. Rows that are new or
newer are written; the rest are counted as unchanged and never sent: an equal version means the same row
(N11 bumps ``lastModifiedDate`` on every change), and skipping it is what keeps a repeated load as fast as
the first. The guard stays in the statement as well, so a concurrent writer between the read and the write
still cannot move a row back.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Column, Connection, Table, func, select
from sqlalchemy.dialects import mysql, postgresql, sqlite

BATCH_ROWS = 2000


@dataclass
class UpsertResult:
    """What an upsert did with the rows it was given (after merging rows with the same key)."""

    written: list[dict] = field(default_factory=list)  # the new and the newer rows, as sent
    new: int = 0
    unchanged: int = 0  # stored with the same or a newer version: not sent

    @property
    def updated(self) -> int:
        return len(self.written) - self.new


def upsert(conn: Connection, table: Table, rows: Sequence[dict], *, version: str | None = None,
           batch_rows: int = BATCH_ROWS) -> UpsertResult:
    """Insert or update ``rows`` (dicts with the same keys, named by column) on the table's primary key.

    Without ``version`` every stored row is overwritten with the given columns (the others keep their values).
    """
    key = [c.name for c in table.primary_key.columns]
    rows = _newest_per_key(rows, key, version)
    result = UpsertResult()
    if not rows:
        return result
    statement = _statement(conn.dialect.name, table, list(rows[0]), key, version)
    for start in range(0, len(rows), batch_rows):
        batch = rows[start:start + batch_rows]
        stored = _stored_versions(conn, table, batch, version)
        changed = []
        for row in batch:
            row_key = tuple(row[name] for name in key)
            if row_key not in stored:
                result.new += 1
            elif version is not None and stored[row_key] >= row[version]:
                result.unchanged += 1
                continue
            changed.append(row)
        if changed:
            conn.execute(statement, changed)
            result.written += changed
    return result


def _newest_per_key(rows: Sequence[dict], key: list[str], version: str | None) -> list[dict]:
    """One row per key, the newest (the later one on a tie), in key order.

    PostgreSQL refuses a key twice in one statement; key order makes concurrent loads of overlapping rows
    take their row locks in the same order, so they wait for each other instead of deadlocking.
    """
    newest: dict[tuple, dict] = {}
    for row in rows:
        row_key = tuple(row[name] for name in key)
        kept = newest.get(row_key)
        if kept is None or version is None or kept[version] <= row[version]:
            newest[row_key] = row
    return [newest[row_key] for row_key in sorted(newest)]


def _stored_versions(conn: Connection, table: Table, batch: Sequence[dict], version: str | None) -> dict[tuple, Any]:
    """``{key: stored version (None without one)}`` of the batch's rows that exist, read in one query.

    Keys are grouped by their leading columns (the store), so the query is an indexed ``IN`` list.
    """
    *leading, last = table.primary_key.columns
    wanted: dict[tuple, list] = defaultdict(list)
    for row in batch:
        wanted[tuple(row[c.name] for c in leading)].append(row[last.name])
    columns: list[Column] = [*leading, last] + ([table.c[version]] if version else [])
    width = len(leading) + 1
    stored: dict[tuple, Any] = {}
    for values, lasts in wanted.items():
        where = [c == value for c, value in zip(leading, values, strict=True)] + [last.in_(lasts)]
        for record in conn.execute(select(*columns).where(*where)):
            stored[tuple(record[:width])] = record[width] if version else None
    return stored


def _statement(dialect: str, table: Table, columns: list[str], key: list[str], version: str | None):
    """The dialect's upsert of one row shape, run with a list of rows (one executemany per batch)."""
    updated = [c for c in columns if c not in key]
    if dialect in ("mysql", "mariadb"):
        stmt = mysql.insert(table)
        new = stmt.inserted
        if version is None:
            return stmt.on_duplicate_key_update({c: new[c] for c in updated})
        newer = table.c[version] < new[version]
        # MySQL applies assignments left to right: the version column must change last, or the
        # comparisons after it would see the new value.
        ordered = [c for c in updated if c != version] + [version]
        return stmt.on_duplicate_key_update([(c, func.if_(newer, new[c], table.c[c])) for c in ordered])
    insert = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}[dialect]
    stmt = insert(table)
    new = stmt.excluded
    where = table.c[version] < new[version] if version else None
    # RETURNING makes SQLAlchemy send the rows as multi-row INSERTs; without it an ON CONFLICT statement
    # goes out one row per round trip (about 3x slower on PostgreSQL).
    return stmt.on_conflict_do_update(index_elements=key, set_={c: new[c] for c in updated}, where=where) \
        .returning(*table.primary_key.columns)
