"""Listing new products at scale: 10,000 shop products not on N11, in every leaf category of the sandbox.

Times the creation planning (``create.plan_creation``: read the candidates, resolve every attribute to N11's ids,
check the rules, build and save the payloads) on SQLite against the sandbox over HTTP: once cold (the category
tree and each used category's attributes fetched from N11 first) and then as a dry run with the cache fresh,
best of three; the target is under 10 s. Then the batches are sent and the sandbox's log counts the
product-create calls beside ceil(10000 / 1000), and the attribute reads per category (target: one per run).
"""

from __future__ import annotations

import json
import math
import tempfile
import time
from collections import Counter
from datetime import date
from decimal import Decimal
from pathlib import Path

from sqlalchemy import create_engine

from devtools.sandbox import N11Sandbox, SandboxState, generate_account
from devtools.sandbox.catalog import CATEGORIES, LEAF_ATTRIBUTES
from include.products import create, links, push, results
from include.settings import StoreConfig
from include.shop_db import create_tables
from include.tables import n11_product_source, source_metadata
from n11.client import MAX_SKUS_PER_TASK, ClientSettings, N11Client

NEW_PRODUCTS = 10_000
TARGET_SECONDS = 10.0
REPEATS = 3
STORE = StoreConfig(slug="bench", name="Bench Mağaza", start_date=date(2026, 1, 1), update_type="all")
CREATE_PATH = "/ms/product/tasks/product-create"


def new_rows(count: int) -> list[dict]:
    """Shop rows spread over every leaf, each with its mandatory attributes (values in N11's spelling or not)."""
    leaves = sorted(LEAF_ATTRIBUTES)
    rows = []
    for number in range(count):
        leaf = leaves[number % len(leaves)]
        attributes = {}
        for position, (attribute, mandatory) in enumerate(LEAF_ATTRIBUTES[leaf][1:]):
            if mandatory or (number + position) % 2:
                value = attribute.values[number % len(attribute.values)]
                attributes[attribute.name] = value.upper() if number % 3 == 0 else f" {value} "
        title = f"Bench {CATEGORIES[leaf][0]} Ürünü No {number:05d}"
        rows.append({
            "stock_code": f"NEW-{number:05d}", "title": title, "description": f"<p>{title}</p>",
            "list_price": Decimal("199.90"), "sale_price": Decimal("179.90"), "currency": "TL", "quantity": 25,
            "vat_rate": 20, "preparing_day": 2, "shipment_template": "Standart Kargo", "status": "Active",
            "n11_category_id": str(leaf), "brand": "Anadolu" if number % 4 else "Yeni Bir Marka",
            "barcode": None, "image_urls": json.dumps([f"https://img.example.com/{number}-1.jpg"]),
            "attributes": json.dumps(attributes, ensure_ascii=False), "product_main_id": f"PM-{number // 3:05d}"})
    return rows


def main() -> None:
    account = generate_account(seed=1, api_key="bench-key", api_secret="bench-secret", products=200, days=1,
                               packages_per_day=1)
    with tempfile.TemporaryDirectory() as tmp, N11Sandbox(SandboxState([account])).start() as sandbox:
        engine = create_engine(f"sqlite:///{Path(tmp) / 'shop.db'}")
        create_tables(engine)
        source_metadata.create_all(engine)
        with engine.begin() as conn:
            conn.execute(n11_product_source.insert(), new_rows(NEW_PRODUCTS))
        client = N11Client("bench-key", "bench-secret", sandbox.url, ClientSettings(requests_per_minute=60000))
        links.refresh(engine, client, STORE)
        sandbox.clear_log()

        start = time.perf_counter()
        counts, refs = create.plan_creation(engine, client, STORE, "bench-run", dry_run=False)
        cold = time.perf_counter() - start
        reads = Counter(r.path for r in sandbox.requests if r.path.startswith("/cdn/category/"))
        warm = []
        for _ in range(REPEATS):
            start = time.perf_counter()
            create.plan_creation(engine, client, STORE, "bench-dry", dry_run=True)
            warm.append(time.perf_counter() - start)
        warm_reads = sum(1 for r in sandbox.requests if r.path.startswith("/cdn/")) - sum(reads.values()) - 1

        push.send_all(engine, client, STORE.slug, "bench-run", refs)
        while not results.collect(engine, client, STORE.slug, "bench-run"):
            pass
        calls, minimum = len(sandbox.calls("POST", CREATE_PATH)), math.ceil(NEW_PRODUCTS / MAX_SKUS_PER_TASK)
        created = sum(1 for p in account.products.values() if p["stockCode"].startswith("NEW-"))
        print(f"{NEW_PRODUCTS:,} new products in {len(reads)} leaf categories; planned to send {counts['sending']:,}, "
              f"{counts['local_errors']} local error(s)")
        print(f"planning, cold (tree and attributes fetched from N11): {cold:.2f}s (target < {TARGET_SECONDS:.0f}s)")
        print(f"planning, cache fresh (dry run, best of {REPEATS}):      {min(warm):.2f}s (target < "
              f"{TARGET_SECONDS:.0f}s)")
        print(f"attribute reads from N11: {sum(reads.values())} for {len(reads)} categories in the cold run "
              f"(most for one category: {max(reads.values())}, target 1); {warm_reads} in the runs after")
        print(f"product-create calls: {calls}, minimum {minimum} ({'equal' if calls == minimum else 'NOT equal'}); "
              f"N11 created {created:,}")
        client.close()
        engine.dispose()


if __name__ == "__main__":
    main()
