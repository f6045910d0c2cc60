"""One orders run over a data interval (or over a reload range: ``reload.py``), what the orders task calls: the
windows, each read completely (every status, every page: ``fetch.py``), turned into rows and only then written in
one transaction (``load.py``); then the follow-up of the orders the shop holds open (``follow.py``), which does not
depend on what N11's date filter really filters. A failure leaves earlier windows loaded and the failing one
untouched, so a rerun picks up where it failed without duplicating anything. Tests and the task share it: what is
tested runs.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from include.clock import as_utc, from_ms, in_istanbul, to_ms
from include.orders import watermark
from include.orders.canary import contradictions, record_contradiction
from include.orders.fetch import fetch_senders
from include.orders.follow import FollowSummary, follow_open_orders
from include.orders.load import LoadCounts, load_packages
from include.orders.reload import ReloadRange
from include.orders.windows import order_windows
from include.settings import StoreConfig
from n11.client import N11Client

log = logging.getLogger(__name__)


@dataclass
class WindowsSummary:
    """What the windows of one run did, for the task's one-line log."""

    store: str
    start: datetime
    end: datetime
    windows: int = 0
    pages: int = 0
    packages: int = 0
    counts: LoadCounts = field(default_factory=LoadCounts)

    def log_line(self) -> str:
        c = self.counts
        return (f"store {self.store!r}, orders modified {in_istanbul(self.start)} to {in_istanbul(self.end)}: "
                f"windows {self.windows}, pages {self.pages}, packages {self.packages}; orders new {c.orders_new}, "
                f"updated {c.orders_updated}, unchanged "
                f"{c.orders_unchanged}; lines new {c.lines_new}, updated {c.lines_updated}")


def load_windows(engine: Engine, client: N11Client, store: StoreConfig, start: datetime, end: datetime, *,
                 now: datetime | None = None) -> WindowsSummary:
    """Load the orders N11 last modified in [start, end) (padded by the store's overlap) into the shop DB."""
    summary = WindowsSummary(store.slug, start, end)
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


@dataclass
class OrdersSummary:
    """What the windows and the follow-up did."""

    windows: WindowsSummary
    followed: FollowSummary

    def counts(self) -> dict:
        """The run's figures, as the task returns them."""
        return {"windows": self.windows.windows, "pages": self.windows.pages, "packages": self.windows.packages,
                **dataclasses.asdict(self.windows.counts), "followed": self.followed.packages,
                "follow_requests": self.followed.requests}


def load_orders(engine: Engine, client: N11Client, store: StoreConfig, start: datetime, end: datetime, *,
                now: datetime | None = None) -> OrdersSummary:
    """Load the orders of [start, end), from the store's watermark when it lies before ``start`` (a passive
    period, a gap: ``watermark.py``), then look up the open ones due at ``now`` (aware; default: now); log a
    summary line for each step as it ends."""
    now = now or datetime.now(UTC)
    since = watermark.load_start(engine, store.slug, store.orders_dag_id, start)
    windows = load_windows(engine, client, store, since, end, now=now)
    watermark.advance(engine, store.slug, min(as_utc(end), as_utc(now)))
    return _then_follow(engine, client, store, windows, now)


def reload_orders(engine: Engine, client: N11Client, store: StoreConfig, reload: ReloadRange, *,
                  now: datetime | None = None) -> OrdersSummary:
    """Re-extract every order N11 modified in the range (``reload.py``) in one run, then look up the open ones.

    The watermark stays where it is: a reload fills no gap the scheduled runs do not already know of."""
    now = now or datetime.now(UTC)
    log.info("store %r: reloading the orders N11 modified from %s to %s", store.slug, in_istanbul(reload.start),
             in_istanbul(reload.end))
    windows = load_windows(engine, client, store, reload.start, reload.end, now=now)
    return _then_follow(engine, client, store, windows, now)


def _then_follow(engine: Engine, client: N11Client, store: StoreConfig, windows: WindowsSummary,
                 now: datetime) -> OrdersSummary:
    log.info("%s", windows.log_line())
    followed = follow_open_orders(engine, client, store, now=from_ms(to_ms(now)))
    log.info("%s", followed.log_line(store.slug))
    return OrdersSummary(windows, followed)
