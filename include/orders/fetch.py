"""The N11 reads of an orders run: a window's packages from each sender and status, cut in time until every
answer fits one page, and a failed read named by store, window, status and page."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterator
from contextlib import contextmanager

from include.clock import in_istanbul
from include.orders.errors import OrderFetchError
from include.orders.transform import IMPORTED_STATUSES, SENDERS
from include.orders.windows import Window
from include.settings import StoreConfig
from n11.client import PACKAGE_PAGE_SIZE, N11Client
from n11.errors import N11AuthError, N11Error

log = logging.getLogger(__name__)
PAGE_SIZE = PACKAGE_PAGE_SIZE  # N11's maximum; a module constant so tests can make windows span pages
SPLIT_FACTOR = 2  # parts per page of the answer: a denser part is cut again


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


def read_order(client: N11Client, order_number: str, sender: str | None) -> list[dict]:
    """Every package of one order as N11 shows it now (split parents and children too), each marked with the
    order's ``sender`` as the windows mark theirs (None when the shop does not know it)."""
    return [{**package, "sender": sender} for package in client.order_packages(order_number, sender or "ALL")]


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
                            in_istanbul(part.start))
                for content in _paged_forward(client, store, window, part, status):
                    pages += 1
                    _within(budget, pages + len(parts), store, window, status,
                            f"{pages} made paging the millisecond {in_istanbul(part.start)} forward")
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
def read_failure(what: str, written: str, error: type[Exception] = OrderFetchError) -> Iterator[None]:
    """An N11 read that failed, even after the client's retries, raised as ``error`` naming ``what`` and what was
    written; credential refusals pass as they are."""
    try:
        yield
    except N11AuthError:
        raise
    except N11Error as exc:
        raise error(f"{what}: {exc}; {written}") from exc
