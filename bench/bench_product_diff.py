"""The products diff at scale: 200,000 products on SQLite, 1% of them changed since the last confirmed run.

Times the diff and payload building (``plan_run`` as a dry run: read the shop and the baseline, compare, apply
N11's payload rules, build the entries) beside a plain ``pandas.read_sql`` of the same products table in the same
run, best of three each; the ratio's target is 3x or less. Peak memory is the traced peak of one diff (numpy and
pandas buffers included). Then the batches are sent to the sandbox and its log counts the write calls beside the
minimum, ceil(changed / 1000) per endpoint.
"""

from __future__ import annotations

import math
import resource
import tempfile
import time
import tracemalloc
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pandas as pd
from sqlalchemy import create_engine, text, update

from devtools.sandbox import N11Sandbox, SandboxState, generate_account, shop_products
from devtools.sandbox.state import Account
from include.clock import utcnow
from include.products import baseline, links, push
from include.products.groups import ENDPOINTS, GROUPS, PRICE_STOCK, PRODUCT_UPDATE
from include.products.source import read_linked, source_table
from include.products.sync import RunOptions, plan_run
from include.products.values import canonical
from include.registry import StoreConfig
from include.tables import metadata, n11_product_source, source_metadata
from n11.client import PRODUCT_PAGE_SIZE, ClientSettings, N11Client

PRODUCTS = 200_000
CHANGED = PRODUCTS // 100
REPEATS = 3
STORE = StoreConfig(slug="bench", name="Bench Mağaza", start_date=date(2026, 1, 1), update_type="all")
PATHS = {PRICE_STOCK: "/ms/product/tasks/price-stock-update", PRODUCT_UPDATE: "/ms/product/tasks/product-update"}


class ListingOnly:
    """N11's product listing served from the account in memory: the scan without 800 HTTP pages."""

    def __init__(self, account: Account):
        self.account = account

    def iter_products(self) -> Iterator[list[dict]]:
        rows = list(self.account.products.values())
        for start in range(0, len(rows), PRODUCT_PAGE_SIZE):
            yield rows[start:start + PRODUCT_PAGE_SIZE]


def best(action) -> float:
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return min(times)


def prepare(engine, account: Account) -> dict[str, int]:
    """Links and a baseline equal to the shop (as after a clean run), then 1% of the shop's rows changed."""
    source_metadata.create_all(engine)
    metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(n11_product_source.insert(), shop_products(account, seed=1))
    start = time.perf_counter()
    links.refresh(engine, ListingOnly(account), STORE)
    print(f"first links refresh (the scan served from memory; links and baselines of every SKU written): "
          f"{time.perf_counter() - start:.1f}s", flush=True)
    with engine.begin() as conn:
        shop = read_linked(conn, source_table(conn, STORE.products_source, [c for g in GROUPS for c in g.columns]),
                           STORE.slug)
        baseline.write(conn, STORE.slug, GROUPS, canonical(shop), utcnow())
    codes = list(shop.index[:: len(shop) // CHANGED][:CHANGED])
    changes = [lambda row: {"quantity": int(row.quantity) + 1},  # a third each: stock, price, description
               lambda row: {"list_price": row.list_price + 1, "sale_price": row.sale_price + 1},
               lambda row: {"description": f"{row.description}<p>Yeni sezon.</p>"}]
    with engine.begin() as conn:
        for number, code in enumerate(codes):
            conn.execute(update(n11_product_source).where(n11_product_source.c.stock_code == code)
                         .values(**changes[number % 3](shop.loc[code])))
    return {PRICE_STOCK: sum(1 for n in range(len(codes)) if n % 3 < 2),
            PRODUCT_UPDATE: sum(1 for n in range(len(codes)) if n % 3 == 2)}


def main() -> None:
    start = time.perf_counter()
    account = generate_account(seed=1, api_key="bench-key", api_secret="bench-secret", products=PRODUCTS, days=1,
                               packages_per_day=1)
    with tempfile.TemporaryDirectory() as tmp:
        engine = create_engine(f"sqlite:///{Path(tmp) / 'shop.db'}")
        changed = prepare(engine, account)
        print(f"set-up: {PRODUCTS:,} products, {sum(changed.values()):,} changed, "
              f"{time.perf_counter() - start:.1f}s", flush=True)

        def plain_read() -> None:
            with engine.connect() as conn:
                pd.read_sql(text("SELECT * FROM n11_product_source"), conn)

        def diff() -> None:
            plan_run(engine, STORE, "bench-dry", RunOptions(dry_run=True))

        read_s, diff_s = best(plain_read), best(diff)
        tracemalloc.start()
        diff()
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        print(f"plain read of the products table: {read_s:.2f}s")
        print(f"diff and payload building:        {diff_s:.2f}s  ratio {diff_s / read_s:.2f}x (target <= 3x)")
        print(f"peak memory of one diff:          {peak / 2**20:.0f} MiB traced; process max RSS "
              f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")

        with N11Sandbox(SandboxState([account])).start() as sandbox:
            client = N11Client("bench-key", "bench-secret", sandbox.url, ClientSettings(requests_per_minute=60000))
            _, refs = plan_run(engine, STORE, "bench-run", RunOptions())
            for ref in refs:
                push.send(engine, client, STORE.slug, "bench-run", ref)
            for endpoint in ENDPOINTS:
                calls, minimum = len(sandbox.calls("POST", PATHS[endpoint])), math.ceil(changed[endpoint] / 1000)
                print(f"{endpoint}: {changed[endpoint]} changed SKUs, {calls} write call(s), minimum {minimum} "
                      f"({'equal' if calls == minimum else 'NOT equal'})")
        engine.dispose()


if __name__ == "__main__":
    main()
