"""Open orders followed to the end by direct look-up, whatever N11's date filter really filters.

The windows ask N11 for packages by ``orderByField=true``, documented to filter on the last modification. If
it only sorted, the windows would filter creation dates and a status change of an older order would never
come. So every run also looks up, by package id in batches, the packages the shop holds open (the order not
Delivered, Cancelled or UnSupplied): every run while the package is younger than the store's
``follow_every_run_days`` (3 by default), once a day up to ``follow_days`` (30). A package that turned into a
split parent or went missing has its order looked up by order number, so the new packages come too.

When the canary (``canary.py``) has seen N11's answers contradict the filter, for ``RAISED_FOR`` after it every
open package up to ``follow_days`` is looked up on every run.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, and_, or_, select, update

from include.clock import utcnow
from include.orders.canary import RAISED_FOR
from include.orders.fetch import read_failure, read_order
from include.orders.load import load_packages
from include.orders.status import DEAD, OPEN, UNPACKED
from include.settings import StoreConfig
from include.tables import n11_order_packages, n11_orders, n11_stores
from n11.client import N11Client

BATCH = 50  # package ids per look-up: an answer fits one page of 100


@dataclass
class FollowSummary:
    """What one follow-up did, for the task's log line."""

    packages: int = 0
    requests: int = 0
    orders_changed: int = 0

    def log_line(self, slug: str) -> str:
        return (f"store {slug!r}, open orders followed up: packages {self.packages}, requests {self.requests}, "
                f"orders changed {self.orders_changed}")


def follow_open_orders(engine: Engine, client: N11Client, store: StoreConfig,
                       now: datetime | None = None) -> FollowSummary:
    """Look up the open packages due at this run and load what N11 answers for them."""
    now = now or utcnow()
    summary = FollowSummary()
    due = _due_packages(engine, store, now)
    for start in range(0, len(due), BATCH):
        batch = due[start:start + BATCH]
        senders = {package_id: sender for package_id, _, sender in batch}
        ids = [package_id for package_id in senders if package_id.isdigit()]  # not a stand-in key: N11's ids
        content = []
        if ids:
            with _named(store, f"{len(ids)} package(s) from {ids[0]}"):
                content, _ = client.shipment_packages_page(0, sender="ALL", by_last_modified=False, direction=None,
                                                           package_ids=ids)
            summary.requests += 1
        answered = {str(package.get("id")): package for package in content}
        packages = [{**package, "sender": senders.get(key)} for key, package in answered.items()]
        for number, sender in sorted({(number, sender) for package_id, number, sender in batch
                                      if _needs_order(answered.get(package_id))}):
            with _named(store, f"order {number}"):
                packages += read_order(client, number, sender)
            summary.requests += 1
        counts = load_packages(engine, store, packages, "look-up of open orders", _followed(store.slug, senders, now))
        summary.packages += len(batch)
        summary.orders_changed += counts.orders_updated
    return summary


def _named(store: StoreConfig, what: str) -> AbstractContextManager[None]:
    """A failed look-up named by store and what was looked up; the batches before it stay loaded."""
    return read_failure(f"store {store.slug!r}, look-up of open orders, {what}",
                        "the batches before it are loaded, this one is not; the next run looks it up again")


def _followed(slug: str, package_ids: Iterable[str], now: datetime):
    """The statement that notes the batch as looked up, in the same transaction as its load."""
    return (update(n11_order_packages)
            .where(n11_order_packages.c.store == slug, n11_order_packages.c.package_id.in_(list(package_ids)))
            .values(followed_at=now))


def _needs_order(package: dict | None) -> bool:
    """A package gone from the answer or turned into a split parent: its order has new packages."""
    if package is None:
        return True
    status = str(package.get("shipmentPackageStatus") or "").strip().casefold()
    return status in {UNPACKED.casefold(), *(s.casefold() for s in DEAD)}


def _due_packages(engine: Engine, store: StoreConfig, now: datetime) -> list[tuple[str, str, str | None]]:
    """(package id, order number, sender) of the open packages to look up now, oldest look-up first: every run
    under the store's ``follow_every_run_days`` (under ``follow_days`` while the canary has raised the pace),
    daily under ``follow_days``."""
    packages, orders, slug = n11_order_packages, n11_orders, store.slug
    every_run_for, followed_for = timedelta(days=store.follow_every_run_days), timedelta(days=store.follow_days)
    with engine.connect() as conn:
        contradicted = conn.scalar(select(n11_stores.c.order_filter_contradicted_at)
                                   .where(n11_stores.c.store == slug))
        raised = contradicted is not None and contradicted > now - RAISED_FOR
        created = packages.c.created_at
        every_run = created > now - (followed_for if raised else every_run_for)
        daily = and_(created > now - followed_for,
                     or_(packages.c.followed_at.is_(None), packages.c.followed_at <= now - timedelta(days=1)))
        query = (select(packages.c.package_id, packages.c.order_number, packages.c.sender)
                 .join(orders, and_(orders.c.store == packages.c.store,
                                    orders.c.order_number == packages.c.order_number))
                 .where(packages.c.store == slug, orders.c.status.in_(OPEN),
                        packages.c.status.notin_(DEAD), or_(every_run, daily))
                 .order_by(packages.c.followed_at.is_not(None), packages.c.followed_at, packages.c.package_id))
        return [tuple(row) for row in conn.execute(query)]

