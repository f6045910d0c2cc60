"""A shop database made by an earlier version is upgraded in place on the next run, losing no row; stock
codes compare exactly on every database."""

from __future__ import annotations

import multiprocessing
import threading
from datetime import datetime

import pytest
from sqlalchemy import Column, MetaData, String, Table, create_engine, insert, inspect, select, text
from sqlalchemy.exc import DBAPIError

from include.shop_db import create_tables, engine_for, url_for
from include.tables import metadata, n11_product_links

OLD = datetime(2026, 1, 1)


def old_links_table() -> Table:
    """``n11_product_links`` as an earlier version made it: no ``catalog_id`` yet, the server's default
    collation on ``stock_code``."""
    return Table("n11_product_links", MetaData(),
                 Column("store", String(64), primary_key=True),
                 Column("stock_code", String(100), primary_key=True),
                 Column("n11_product_id", String(40), nullable=False),
                 Column("n11_status", String(32)),
                 Column("sale_status", String(32)),
                 Column("refreshed_at", n11_product_links.c.refreshed_at.type, nullable=False))


def test_an_earlier_shop_database_gains_the_new_columns_and_keeps_its_rows(shop_conn):
    engine = create_engine(url_for(shop_conn))
    old = old_links_table()
    old.create(engine)
    rows = [{"store": "s1", "stock_code": f"SKU-{i}", "n11_product_id": str(i), "n11_status": "Active",
             "sale_status": "On_Sale", "refreshed_at": OLD} for i in range(50)]
    with engine.begin() as conn:
        conn.execute(insert(old), rows)

    create_tables(engine)
    create_tables(engine)  # the next run finds nothing left to do

    assert "catalog_id" in {column["name"] for column in inspect(engine).get_columns("n11_product_links")}
    with engine.connect() as conn:
        kept = conn.execute(select(n11_product_links.c.stock_code, n11_product_links.c.n11_product_id,
                                   n11_product_links.c.catalog_id)).all()
    assert sorted(kept) == sorted((row["stock_code"], row["n11_product_id"], None) for row in rows)
    engine.dispose()


def test_stock_codes_differing_only_in_case_or_trailing_spaces_are_different_keys(shop_conn):
    engine = create_engine(url_for(shop_conn))
    old_links_table().create(engine)  # on MariaDB: the case- and space-blind default collation
    create_tables(engine)
    codes = ["SKU-00011", "sku-00011", "SKU-00011 "]
    with engine.begin() as conn:
        conn.execute(insert(n11_product_links), [
            {"store": "s1", "stock_code": code, "n11_product_id": str(i), "refreshed_at": OLD}
            for i, code in enumerate(codes)])
        found = conn.execute(select(n11_product_links.c.n11_product_id)
                             .where(n11_product_links.c.stock_code == "SKU-00011")).scalars().all()
        listed = conn.execute(select(n11_product_links.c.stock_code)
                              .where(n11_product_links.c.stock_code.in_(["sku-00011"]))).scalars().all()
    assert found == ["0"]
    assert listed == ["sku-00011"]
    engine.dispose()


def test_a_database_error_does_not_repeat_the_rows_values(shop_conn):
    """Its text reaches the task log and the store's alerts: a buyer's address must not."""
    with pytest.raises(DBAPIError) as failure, engine_for(shop_conn).begin() as conn:
        conn.execute(text("INSERT INTO no_such_table (address) VALUES (:address)"),
                     {"address": "Moda Mah. Bahariye Cad. No:12"})
    assert "Bahariye" not in str(failure.value) and "parameters hidden" in str(failure.value)


def _first_run(url: str, failures) -> None:
    engine = create_engine(url)
    try:
        create_tables(engine)
    except DBAPIError as exc:
        failures.put(str(exc.orig))
    engine.dispose()


def test_first_runs_of_a_store_in_parallel_processes_all_find_the_tables_made(shop_conn):
    url = url_for(shop_conn).render_as_string(hide_password=False)
    failures = multiprocessing.Queue()
    runs = [multiprocessing.Process(target=_first_run, args=(url, failures)) for _ in range(4)]
    for run in runs:
        run.start()
    for run in runs:
        run.join(timeout=120)

    assert [run.exitcode for run in runs] == [0] * 4 and failures.empty()
    engine = create_engine(url)
    assert set(metadata.tables) <= set(inspect(engine).get_table_names())
    engine.dispose()


def test_tasks_of_a_store_in_parallel_threads_share_one_engine_and_one_table_creation(shop_conn):
    engines, errors = [], []

    def task() -> None:
        try:
            engines.append(engine_for(shop_conn))
        except DBAPIError as exc:
            errors.append(exc)

    threads = [threading.Thread(target=task) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == [] and len(engines) == 4 and len(set(map(id, engines))) == 1
