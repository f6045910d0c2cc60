"""The cost of following open orders: N11 requests of one scheduled orders run for a store holding 1,000 open
orders, beside N11's limit of 1,000 order requests a minute.

A sandbox account gets 1,000 open (Created) orders; the shop loads them; then one 15-minute run (its windows and
the follow-up of open orders) is counted from the sandbox's request log: at the normal pace (orders younger
than three days looked up every run) and at the raised pace the canary sets (every open order up to 30 days,
every run). Run with ``python -m bench order_follow``.
"""

from __future__ import annotations

import copy
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, update

from devtools.sandbox import N11Sandbox, SandboxState, generate_account
from include.clock import from_ms, to_ms
from include.orders.follow import follow_open_orders
from include.orders.run import load_windows
from include.settings import StoreConfig
from include.shop_db import create_tables
from include.store_status import record_settings
from include.tables import n11_stores
from n11.client import ClientSettings, N11Client

OPEN_ORDERS = 1000
N11_LIMIT_PER_MINUTE = 1000
KEY, SECRET = "bench-appkey", "bench-appsecret"
STORE = StoreConfig(slug="bench", name="Bench Mağaza", start_date=datetime(2026, 1, 1).date())
FAST = ClientSettings(requests_per_minute=600_000)


def open_account(now: datetime, spread: timedelta):
    """An account with ``OPEN_ORDERS`` Created orders, created evenly over ``spread`` before ``now``."""
    account = generate_account(seed=4, api_key=KEY, api_secret=SECRET, products=20, days=1,
                               end=now - timedelta(days=60), packages_per_day=1)
    template = copy.deepcopy(account.packages[0])
    for number in range(OPEN_ORDERS):
        created = to_ms(now - spread * (number + 1) / OPEN_ORDERS)
        package = copy.deepcopy(template)
        for offset, line in enumerate(package["lines"]):
            line.update(orderLineId=990_000_000 + number * 10 + offset, orderItemLineItemStatusName="Created")
        package.update(id=600_000_000 + number, orderNumber=str(4_000_000_000_000 + number),
                       shipmentPackageStatus="Created", lastModifiedDate=created, _created=created,
                       _sender="SELLER", packageHistories=[{"createdDate": created, "status": "Created"}])
        account.add_package(package)
    return account


def requests_of_one_run(spread: timedelta, raised: bool) -> tuple[int, int]:
    """(window requests, follow-up requests) of one 15-minute run after the shop loaded every open order."""
    now = datetime.now(UTC).replace(microsecond=0)
    with tempfile.TemporaryDirectory() as folder, \
            N11Sandbox(SandboxState([open_account(now, spread)])).start() as sandbox:
        engine = create_engine(f"sqlite:///{Path(folder) / 'shop.db'}")
        create_tables(engine)
        record_settings(engine, STORE)
        client = N11Client(KEY, SECRET, sandbox.url, FAST)
        try:
            load_windows(engine, client, STORE, now - spread - timedelta(days=1), now - timedelta(minutes=15),
                        now=now)
            follow_open_orders(engine, client, STORE, now=from_ms(to_ms(now)))  # the first look-up of each
            with engine.begin() as conn:
                conn.execute(update(n11_stores).values(order_filter_contradicted_at=from_ms(to_ms(now))
                                                       if raised else None))
            sandbox.clear_log()
            load_windows(engine, client, STORE, now - timedelta(minutes=15), now, now=now)
            windows = len(sandbox.requests)
            follow_open_orders(engine, client, STORE, now=from_ms(to_ms(now + timedelta(minutes=15))))
            return windows, len(sandbox.requests) - windows
        finally:
            client.close()
            engine.dispose()


def main() -> None:
    print(f"{OPEN_ORDERS:,} open orders; N11 allows {N11_LIMIT_PER_MINUTE:,} order requests a minute")
    print(f"{'pace':<44}{'window reqs':>12}{'follow reqs':>12}{'total':>7}{'share of a minute':>19}")
    for label, spread, raised in (("normal, orders of the last 2 days", timedelta(days=2), False),
                                  ("normal, orders spread over 30 days", timedelta(days=30), False),
                                  ("raised by the canary, over 30 days", timedelta(days=30), True)):
        windows, follow = requests_of_one_run(spread, raised)
        total = windows + follow
        print(f"{label:<44}{windows:>12}{follow:>12}{total:>7}{total / N11_LIMIT_PER_MINUTE:>18.0%}", flush=True)


if __name__ == "__main__":
    main()
