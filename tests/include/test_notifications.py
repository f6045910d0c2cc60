"""The memory of alerts: one per store and problem per hour, on every shop database."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import create_engine

from include.notifications import claim
from include.shop_db import create_tables, url_for

NOW = datetime(2026, 11, 27, 12, 0)


def test_a_problem_is_announced_once_per_hour_per_store(shop_conn):
    engine = create_engine(url_for(shop_conn))
    create_tables(engine)
    assert claim(engine, "shop1", "credentials", NOW)
    assert not claim(engine, "shop1", "credentials", NOW + timedelta(minutes=59))
    assert claim(engine, "shop2", "credentials", NOW)
    assert claim(engine, "shop1", "n11_shop1_orders.load_orders", NOW)
    assert claim(engine, "shop1", "credentials", NOW + timedelta(hours=1))
    assert not claim(engine, "shop1", "credentials", NOW + timedelta(hours=1, minutes=1))
    engine.dispose()
