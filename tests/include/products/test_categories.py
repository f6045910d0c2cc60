"""N11's categories and attributes: fetched from N11, cached in the shop database, refreshed at most daily,
searchable from the command line."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from include.cli import categories as cli
from include.clock import utcnow
from include.products import categories
from include.shop_db import engine_for, url_for
from include.tables import n11_categories, n11_category_attributes
from n11.client import N11Client
from n11.errors import N11RequestRefused
from tests.conftest import TEST_KEY, TEST_SECRET, Conn
from tests.include.products.conftest import FAST

TREE = "/cdn/categories"


@pytest.fixture
def client(sandbox):
    made = N11Client(TEST_KEY, TEST_SECRET, sandbox.url, FAST)
    yield made
    made.close()


@pytest.fixture
def engine(sqlite_shop):
    return engine_for(sqlite_shop)


def cached(engine) -> dict[str, dict]:
    with engine.connect() as conn:
        return {row.category_id: dict(row._mapping) for row in conn.execute(select(n11_categories))}


def test_the_tree_is_flattened_with_paths_and_leaves():
    tree = [{"id": 1, "name": "Elektronik", "subCategories": [
        {"id": 11, "name": "Ses ve Görüntü", "subCategories": [{"id": 111, "name": "Kulaklık", "subCategories": None}]},
        {"id": 12, "name": "Mouse", "subCategories": []}]}]

    rows = categories.flatten(tree)

    assert [(r["category_id"], r["parent_id"], r["path"], r["is_leaf"]) for r in rows] == [
        ("1", None, "Elektronik", False), ("11", "1", "Elektronik > Ses ve Görüntü", False),
        ("111", "11", "Elektronik > Ses ve Görüntü > Kulaklık", True), ("12", "1", "Elektronik > Mouse", True)]


def test_the_tree_and_attributes_are_cached_in_the_shop_database(shop_conn, client, sandbox):
    engine = engine_for(shop_conn)

    written = categories.refresh_tree(engine, client)
    fetched = categories.refresh_attributes(engine, client, ["1301", "1300", "999999"])

    tree = cached(engine)
    assert written == len(tree) and tree["1301"]["path"] == "Elektronik > Ses ve Görüntü > Kulaklık"
    assert tree["1301"]["is_leaf"] and not tree["1300"]["is_leaf"]
    assert fetched == ["1301"]  # a category with subcategories, or one N11 does not have, has no attributes
    with engine.connect() as conn:
        [attributes] = categories.read_attributes(conn, ["1301"]).values()
    marka, connection = attributes["marka"], attributes[categories.fold("Bağlantı Türü")]
    assert (marka.id, marka.mandatory, marka.custom_value) == (1, True, True)
    assert (connection.mandatory, connection.custom_value, connection.values["bluetooth"]) == (True, False, 8002)


def test_the_tree_is_fetched_at_most_daily(engine, client, sandbox):
    now = utcnow()
    categories.refresh_tree(engine, client, now)

    again = categories.refresh_tree(engine, client, now + timedelta(hours=23))
    next_day = categories.refresh_tree(engine, client, now + timedelta(hours=25))

    assert again is None and next_day == len(cached(engine))
    assert len(sandbox.calls("GET", TREE)) == 2


def test_a_category_gone_from_n11s_tree_leaves_the_cache(engine, client):
    categories.refresh_tree(engine, client, utcnow() - timedelta(days=2))
    with engine.begin() as conn:
        conn.execute(n11_categories.insert().values(category_id="77", name="Eski", path="Eski", is_leaf=True,
                                                    refreshed_at=utcnow() - timedelta(days=2)))

    categories.refresh_tree(engine, client)

    assert "77" not in cached(engine) and "1301" in cached(engine)


def test_a_categorys_attributes_are_fetched_once_and_again_after_a_day(engine, client, sandbox):
    now = utcnow()
    categories.refresh_tree(engine, client, now)

    first = categories.refresh_attributes(engine, client, ["1301", "1301", "3102"], now)
    same_day = categories.refresh_attributes(engine, client, ["1301", "3102"], now + timedelta(hours=12))
    next_day = categories.refresh_attributes(engine, client, ["1301"], now + timedelta(hours=25))

    assert first == ["1301", "3102"] and same_day == [] and next_day == ["1301"]
    assert len([r for r in sandbox.requests if r.path == "/cdn/category/1301/attribute"]) == 2
    with engine.connect() as conn:
        rows = conn.execute(select(n11_category_attributes).where(n11_category_attributes.c.category_id == "1301"))
        assert len(rows.all()) == 4  # replaced, not appended


def test_n11_refuses_the_attributes_of_a_category_with_subcategories(client):
    with pytest.raises(N11RequestRefused, match="HTTP 400"):
        client.category_attributes(1300)


@pytest.mark.parametrize("words", ["kulaklık", "KULAKLIK", "  Kulaklık ", "ses kulak"])
def test_search_finds_a_category_by_any_part_of_its_path_ignoring_turkish_case(engine, client, words):
    categories.refresh_tree(engine, client)

    with engine.connect() as conn:
        hits = categories.search(conn, words)

    assert [hit.id for hit in hits] == ["1301"]


def test_search_lists_leaves_before_categories_with_subcategories(engine, client):
    categories.refresh_tree(engine, client)

    with engine.connect() as conn:
        hits = categories.search(conn, "elektronik")

    assert hits[0].is_leaf and not hits[-1].is_leaf


def test_the_command_searches_the_cached_tree(sqlite_shop, client, capsys):
    db = url_for(sqlite_shop).render_as_string()
    assert cli.main(["--db", db, "search", "kulaklık"]) == 0
    assert "cache is empty" in capsys.readouterr().out
    categories.refresh_tree(engine_for(sqlite_shop), client)

    cli.main(["--db", db, "search", "SES VE görüntü"])

    assert capsys.readouterr().out.splitlines() == [
        "    1302  Elektronik > Ses ve Görüntü > Bluetooth Hoparlör",
        "    1301  Elektronik > Ses ve Görüntü > Kulaklık",
        "    1300  Elektronik > Ses ve Görüntü   (has subcategories: not for products)"]


def test_the_command_shows_a_categorys_attributes(sqlite_shop, client, capsys):
    engine = engine_for(sqlite_shop)
    categories.refresh_tree(engine, client)
    categories.refresh_attributes(engine, client, ["1301"])

    cli.main(["--db", url_for(sqlite_shop).render_as_string(), "show", "1301"])

    out = capsys.readouterr().out
    assert "    1301  Elektronik > Ses ve Görüntü > Kulaklık" in out
    assert "Bağlantı Türü [mandatory]: Kablolu, Bluetooth, Kablosuz (2.4 GHz)" in out
    assert "Renk [variant]: Siyah" in out and "Marka [mandatory, any value]: Anadolu" in out


def test_the_command_refreshes_from_n11_through_airflow_connections(monkeypatch, sqlite_shop, sandbox, capsys):
    extra = json.dumps({"requests_per_minute": 6000})
    for conn in (sqlite_shop, Conn("n11_shop1", "n11", sandbox.url, TEST_KEY, TEST_SECRET, extra_json=extra)):
        for key, value in conn.env().items():
            monkeypatch.setenv(key, value)

    assert cli.main(["refresh", "--n11-conn", "n11_shop1"]) == 0

    assert "N11 category tree cached: 32 categories." in capsys.readouterr().out.splitlines()
    assert "1301" in cached(engine_for(sqlite_shop))
