"""Find N11 category ids for the products source's ``n11_category_id``: search the cached category tree.

    python -m include.cli.categories search "kulaklık"          # categories whose path holds every word
    python -m include.cli.categories show 1301                  # one category and its cached attributes
    python -m include.cli.categories refresh --n11-conn n11_demo  # fetch the tree from N11 now

The cache is in the shop database (tables ``n11_categories``, ``n11_category_attributes``); the products run
fills it (the tree at most daily, a category's attributes when a new product needs them). The shop database is
``--db`` (a SQLAlchemy URL, e.g. ``sqlite:///shop.db``) or ``--conn`` (an Airflow connection id, default
``shop_db``). Words match ignoring case (Turkish İ/ı included) and surrounding spaces.
"""

from __future__ import annotations

import argparse
import sys

import simplejson
from sqlalchemy import Engine, create_engine, select

from include.products import categories
from include.shop_db import create_tables
from include.tables import n11_categories, n11_category_attributes

SHOWN_VALUES = 12


def shop_engine(db_url: str | None, conn_id: str) -> Engine:
    """The shop database of a SQLAlchemy URL, or of an Airflow connection (Airflow imported only then)."""
    if db_url:
        engine = create_engine(db_url)
        create_tables(engine)
        return engine
    from airflow.sdk import BaseHook

    from include.shop_db import engine_for

    return engine_for(BaseHook.get_connection(conn_id))


def search(engine: Engine, words: str) -> list[str]:
    with engine.connect() as conn:
        if conn.execute(select(n11_categories.c.category_id).limit(1)).first() is None:
            return ["The category cache is empty: a products run with a creation candidate fills it, or run "
                    "`python -m include.cli.categories refresh --n11-conn <connection>`."]
        hits = categories.search(conn, words)
    if not hits:
        return [f"No cached category matches {words!r}."]
    return [_line(c.id, c.path, c.is_leaf) for c in hits]


def _line(category_id: str, path: str, is_leaf: bool) -> str:
    return f"{category_id:>8}  {path}" + ("" if is_leaf else "   (has subcategories: not for products)")


def show(engine: Engine, category_id: str) -> list[str]:
    cats, table = n11_categories.c, n11_category_attributes
    with engine.connect() as conn:
        found = conn.execute(select(n11_categories).where(cats.category_id == category_id)).first()
        attributes = conn.execute(select(table).where(table.c.category_id == category_id)
                                  .order_by(table.c.mandatory.desc(), table.c.name)).all()
    if found is None:
        return [f"Category {category_id} is not in the cache."]
    lines = [_line(found.category_id, found.path, found.is_leaf)]
    if found.attributes_refreshed_at is None:
        return [*lines, "  attributes: not fetched yet (a products run fetches them for the categories it needs)"]
    lines.append(f"  attributes (fetched {found.attributes_refreshed_at:%Y-%m-%d %H:%M} UTC):")
    for row in attributes:
        values = [str(value["value"]) for value in simplejson.loads(row.attribute_values)]
        flags = ", ".join(flag for flag, on in (("mandatory", row.mandatory), ("variant", row.variant),
                                                ("any value", row.custom_value)) if on) or "optional"
        more = f" and {len(values) - SHOWN_VALUES} more" if len(values) > SHOWN_VALUES else ""
        lines.append(f"    {row.name} [{flags}]: {', '.join(values[:SHOWN_VALUES]) or '-'}{more}")
    return lines


def refresh(engine: Engine, n11_conn_id: str) -> list[str]:
    """Fetch the tree from N11 now, whatever the cached copy's age."""
    from n11.hooks import N11Hook

    client = N11Hook(n11_conn_id=n11_conn_id).get_conn()
    try:
        written = categories.refresh_tree(engine, client, force=True)
    finally:
        client.close()
    return [f"N11 category tree cached: {written} categories."]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m include.cli.categories", description=__doc__.split("\n")[0])
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--db", help="the shop database as a SQLAlchemy URL")
    where.add_argument("--conn", default="shop_db", help="the shop database's Airflow connection id (default shop_db)")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("search", help="categories whose path holds every word").add_argument("words")
    commands.add_parser("show", help="one category and its cached attributes").add_argument("category_id")
    commands.add_parser("refresh", help="fetch the tree from N11 now").add_argument(
        "--n11-conn", required=True, help="an N11 connection id, e.g. n11_<slug>")
    args = parser.parse_args(argv)
    engine = shop_engine(args.db, args.conn)
    if args.command == "search":
        lines = search(engine, args.words)
    elif args.command == "show":
        lines = show(engine, args.category_id)
    else:
        lines = refresh(engine, args.n11_conn)
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
