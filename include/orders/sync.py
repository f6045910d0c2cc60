"""One data interval of a store's N11 orders into the shop database: what the orders task does.

Each window is read completely (every status but ``Unpacked``, every page), turned into rows, and only then
written, in one transaction. A failure therefore leaves earlier windows loaded and the failing one untouched,
and a rerun of the interval picks up where it failed without duplicating anything.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from include.orders.load import LoadCounts, load_window
from include.orders.transform import IMPORTED_STATUSES, BadPackage, package_rows
from include.orders.windows import Window, order_windows
from include.registry import StoreConfig
from include.store_status import utcnow
from n11.client import N11Client
from n11.errors import N11AuthError, N11Error


class OrderSyncError(Exception):
    """The sync of an interval stopped; the message names the store, the window and what failed."""


class BadOrderData(OrderSyncError):
    """N11 sent a package the shop cannot take: retrying cannot help until N11's answer changes."""


class OrderFetchError(OrderSyncError):
    """N11 did not answer a page usably, even after the client's retries."""


@dataclass
class SyncSummary:
    """What one interval's sync did, for the task's one-line log."""

    store: str
    start: datetime
    end: datetime
    windows: int = 0
    pages: int = 0
    packages: int = 0
    unpacked: int = 0
    counts: LoadCounts = field(default_factory=LoadCounts)

    def log_line(self) -> str:
        c = self.counts
        return (f"store {self.store!r}, orders modified {self.start.isoformat()} to {self.end.isoformat()}: "
                f"windows {self.windows}, pages {self.pages}, packages {self.packages} (Unpacked skipped "
                f"{self.unpacked}); orders new {c.orders_new}, updated {c.orders_updated}, unchanged "
                f"{c.orders_unchanged}; lines new {c.lines_new}, updated {c.lines_updated}")


def sync_orders(client: N11Client, engine: Engine, store: StoreConfig, start: datetime, end: datetime, *,
                now: datetime | None = None) -> SyncSummary:
    """Load the orders N11 last modified in [start, end) (padded by the store's overlap) into the shop DB."""
    summary = SyncSummary(store.slug, start, end)
    overlap = timedelta(hours=store.order_window_overlap_hours)
    for window in order_windows(start, end, overlap, now or datetime.now(UTC)):
        packages, pages = fetch_window(client, store, window)
        try:
            rows = package_rows(store.slug, packages, utcnow())
        except BadPackage as exc:
            raise BadOrderData(f"store {store.slug!r}, window {window}: N11's answer is unusable: {exc}; nothing "
                               "of this window was written. Rerun the interval once N11 answers correctly.") from None
        with engine.begin() as conn:
            summary.counts += load_window(conn, store.slug, rows)
        summary.windows += 1
        summary.pages += pages
        summary.packages += len(packages)
        summary.unpacked += rows.unpacked
    return summary


def fetch_window(client: N11Client, store: StoreConfig, window: Window) -> tuple[list[dict], int]:
    """Every package of the window, one request series per status (N11 takes one per request); and the
    number of pages read."""
    packages: list[dict] = []
    pages = 0
    for status in IMPORTED_STATUSES:
        page = 0
        try:
            for content in client.iter_shipment_packages(start_ms=window.start_ms, end_ms=window.end_ms,
                                                         status=status, sender=store.order_sender,
                                                         by_last_modified=True):
                packages.extend(content)
                page += 1
        except N11AuthError:
            raise
        except N11Error as exc:
            raise OrderFetchError(f"store {store.slug!r}, window {window}: status {status} page {page}: {exc}; "
                                  "nothing of this window was written") from exc
        pages += page
    return packages, pages
