"""One orders run over a data interval, as the orders task makes it: the interval's windows (``sync.py``), then
the follow-up of the orders the shop holds open (``follow.py``), which does not depend on what N11's date
filter really filters. Tests and the task share it, so what is tested is what runs."""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine

from include.clock import from_ms, to_ms
from include.orders.follow import FollowSummary, follow_open_orders
from include.orders.sync import SyncSummary, sync_orders
from include.registry import StoreConfig
from n11.client import N11Client

log = logging.getLogger(__name__)


@dataclass
class IntervalSummary:
    """What the windows and the follow-up did."""

    windows: SyncSummary
    followed: FollowSummary

    def counts(self) -> dict:
        """The run's figures, as the task returns them."""
        return {"windows": self.windows.windows, "pages": self.windows.pages, "packages": self.windows.packages,
                **dataclasses.asdict(self.windows.counts), "followed": self.followed.packages,
                "follow_requests": self.followed.requests}


def load_interval(client: N11Client, engine: Engine, store: StoreConfig, start: datetime, end: datetime, *,
                  now: datetime | None = None) -> IntervalSummary:
    """Load the orders of [start, end), then look up the open ones due at ``now`` (aware; default: now); log a
    summary line for each step as it ends."""
    now = now or datetime.now(UTC)
    windows = sync_orders(client, engine, store, start, end, now=now)
    log.info("%s", windows.log_line())
    followed = follow_open_orders(client, engine, store, now=from_ms(to_ms(now)))
    log.info("%s", followed.log_line(store.slug))
    return IntervalSummary(windows, followed)
