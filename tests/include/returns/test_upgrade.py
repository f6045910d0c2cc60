"""A shop database the previous version made (no return or invoice tables, no returns watermark) gains them on the
first run of this one, keeps every row, and the returns, decisions and invoice links work over it."""

from __future__ import annotations

from sqlalchemy import Column, MetaData, Table, create_engine, insert, inspect, select

from include.shop_db import create_tables, url_for
from include.tables import metadata, n11_stores
from tests.helpers.orders import MONTH_END, MONTH_START, sync
from tests.helpers.returns import ask, claims_of, decide, give_link, load, rows, send_links

NEW_TABLES = ("n11_returns", "n11_return_actions", "n11_return_deny_reasons", "n11_order_invoices")


def previous_tables() -> MetaData:
    """This version's tables less what it adds: the four tables, and n11_stores without returns_loaded_to."""
    old = MetaData()
    for table in metadata.sorted_tables:
        if table.name not in (*NEW_TABLES, "n11_stores"):
            table.to_metadata(old)
    Table("n11_stores", old, *(Column(c.name, c.type, primary_key=c.primary_key, nullable=c.nullable)
                               for c in n11_stores.columns if c.name != "returns_loaded_to"))
    return old


def test_a_previous_shop_database_gains_the_return_and_invoice_tables_keeping_every_row(shop_conn, n11):
    engine = create_engine(url_for(shop_conn))
    old = previous_tables()
    old.create_all(engine)
    stores = [{"store": f"s{n}", "name": f"Mağaza {n}", "active": True, "order_sync": True, "product_sync": True,
               "update_type": "all", "settings_updated_at": MONTH_START.replace(tzinfo=None)} for n in range(5)]
    with engine.begin() as conn:
        conn.execute(insert(old.tables["n11_stores"]), stores)
    assert not set(NEW_TABLES) & set(inspect(engine).get_table_names())

    create_tables(engine)  # what the first run of this version does
    create_tables(engine)  # and the next, which finds nothing left to do

    assert set(NEW_TABLES) <= set(inspect(engine).get_table_names())
    assert "returns_loaded_to" in {column["name"] for column in inspect(engine).get_columns("n11_stores")}
    with engine.connect() as conn:
        kept = conn.execute(select(n11_stores.c.store, n11_stores.c.name, n11_stores.c.returns_loaded_to)).all()
    assert sorted(kept) == [(row["store"], row["name"], None) for row in stores]

    sync(n11, engine, MONTH_START, MONTH_END)
    assert load(n11, engine).loaded.new > 0
    claim = claims_of(n11.state.account("test-appkey"), "APPROVAL_WAITING")[0]
    ask(engine, claim["claimReturnId"], "approve")
    give_link(engine, claim["orderNumber"], "https://fatura.example.com/1.pdf")
    assert decide(n11, engine).accepted == 1 and send_links(n11, engine).accepted == 1
    assert rows(engine)[claim["claimReturnId"]]["order_line_id"] is not None
    engine.dispose()
