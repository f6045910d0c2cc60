"""The shop database: an engine from an Airflow-style connection, and table creation.

Plain SQLAlchemy: the connection is passed in as any object with Airflow's connection attributes, so this
module needs no Airflow import and tests use it directly.
"""

from __future__ import annotations

from typing import Protocol

from sqlalchemy import URL, Engine, create_engine
from sqlalchemy.exc import DBAPIError

from include.tables import metadata

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


def engine_for(conn: ConnectionLike) -> Engine:
    """The shop database's engine, with this project's tables created if missing (one per process and URL)."""
    url = url_for(conn)
    key = url.render_as_string(hide_password=False)
    if key not in _engines:
        engine = create_engine(url, pool_pre_ping=True)
        create_tables(engine)
        _engines[key] = engine
    return _engines[key]


def create_tables(engine: Engine, attempts: int = 3) -> None:
    """Create the missing tables. Parallel first runs race on it (the loser sees "already exists"): the
    next attempt finds the winner's tables and creates only what is still missing."""
    for attempt in range(1, attempts + 1):
        try:
            metadata.create_all(engine)
            return
        except DBAPIError:
            if attempt == attempts:
                raise


def dispose_engines() -> None:
    """Close every cached engine (tests drop their databases afterwards)."""
    for engine in _engines.values():
        engine.dispose()
    _engines.clear()
