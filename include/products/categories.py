"""N11's categories and their attributes, cached in the shop database and refreshed at most daily.

The tree (``GET /cdn/categories``, one call) is refreshed when the cached copy is a day old. A category's
attributes (``GET /cdn/category/{id}/attribute``, one call per category) are fetched only for the categories
creation candidates use, when their copy is missing or a day old: at most once per category per run. Both are
N11's, the same for every seller, so they are keyed by N11's ids and shared by the stores of one shop database.
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import simplejson
from sqlalchemy import Connection, Engine, delete, func, insert, select, update

from include.clock import utcnow
from include.tables import n11_categories, n11_category_attributes
from include.upsert import upsert
from n11.client import N11Client
from n11.errors import N11RequestRefused

log = logging.getLogger(__name__)
MAX_AGE = timedelta(days=1)
BRAND = "Marka"  # N11 has no brand service: the brand is this attribute
_TURKISH_CAPITALS = str.maketrans({"İ": "i", "I": "ı"})


def fold(text: str) -> str:
    """A text as compared with N11's names and values: trimmed, case-folded the Turkish way (İ→i, I→ı)."""
    return unicodedata.normalize("NFC", text).strip().translate(_TURKISH_CAPITALS).casefold()


def loose(text: str) -> str:
    """``fold`` without the dot of i: "SIYAH" (upper-cased the English way) and "siyah" meet."""
    return fold(text).replace("ı", "i")


@dataclass(frozen=True)
class Attribute:
    """One attribute of a category, with N11's values by their folded text."""

    id: int
    name: str
    mandatory: bool
    variant: bool
    custom_value: bool
    values: dict[str, int] = field(default_factory=dict)  # folded value -> N11's value id
    shown: tuple[str, ...] = ()  # N11's values as written, for messages

    def value_id(self, text: str) -> int | None:
        """N11's id of a value: by its Turkish fold, else by its dotless fold when that names one value only."""
        found = self.values.get(fold(text))
        if found is not None:
            return found
        matches = {value_id for value, value_id in self.values.items() if loose(value) == loose(text)}
        return matches.pop() if len(matches) == 1 else None


@dataclass(frozen=True)
class Category:
    id: str
    name: str
    path: str
    is_leaf: bool
    attributes_known: bool = False  # its attributes have been fetched from N11


def flatten(tree: list[dict]) -> list[dict]:
    """The tree's nodes as rows with their parent and path; ``subCategories`` empty or None marks a leaf."""
    rows, stack = [], [(node, None, "") for node in reversed(tree)]
    while stack:
        node, parent, prefix = stack.pop()
        path = f"{prefix} > {node['name']}" if prefix else str(node["name"])
        children = node.get("subCategories") or []
        rows.append({"category_id": str(node["id"]), "parent_id": parent, "name": str(node["name"]), "path": path,
                     "is_leaf": not children})
        stack.extend((child, str(node["id"]), path) for child in reversed(children))
    return rows


def refresh_tree(engine: Engine, client: N11Client, now: datetime | None = None, force: bool = False) -> int | None:
    """Fetch the tree unless the cached copy is younger than a day (or ``force``); returns the categories written
    (None when the copy was fresh)."""
    now = now or utcnow()
    with engine.connect() as conn:
        last = conn.execute(select(func.min(n11_categories.c.refreshed_at))).scalar()
    if not force and last is not None and now - last < MAX_AGE:
        return None
    rows = [{**row, "refreshed_at": now} for row in flatten(client.categories())]
    with engine.begin() as conn:
        upsert(conn, n11_categories, rows)
        conn.execute(delete(n11_categories).where(n11_categories.c.refreshed_at < now))  # gone from N11's tree
    log.info("N11 category tree refreshed: %d categories, %d leaves", len(rows), sum(r["is_leaf"] for r in rows))
    return len(rows)


def refresh_attributes(engine: Engine, client: N11Client, category_ids: Iterable[str],
                       now: datetime | None = None) -> list[str]:
    """Fetch the attributes of the known leaf categories among ``category_ids`` whose copy is missing or a day old,
    each once. Returns the ids fetched."""
    now = now or utcnow()
    cats = n11_categories.c
    wanted = sorted(set(category_ids))
    with engine.connect() as conn:
        stale = conn.execute(select(cats.category_id).where(
            cats.category_id.in_(wanted), cats.is_leaf.is_(True),
            (cats.attributes_refreshed_at.is_(None)) | (cats.attributes_refreshed_at < now - MAX_AGE))
        ).scalars().all() if wanted else []
    fetched = []
    for category_id in stale:
        try:
            attributes = client.category_attributes(category_id)
        except N11RequestRefused as exc:  # its products wait as local errors; the next run asks again
            log.warning("N11 refused the attributes of category %s: %s", category_id, exc)
            continue
        fetched.append(category_id)
        with engine.begin() as conn:
            _write_attributes(conn, category_id, attributes)
            conn.execute(update(n11_categories).where(cats.category_id == category_id)
                         .values(attributes_refreshed_at=now))
    if fetched:
        log.info("N11 attributes refreshed for %d categor%s", len(fetched), "y" if len(fetched) == 1 else "ies")
    return fetched


def _write_attributes(conn: Connection, category_id: str, attributes: list[dict]) -> None:
    table = n11_category_attributes
    conn.execute(delete(table).where(table.c.category_id == category_id))
    rows = [{"category_id": category_id, "attribute_id": str(a["attributeId"]), "name": str(a["attributeName"]),
             "mandatory": bool(a.get("isMandatory")), "variant": bool(a.get("isVariant")),
             "custom_value": bool(a.get("isCustomValue")),
             "attribute_values": simplejson.dumps([{"id": v["id"], "value": v["value"]}
                                                   for v in a.get("attributeValues") or []], ensure_ascii=False)}
            for a in attributes]
    if rows:
        conn.execute(insert(table), rows)


def read_categories(conn: Connection, category_ids: Iterable[str]) -> dict[str, Category]:
    """The cached categories among ``category_ids``, in one query."""
    wanted = sorted(set(category_ids))
    if not wanted:
        return {}
    cats = n11_categories.c
    rows = conn.execute(select(cats.category_id, cats.name, cats.path, cats.is_leaf, cats.attributes_refreshed_at)
                        .where(cats.category_id.in_(wanted))).all()
    return {row.category_id: Category(row.category_id, row.name, row.path, bool(row.is_leaf),
                                      row.attributes_refreshed_at is not None) for row in rows}


def read_attributes(conn: Connection, category_ids: Iterable[str]) -> dict[str, dict[str, Attribute]]:
    """The cached attributes of ``category_ids`` by category and folded attribute name, in one query."""
    wanted = sorted(set(category_ids))
    found: dict[str, dict[str, Attribute]] = {category_id: {} for category_id in wanted}
    if not wanted:
        return found
    table = n11_category_attributes
    for row in conn.execute(select(table).where(table.c.category_id.in_(wanted))):
        values = simplejson.loads(row.attribute_values)
        found[row.category_id][fold(row.name)] = Attribute(
            int(row.attribute_id), row.name, bool(row.mandatory), bool(row.variant), bool(row.custom_value),
            {fold(str(v["value"])): int(v["id"]) for v in values}, tuple(str(v["value"]) for v in values))
    return found


def search(conn: Connection, words: str, limit: int = 50) -> list[Category]:
    """Cached categories whose path holds every word (compared the way attribute values are), leaves first."""
    wanted = fold(words).split()
    cats = n11_categories.c
    rows = conn.execute(select(cats.category_id, cats.name, cats.path, cats.is_leaf).order_by(cats.path)).all()
    hits = [Category(r.category_id, r.name, r.path, bool(r.is_leaf)) for r in rows
            if all(word in fold(r.path) for word in wanted)]
    return sorted(hits, key=lambda c: not c.is_leaf)[:limit]
