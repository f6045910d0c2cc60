"""The shop database: an engine from an Airflow-style connection, table creation and upgrade in place.

Plain SQLAlchemy: the connection is passed in as any object with Airflow's connection attributes, so this
module needs no Airflow import and tests use it directly.

A shop database made by an earlier version is upgraded on the next run: missing tables are created, missing
columns added (a column a later version adds is nullable or has a server default, so existing rows stay as
they are), and on MySQL/MariaDB key columns get the binary collation ``tables.ExactString`` asks for. Nothing
is ever dropped or rewritten.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from typing import Protocol, TypeVar

from sqlalchemy import URL, Column, Connection, Engine, Inspector, Table, create_engine, inspect, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.schema import CreateColumn

from include.tables import ExactString, metadata

log = logging.getLogger(__name__)
T = TypeVar("T")

_DRIVERS = {
    "postgres": "postgresql+psycopg2",
    "postgresql": "postgresql+psycopg2",
    "mysql": "mysql+pymysql",
    "mariadb": "mysql+pymysql",
}


class ConnectionLike(Protocol):
    conn_id: str
    conn_type: str
    host: str | None
    login: str | None
    password: str | None
    port: int | None
    schema: str | None


def url_for(conn: ConnectionLike) -> URL:
    """SQLAlchemy URL of an Airflow connection (SQLite keeps its file path in ``host``)."""
    if conn.conn_type == "sqlite":
        return URL.create("sqlite", database=conn.host or conn.schema)
    try:
        driver = _DRIVERS[conn.conn_type]
    except KeyError:
        raise ValueError(f"shop connection {conn.conn_id!r} has type {conn.conn_type!r}; "
                         f"use sqlite, postgres or mysql") from None
    query = {"charset": "utf8mb4"} if driver.startswith("mysql") else {}
    return URL.create(driver, username=conn.login or None, password=conn.password or None,
                      host=conn.host or None, port=conn.port or None, database=conn.schema or None, query=query)


_engines: dict[str, Engine] = {}
_engines_lock = threading.Lock()  # a store's parallel tasks in one process (threads) create the tables once


def engine_for(conn: ConnectionLike) -> Engine:
    """The shop database's engine, with this project's tables created if missing (one per process and URL)."""
    url = url_for(conn)
    key = url.render_as_string(hide_password=False)
    with _engines_lock:
        if key not in _engines:
            # hide_parameters: a database error's text (task log, alerts) must not carry buyers' data from the rows
            engine = create_engine(url, pool_pre_ping=True, hide_parameters=True)
            create_tables(engine)
            _engines[key] = engine
        return _engines[key]


def create_tables(engine: Engine, attempts: int = 5) -> None:
    """Create the missing tables and upgrade the existing ones. Parallel first runs in other processes race on
    it (the loser sees "already exists"): after a short random pause, so the two stop colliding table after
    table, the next attempt finds the winner's work and does only what is still missing."""
    for attempt in range(1, attempts + 1):
        try:
            inspector = inspect(engine)
            found = set(inspector.get_table_names())
            metadata.create_all(engine, tables=[t for t in metadata.sorted_tables if t.name not in found],
                                checkfirst=False)
            upgrade_tables(engine, inspector, [t for t in metadata.sorted_tables if t.name in found])
            return
        except DBAPIError:
            if attempt == attempts:
                raise
            time.sleep(random.uniform(0.05, 0.3))


def upgrade_tables(engine: Engine, inspector: Inspector, tables: list[Table]) -> None:
    """Bring tables an earlier version created up to this version's definitions. Their columns are read in one go
    (one query on PostgreSQL)."""
    if not tables:
        return
    columns = inspector.get_multi_columns(filter_names=[table.name for table in tables])
    preparer = engine.dialect.identifier_preparer
    statements = []
    for table in tables:
        found = {column["name"]: column for column in columns[(None, table.name)]}
        for column in table.columns:
            spec = CreateColumn(column).compile(dialect=engine.dialect)
            if column.name not in found:
                statements.append(f"ALTER TABLE {preparer.format_table(table)} ADD COLUMN {spec}")
            elif _needs_binary_collation(engine, column, found[column.name]):
                statements.append(f"ALTER TABLE {preparer.format_table(table)} MODIFY {spec}")
    with engine.begin() as conn:
        for statement in statements:
            log.info("shop database upgrade: %s", statement)
            conn.execute(text(statement))


def _needs_binary_collation(engine: Engine, column: Column, found: dict) -> bool:
    if engine.dialect.name not in ("mysql", "mariadb") or not isinstance(column.type, ExactString):
        return False
    wanted = column.type.load_dialect_impl(engine.dialect).collation
    return getattr(found["type"], "collation", None) != wanted


def dispose_engines() -> None:
    """Close every cached engine (tests drop their databases afterwards)."""
    for engine in _engines.values():
        engine.dispose()
    _engines.clear()


def in_transaction(engine: Engine, work: Callable[[Connection], T], attempts: int = 5) -> T:
    """Run ``work`` in a transaction of its own, again when the database ends it as a deadlock victim.

    Concurrent runs that update the same orders in different orders can deadlock on PostgreSQL and MariaDB; the
    database then rolls one back whole, so running it again is safe.
    """
    for attempt in range(1, attempts + 1):
        try:
            with engine.begin() as conn:
                return work(conn)
        except DBAPIError as exc:
            if attempt == attempts or not _is_deadlock(exc):
                raise
            log.info("shop database deadlock (attempt %d of %d), running the transaction again", attempt, attempts)
            time.sleep(random.uniform(0.05, 0.2) * attempt)
    raise AssertionError("unreachable")  # pragma: no cover


def _is_deadlock(exc: DBAPIError) -> bool:
    code = getattr(exc.orig, "pgcode", None) or (exc.orig.args[0] if getattr(exc.orig, "args", None) else None)
    return code in ("40P01", "40001", 1213, 1205) or "database is locked" in str(exc.orig)
