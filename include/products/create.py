"""New products: plan which shop products go to N11's product-create, with their attributes resolved to N11's ids.

A candidate is a shop row with an ``n11_category_id`` whose stock code N11 does not have (no link after the
scan). Its attributes (the ``brand`` column is N11's ``Marka``) are resolved against the category's cached
attributes: a value N11 lists goes as its ``valueId``, another as ``customValue`` where N11 allows one. A row
that breaks a rule is a local error (in words a shop person understands) and is not sent. A SKU is never sent
twice: not while N11 works on it, not after N11 created it, and after a failure only once its payload changed.
Creation ignores the update type; ``product_create: false`` pauses it alone.
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import simplejson
from sqlalchemy import Connection, Engine, TableClause, delete, inspect, select

from include.clock import utcnow
from include.products import categories, creations, desired, push, rules
from include.products.categories import Attribute, Category, fold
from include.products.groups import GROUPS, PRODUCT_CREATE
from include.products.source import COLUMNS, source_table
from include.products.values import payload_hash, payload_values, texts
from include.settings import StoreConfig
from include.tables import n11_product_links, n11_product_sync_errors
from n11.client import MAX_SKUS_PER_TASK, N11Client

log = logging.getLogger(__name__)
CREATE_COLUMNS = ("n11_category_id", "brand", "barcode", "image_urls", "attributes", "product_main_id")
GROUP = "create"  # the ``groups`` of creation errors in n11_product_sync_errors
LOCAL = "local"
MIN_TITLE = 15
LISTED = 20  # payloads a dry run logs in full
SHOWN_VALUES = 8  # N11 values named in a message


@dataclass
class CreatePlan:
    entries: list[dict]  # product-create SKU entries, in stock-code order
    errors: pd.DataFrame  # local errors: stock_code, group, rule
    candidates: int = 0
    waiting: list[str] = field(default_factory=list)  # sent earlier: N11's answer or the link still to come
    held_back: list[str] = field(default_factory=list)  # N11 refused this very payload before

    def counts(self) -> dict:
        return {"candidates": self.candidates, "sending": len(self.entries),
                "local_errors": int(self.errors.stock_code.nunique()), "held_back": len(self.held_back),
                "waiting": len(self.waiting), "calls": math.ceil(len(self.entries) / MAX_SKUS_PER_TASK)}


def creation_source(conn: Connection, name: str) -> TableClause | None:
    """The products source with the creation columns it has; None when it has no ``n11_category_id``."""
    schema, _, bare = name.rpartition(".")
    inspector = inspect(conn)
    if not inspector.has_table(bare, schema=schema or None):
        return source_table(conn, name, [])  # says what is missing
    found = {c["name"] for c in inspector.get_columns(bare, schema=schema or None)}
    if "n11_category_id" not in found:
        return None
    return source_table(conn, name, [*COLUMNS, *(c for c in CREATE_COLUMNS if c in found)])


def read_candidates(conn: Connection, source: TableClause, slug: str) -> pd.DataFrame:
    """Source rows with a category whose stock code N11 does not have, indexed by stock code; missing creation
    columns come as empty."""
    links = n11_product_links
    linked = select(links.c.stock_code).where(links.c.store == slug)
    query = select(*source.c).where(source.c.n11_category_id.is_not(None), source.c.stock_code.not_in(linked))
    shop = pd.read_sql(query, conn, index_col="stock_code")
    for column in CREATE_COLUMNS:
        if column not in shop:
            shop[column] = None
    shop["n11_category_id"] = [_category_id(value) for value in shop.n11_category_id]
    return shop[shop.n11_category_id.notna()]


def _category_id(value: Any) -> str | None:
    """A category id as text, whatever type the source gives it (1301, 1301.0, " 1301 ")."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    return text or None


def plan(shop: pd.DataFrame, cats: dict[str, Category], attributes: dict[str, dict[str, Attribute]],
         previous: dict[str, tuple[str, str]], waiting: set[str], store: StoreConfig) -> CreatePlan:
    """The entries and local errors of ``shop`` (``read_candidates``). ``previous``: what product-create did with
    a SKU before (status, payload hash); ``waiting``: SKUs in batches N11 has not answered. A new product goes out
    with the store's stock buffer and price markup applied, as its later updates do."""
    result = CreatePlan(entries=[], errors=pd.DataFrame(columns=rules.COLUMNS), candidates=shop.index.nunique())
    created = {code for code, (status, _) in previous.items() if status == creations.CREATED}
    result.waiting = sorted(set(shop.index) & (waiting | created))
    shop = shop[~shop.index.isin(result.waiting)]
    unusable = pd.concat([rules.repeated_codes(list(shop.index)), rules.overlong_codes(list(shop.index))],
                         ignore_index=True)
    shop = shop[~shop.index.isin(unusable.stock_code)].sort_index()
    wanted = desired.values(shop, store.stock_buffer, store.price_markup_percent)
    found = [unusable, *(rules.problems(shop, wanted, group, store.price_markup_percent) for group in GROUPS)]
    numbers = {column: payload_values(column, wanted[column])
               for column in ("list_price", "sale_price", "quantity", "vat_rate", "preparing_day")}
    broken = set(pd.concat(found).stock_code)
    problems: list[tuple[str, str]] = []
    for position, row in enumerate(shop.reset_index().to_dict("records")):
        code = row["stock_code"]
        entry, messages = _entry(row, cats, attributes)
        problems += [(code, message) for message in messages]
        if messages or code in broken:
            continue
        entry.update({"salePrice": numbers["sale_price"][position], "listPrice": numbers["list_price"][position],
                      "quantity": numbers["quantity"][position], "vatRate": numbers["vat_rate"][position],
                      "preparingDay": numbers["preparing_day"][position]})
        if code in previous and payload_hash(entry) == previous[code][1]:
            result.held_back.append(code)
            continue
        result.entries.append(entry)
    found.append(pd.DataFrame(problems, columns=["stock_code", "rule"]).assign(group=GROUP)[rules.COLUMNS])
    found = [frame for frame in found if len(frame)]
    if found:
        result.errors = pd.concat(found, ignore_index=True).assign(group=GROUP)
    return result


def _entry(row: dict, cats: dict[str, Category], attributes: dict[str, dict[str, Attribute]]) -> tuple[dict, list]:
    """A row's payload without the numbers (checked column-wise), and what keeps it from N11."""
    problems = []
    category = cats.get(row["n11_category_id"])
    if category is None:
        problems.append(f"n11_category_id {row['n11_category_id']} is not an N11 category (find one with "
                        "`python -m include.cli.categories search <words>`)")
    elif not category.is_leaf:
        problems.append(f"n11_category_id {category.id} ({category.path}) has subcategories; N11 takes products "
                        "only in a category without subcategories")
    elif not category.attributes_known:
        problems.append(f"N11 did not list the attributes of category {category.id} ({category.path}) yet; "
                        "the next run asks again")
    title = row["title"].strip() if isinstance(row["title"], str) else ""
    if len(title) < MIN_TITLE:
        problems.append(f"title {title!r} has {len(title)} characters; N11 wants at least {MIN_TITLE}"
                        if title else "title is missing")
    images, problem = _images(row["image_urls"])
    problems += [problem] if problem else []
    resolved = []
    given, problem = _given(row)
    if problem:
        problems.append(problem)
    elif category is not None and category.is_leaf and category.attributes_known:
        resolved, wrong = resolve(attributes.get(category.id, {}), given, category)
        problems += wrong
    entry = {"stockCode": row["stock_code"], "title": title, "description": row["description"],
             "categoryId": int(category.id) if category and category.id.isdigit() else row["n11_category_id"],
             "currencyType": row["currency"], "productMainId": _text(row["product_main_id"]) or row["stock_code"],
             "shipmentTemplate": row["shipment_template"], "images": images, "attributes": resolved}
    barcode = _text(row["barcode"])
    if barcode:
        entry["barcode"] = barcode
    return entry, problems


def _text(value: Any) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _images(raw: Any) -> tuple[list[dict], str | None]:
    """``image_urls`` (a JSON array of https URLs) as N11's images, or why it cannot be."""
    if raw is None or (isinstance(raw, str) and not raw.strip()) or (isinstance(raw, float) and math.isnan(raw)):
        return [], "image_urls is empty; N11 needs at least one image"
    try:
        urls = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        urls = None
    if not isinstance(urls, list) or not all(isinstance(url, str) for url in urls):
        return [], f"image_urls is not a JSON array of URLs: {str(raw)[:80]!r}"
    urls = [url.strip() for url in urls if url.strip()]
    if not urls:
        return [], "image_urls is empty; N11 needs at least one image"
    plain = [url for url in urls if not url.lower().startswith("https://")]
    if plain:
        return [], f"image {plain[0]!r} is not an https URL; N11 takes only https images"
    return [{"url": url, "order": order} for order, url in enumerate(urls, start=1)], None


def _given(row: dict) -> tuple[dict[str, Any], str | None]:
    """The row's attributes (a JSON object) with the ``brand`` column as ``Marka`` unless they name one; or why
    they cannot be read."""
    raw = row["attributes"]
    try:
        given = json.loads(raw) if isinstance(raw, str) and raw.strip() else raw or {}
    except ValueError:
        given = None
    if not isinstance(given, dict):
        return {}, f"attributes is not a JSON object of attribute names and values: {str(raw)[:80]!r}"
    brand = _text(row["brand"])
    if brand and not any(fold(str(name)) == fold(categories.BRAND) for name in given):
        given = {categories.BRAND: brand, **given}
    return given, None


def resolve(known: dict[str, Attribute], given: dict[str, Any], category: Category) -> tuple[list[dict], list[str]]:
    """N11's attribute entries for ``given`` (name -> value), and what is wrong with them."""
    entries: dict[int, dict] = {}
    named, problems = set(), []
    for name, value in given.items():
        attribute = known.get(fold(str(name)))
        text = "" if value is None else str(value).strip()
        if attribute is None:
            problems.append(f"attribute {name!r} is not an attribute of category {category.id} ({category.name}); "
                            f"its attributes: {', '.join(a.name for a in known.values()) or 'none'}")
            continue
        if not text:
            continue  # as if not given: the mandatory check names it
        named.add(attribute.id)
        value_id = attribute.value_id(text)
        if value_id is not None:
            entries[attribute.id] = {"id": attribute.id, "valueId": value_id}
        elif attribute.custom_value:
            entries[attribute.id] = {"id": attribute.id, "customValue": text}
        else:
            problems.append(f"attribute {attribute.name!r} = {text!r} is not one of N11's values for category "
                            f"{category.id} ({category.name}), and N11 takes no other value for it; "
                            f"N11's values: {_shown(attribute)}")
    for attribute in known.values():
        if attribute.mandatory and attribute.id not in named:
            source = "the brand column or " if fold(attribute.name) == fold(categories.BRAND) else ""
            problems.append(f"category {category.id} ({category.name}) requires attribute {attribute.name!r}; "
                            f"give it in {source}attributes" + (f" (N11's values: {_shown(attribute)})"
                                                                 if attribute.shown else ""))
    return [entries[key] for key in sorted(entries)], problems


def _shown(attribute: Attribute) -> str:
    more = len(attribute.shown) - SHOWN_VALUES
    return ", ".join(attribute.shown[:SHOWN_VALUES]) + (f" and {more} more" if more > 0 else "")


def plan_creation(engine: Engine, client: N11Client, store: StoreConfig, run_id: str,
                  dry_run: bool) -> tuple[dict, list[push.BatchRef]]:
    """Refresh the category cache where due, plan the store's new products and save their batches (unless a dry
    run). Runs after the scan, which links what N11 has. Returns (counts, batches)."""
    if not store.product_create:
        log.info("store %r: product creation is paused (product_create is false); no new products are listed",
                 store.slug)
        return {"paused": True}, []
    with engine.connect() as conn:
        source = creation_source(conn, store.products_source)
        if source is None:
            log.info("store %r: the products source %r has no n11_category_id column; no new products are listed",
                     store.slug, store.products_source)
            return {"no_category_column": True}, []
        shop = read_candidates(conn, source, store.slug)
    wanted = set(shop.n11_category_id)
    if wanted:
        categories.refresh_tree(engine, client)
        categories.refresh_attributes(engine, client, wanted)
    with engine.connect() as conn:
        found = plan(shop, categories.read_categories(conn, wanted), categories.read_attributes(conn, wanted),
                     creations.previous(conn, store.slug), creations.waiting(conn, store.slug), store)
    counts = found.counts()
    log.info("store %r new products: %d candidate(s); creating %d in %d call(s); %d local error(s); %d held back "
             "(same payload N11 refused last time); %d sent before (N11's answer or the link to come)", store.slug,
             counts["candidates"], counts["sending"], counts["calls"], counts["local_errors"], counts["held_back"],
             counts["waiting"])
    if dry_run:
        _log_dry_run(store.slug, found)
        return counts, []
    with engine.begin() as conn:
        _record_local_errors(conn, store.slug, run_id, found.errors)
        refs = push.save(conn, store.slug, run_id, {PRODUCT_CREATE: found.entries})
    return counts, refs


def _log_dry_run(slug: str, found: CreatePlan) -> None:
    for entry in found.entries[:LISTED]:
        log.info("store %r dry run: would create %s", slug, push.dumps([entry]))
    if len(found.entries) > LISTED:
        log.info("store %r dry run: ... and %d more new products", slug, len(found.entries) - LISTED)
    for row in found.errors.head(LISTED).itertuples():
        log.info("store %r dry run: not created %s: %s", slug, row.stock_code, row.rule)


def _record_local_errors(conn: Connection, slug: str, run_id: str, errors: pd.DataFrame) -> None:
    """Replace the store's local creation errors with this run's (the update plan keeps its own)."""
    table = n11_product_sync_errors
    conn.execute(delete(table).where(table.c.store == slug, table.c.task_id == LOCAL,
                                     table.c.endpoint == PRODUCT_CREATE))
    if errors.empty:
        return
    now = utcnow()
    conn.execute(table.insert(), [
        {"store": slug, "stock_code": code, "task_id": LOCAL, "run_id": run_id, "kind": LOCAL,
         "endpoint": PRODUCT_CREATE, "groups": GROUP, "reasons": simplejson.dumps(list(texts(rows.rule)),
                                                                                  ensure_ascii=False),
         "payload_hash": None, "recorded_at": now}
        for code, rows in errors.groupby("stock_code", sort=True)])
