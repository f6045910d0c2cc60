"""One data interval of a store's N11 orders into the shop database: what the orders task does.

Each window is read completely (every status but ``Unpacked``, every page), turned into rows, and only then
written, in one transaction. A failure therefore leaves earlier windows loaded and the failing one untouched,
and a rerun of the interval picks up where it failed without duplicating anything.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, Executable

from include.clock import utcnow
from include.orders.canary import contradictions, record_contradiction
from include.orders.load import LoadCounts, load_window
from include.orders.transform import IMPORTED_STATUSES, SENDERS, BadPackage, package_rows
from include.orders.windows import Window, order_windows
from include.registry import StoreConfig
from n11.client import PACKAGE_PAGE_SIZE, N11Client
from n11.errors import N11AuthError, N11Error

log = logging.getLogger(__name__)
PAGE_SIZE = PACKAGE_PAGE_SIZE  # N11's maximum; a module constant so tests can make windows span pages
SPLIT_FACTOR = 2  # parts per page of the answer: a denser part is cut again


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
    counts: LoadCounts = field(default_factory=LoadCounts)

    def log_line(self) -> str:
        c = self.counts
        return (f"store {self.store!r}, orders modified {self.start.isoformat()} to {self.end.isoformat()}: "
                f"windows {self.windows}, pages {self.pages}, packages {self.packages}; orders new {c.orders_new}, "
                f"updated {c.orders_updated}, unchanged "
                f"{c.orders_unchanged}; lines new {c.lines_new}, updated {c.lines_updated}")


def sync_orders(client: N11Client, engine: Engine, store: StoreConfig, start: datetime, end: datetime, *,
                now: datetime | None = None) -> SyncSummary:
    """Load the orders N11 last modified in [start, end) (padded by the store's overlap) into the shop DB."""
    summary = SyncSummary(store.slug, start, end)
    overlap = timedelta(hours=store.order_window_overlap_hours)
    for window in order_windows(start, end, overlap, now or datetime.now(UTC)):
        packages, pages = fetch_senders(client, store, window)
        contradicting = contradictions(packages, window, overlap)
        if contradicting:
            record_contradiction(engine, store, contradicting, window)
        summary.counts += load_packages(engine, store, packages, f"window {window}")
        summary.windows += 1
        summary.pages += pages
        summary.packages += len(packages)
    return summary


def load_packages(engine: Engine, store: StoreConfig, packages: list[dict], where: str,
                  *also: Executable) -> LoadCounts:
    """Turn N11's packages into rows and load them in one transaction (with the statements ``also``), or fail
    naming the store, ``where`` ("window ..." or another batch) and what is unusable, writing nothing of it."""
    try:
        rows = package_rows(store.slug, packages, utcnow())
    except BadPackage as exc:
        raise BadOrderData(f"store {store.slug!r}, {where}: N11's answer is unusable: {exc}; nothing of this "
                           f"{where.split(' ', 1)[0]} was written. Rerun once N11 answers correctly.") from None
    with engine.begin() as conn:
        counts = load_window(conn, store.slug, rows)
        for statement in also:
            conn.execute(statement)
    return counts


def fetch_senders(client: N11Client, store: StoreConfig, window: Window) -> tuple[list[dict], int]:
    """Every package of the window from each sender the store imports, each marked with its ``sender``.

    A package does not say whether N11's warehouse fulfils it, so "ALL" is asked as SELLER and N11 apart: the
    shop must recognise a warehouse order, neither to ship it nor to count its stock twice.
    """
    packages: list[dict] = []
    pages = 0
    for sender in SENDERS if store.order_sender == "ALL" else (store.order_sender,):
        found, read = fetch_window(client, dataclasses.replace(store, order_sender=sender), window)
        packages += [{**package, "sender": sender} for package in found]
        pages += read
    return packages, pages


def fetch_window(client: N11Client, store: StoreConfig, window: Window) -> tuple[list[dict], int]:
    """Every package of the window, one request series per status (N11 takes one per request); and the
    number of pages read.

    N11 sorts the answer by lastModifiedDate, and a package modified while a window is paged leaves it (its new
    date lies past the window, which never reaches beyond the run's start) or, under N11's unverified "GMT+3"
    shift, moves to its end. Either way every row after it moves up one place, so paging forward would skip a
    package nobody touched; reading backwards would in turn skip one when a row arrives late in the middle.
    One page, though, is one consistent answer. So a window whose answer spans several pages is cut in time
    into parts, recursively, until each part fits on one page, and only single-page answers are kept. The
    package that moved is not lost: its new date falls in a later run's interval. A window that fits one page
    (an hourly run) costs nothing extra; a larger one costs about twice the requests of paging it.

    A lying answer cannot make this run away: the client refuses a page announcing more pages than a read may
    take or empty before its announced end, and the window fails before its parts would cost more than the
    client's ``max_requests_per_window``.
    """
    budget = client.settings.max_requests_per_window
    packages: list[dict] = []
    pages = 0
    for status in IMPORTED_STATUSES:
        parts = [window]
        while parts:
            part = parts.pop()
            content, total_pages = _page(client, store, window, part, status)
            pages += 1
            if total_pages <= 1:
                packages.extend(content)
            elif part.end_ms - part.start_ms > 1:
                pieces = min(SPLIT_FACTOR * total_pages, part.end_ms - part.start_ms)
                _within(budget, pages + len(parts) + pieces, store, window, status,
                        f"{pages} made, {len(parts)} parts waiting, and part {part} announces totalPages {total_pages}")
                parts.extend(reversed(part.split(pieces)))
            else:
                log.warning("store %r: more than %d %s packages were modified in the millisecond %s; paging them "
                            "forward, which N11 can shift if one changes meanwhile", store.slug, PAGE_SIZE, status,
                            part.start.isoformat())
                for content in _paged_forward(client, store, window, part, status):
                    pages += 1
                    _within(budget, pages + len(parts), store, window, status,
                            f"{pages} made paging the millisecond {part.start.isoformat()} forward")
                    packages.extend(content)
    return packages, pages


def _within(budget: int, needed: int, store: StoreConfig, window: Window, status: str, numbers: str) -> None:
    """Fail the window once reading it would take more requests than the budget allows."""
    if needed > budget:
        raise OrderFetchError(f"store {store.slug!r}, window {window}: status {status}: reading the window would "
                              f"take more than {budget} requests (the N11 connection extra max_requests_per_window): "
                              f"{numbers}; nothing of this window was written")


def _query(store: StoreConfig, part: Window, status: str) -> dict:
    return {"start_ms": part.start_ms, "end_ms": part.end_ms, "status": status, "sender": store.order_sender,
            "by_last_modified": True, "page_size": PAGE_SIZE}


def _page(client: N11Client, store: StoreConfig, window: Window, part: Window, status: str) -> tuple[list[dict], int]:
    """The first page of a part of the window and N11's ``totalPages``."""
    with _named(store, window, part, status, "page 0"):
        return client.shipment_packages_page(0, **_query(store, part, status))


def _paged_forward(client: N11Client, store: StoreConfig, window: Window, part: Window,
                   status: str) -> Iterator[list[dict]]:
    """Every page of a part of the window, read forward."""
    with _named(store, window, part, status, "paged forward"):
        yield from client.iter_shipment_packages(**_query(store, part, status))


@contextmanager
def _named(store: StoreConfig, window: Window, part: Window, status: str, where: str) -> Iterator[None]:
    """A failed read named by store, window, status and page."""
    where = where if part == window else f"part {part}, {where}"
    with read_failure(f"store {store.slug!r}, window {window}: status {status} {where}",
                      "nothing of this window was written"):
        yield


@contextmanager
def read_failure(what: str, written: str) -> Iterator[None]:
    """An N11 read that failed, even after the client's retries, raised as ``OrderFetchError`` naming ``what``
    and what was written; credential refusals pass as they are."""
    try:
        yield
    except N11AuthError:
        raise
    except N11Error as exc:
        raise OrderFetchError(f"{what}: {exc}; {written}") from exc
