"""The products plan at scale: 200,000 products on SQLite, 1% of them changed since the last run.

Times the plan (``plan_run`` as a dry run: read the shop's rows joined with N11's live stock and price from the
links and the confirmed baseline, compare, apply the store's rules and N11's payload rules, build the entries)
beside a plain ``pandas.read_sql`` of the same products table in the same run, best of three each; the ratio's
target is 3x or less. Peak memory is that of a fresh process that makes one plan (its max RSS, interpreter and
libraries included; target under 600 MB), and the traced peak of the plan itself (numpy and pandas buffers
included). Then the batches are sent to the sandbox and its log counts the write calls beside the minimum,
ceil(changed / 1000) per field group (each group travels in batches of its own).
"""

from __future__ import annotations

import math
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import pandas as pd
from sqlalchemy import create_engine, text, update

from devtools.sandbox import N11Sandbox, SandboxState, generate_account, shop_products
from devtools.sandbox.accounts import Account
from include.clock import utcnow
from include.products import baseline, links, push
from include.products.groups import BASELINE_GROUPS, PRICE_STOCK, PRODUCT_UPDATE
from include.products.run import RunOptions, plan_run
from include.products.source import read_plan_rows, source_table
from include.products.values import canonical
from include.settings import StoreConfig
from include.tables import metadata, n11_product_source, source_metadata
from n11.client import PRODUCT_PAGE_SIZE, ClientSettings, N11Client

PRODUCTS = 200_000
CHANGED = PRODUCTS // 100
REPEATS = 3
RSS_TARGET_MB = 600
STORE = StoreConfig(slug="bench", name="Bench Mağaza", start_date=date(2026, 1, 1), update_type="all")
PATHS = {PRICE_STOCK: "/ms/product/tasks/price-stock-update", PRODUCT_UPDATE: "/ms/product/tasks/product-update"}
N11_NAMES = {"quantity": "quantity", "list_price": "listPrice", "sale_price": "salePrice", "currency": "currencyType"}


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
    """N11 showing the shop's stock and price, a baseline equal to the shop (as after a clean run), then 1% of the
    shop's rows changed: a third each in stock, price and description. Returns the changed SKUs per group."""
    source_metadata.create_all(engine)
    metadata.create_all(engine)
    rows = shop_products(account, seed=1)
    for row in rows:
        product = account.products.get(row["stock_code"])
        if product is not None:
            product.update({field: Decimal(str(row[column])) if column.endswith("price") else row[column]
                            for column, field in N11_NAMES.items()})
    with engine.begin() as conn:
        conn.execute(n11_product_source.insert(), rows)
    start = time.perf_counter()
    links.refresh(engine, ListingOnly(account), STORE)
    print(f"first links refresh (the scan served from memory; links and baselines of every SKU written): "
          f"{time.perf_counter() - start:.1f}s", flush=True)
    with engine.begin() as conn:
        source = source_table(conn, STORE.products_source, [c for g in BASELINE_GROUPS for c in g.columns])
        shop = pd.concat(read_plan_rows(conn, source, STORE.slug, BASELINE_GROUPS))
        baseline.write(conn, STORE.slug, BASELINE_GROUPS, canonical(shop), utcnow())
    codes = list(shop.index[:: len(shop) // CHANGED][:CHANGED])
    changes = [lambda row: {"quantity": int(row.quantity) + 1},
               lambda row: {"list_price": row.list_price + 1, "sale_price": row.sale_price + 1},
               lambda row: {"description": f"{row.description}<p>Yeni sezon.</p>"}]
    with engine.begin() as conn:
        current = {row.stock_code: row for row in conn.execute(n11_product_source.select())}
        for number, code in enumerate(codes):
            conn.execute(update(n11_product_source).where(n11_product_source.c.stock_code == code)
                         .values(**changes[number % 3](current[code])))
    return {group: sum(1 for n in range(len(codes)) if n % 3 == index)
            for index, group in enumerate(("stock", "price", "content"))}


def plan_in_fresh_process(db: Path) -> None:
    """One dry-run plan in a new interpreter; prints its max RSS and the plan's traced peak."""
    engine = create_engine(f"sqlite:///{db}")
    tracemalloc.start()
    plan_run(engine, STORE, "bench-dry", RunOptions(dry_run=True))
    traced = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the parent (1.3 GB with the sandbox's account).
    peak_kb = next(int(line.split()[1]) for line in Path("/proc/self/status").read_text().splitlines()
                   if line.startswith("VmHWM:"))
    print(f"{peak_kb / 1024:.0f} {traced / 2**20:.0f}")


def main() -> None:
    start = time.perf_counter()
    account = generate_account(seed=1, api_key="bench-key", api_secret="bench-secret", products=PRODUCTS, days=1,
                               packages_per_day=1)
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "shop.db"
        engine = create_engine(f"sqlite:///{db}")
        changed = prepare(engine, account)
        print(f"set-up: {PRODUCTS:,} products, {sum(changed.values()):,} changed, "
              f"{time.perf_counter() - start:.1f}s", flush=True)

        def plain_read() -> None:
            with engine.connect() as conn:
                pd.read_sql(text("SELECT * FROM n11_product_source"), conn)

        def plan() -> None:
            plan_run(engine, STORE, "bench-dry", RunOptions(dry_run=True))

        read_s, plan_s = best(plain_read), best(plan)
        child = subprocess.run([sys.executable, "-m", "bench.bench_product_diff", "plan", str(db)], check=True,
                               capture_output=True, text=True)
        rss, traced = child.stdout.split()[-2:]
        print(f"plain read of the products table:         {read_s:.2f}s")
        print(f"plan with the live comparison (dry run):  {plan_s:.2f}s  ratio {plan_s / read_s:.2f}x "
              "(target <= 3x)")
        print(f"peak memory of a process making one plan: {rss} MiB max RSS (target < {RSS_TARGET_MB} MB); "
              f"{traced} MiB traced in the plan")

        with N11Sandbox(SandboxState([account])).start() as sandbox:
            client = N11Client("bench-key", "bench-secret", sandbox.url, ClientSettings(requests_per_minute=60000))
            _, refs = plan_run(engine, STORE, "bench-run", RunOptions())
            push.send_all(engine, client, STORE.slug, "bench-run", refs)
            calls = {endpoint: len(sandbox.calls("POST", path)) for endpoint, path in PATHS.items()}
            minimum = {PRICE_STOCK: math.ceil(changed["stock"] / 1000) + math.ceil(changed["price"] / 1000),
                       PRODUCT_UPDATE: math.ceil(changed["content"] / 1000)}
            for endpoint in PATHS:
                print(f"{endpoint}: {calls[endpoint]} write call(s), minimum {minimum[endpoint]} "
                      f"({'equal' if calls[endpoint] == minimum[endpoint] else 'NOT equal'}); changed SKUs "
                      + ", ".join(f"{group} {n}" for group, n in changed.items()))
        engine.dispose()


if __name__ == "__main__":
    if sys.argv[1:2] == ["plan"]:
        plan_in_fresh_process(Path(sys.argv[2]))
    else:
        main()
