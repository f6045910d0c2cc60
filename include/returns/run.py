"""One returns run over a data interval, what a task calls: the claims of the interval's days (padded as the order
windows are, from the store's returns watermark when a gap lies before the interval), each period read whole and
written in one transaction; then the claims the shop holds open, read again by order until N11 calls them final,
whatever the period really filters: by every run for three days after the request, then daily (as open orders are
followed, ``include/orders/follow.py``), and once after each decision the shop sent. A failure leaves the periods
before it loaded; a rerun or a backfill leaves the same rows as one clean run.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Engine, exists, func, or_, select

from include.clock import ISTANBUL, as_utc, in_istanbul, utcnow
from include.orders import watermark
from include.returns.fetch import Period, claim_periods, fetch_order, fetch_period
from include.returns.load import ClaimCounts, load_claims
from include.returns.transform import FINAL
from include.settings import StoreConfig
from include.tables import n11_return_actions, n11_returns
from n11.soap import N11SoapClient

log = logging.getLogger(__name__)
returns, actions = n11_returns, n11_return_actions
EVERY_RUN_FOR = timedelta(days=3)  # an open claim requested since is read again by every run
FOLLOW_FOR = timedelta(days=60)  # then once a day; requested longer ago than this, it is no longer read again
MAX_FOLLOWED = 50  # orders looked up per run for their open claims; the rest come first in the next run


@dataclass
class ReturnsSummary:
    """What one returns run did, for the task's log line and return value (counts only, no personal data)."""

    store: str
    start: datetime
    end: datetime
    periods: int = 0
    claims: int = 0  # claims read in the periods
    followed_orders: int = 0  # orders looked up for their open claims
    followed_claims: int = 0  # claims those look-ups answered
    unmatched: int = 0  # the store's claims whose order line the shop does not hold (yet)
    open: int = 0  # the store's claims N11 has not called final
    loaded: ClaimCounts = field(default_factory=ClaimCounts)

    def log_line(self) -> str:
        c = self.loaded
        return (f"store {self.store!r}, return claims {in_istanbul(self.start)} to {in_istanbul(self.end)}: periods "
                f"{self.periods}, claims read {self.claims}; open claims looked up in {self.followed_orders} "
                f"order(s), {self.followed_claims} claim(s); new {c.new}, updated {c.updated}, unchanged "
                f"{c.unchanged}, older than stored {c.older}; the store's claims still open {self.open}, without "
                f"a matching order line {self.unmatched}")

    def counts(self) -> dict[str, int]:
        return {"periods": self.periods, "claims": self.claims, "followed_orders": self.followed_orders,
                "followed_claims": self.followed_claims, "unmatched": self.unmatched, "open": self.open,
                **asdict(self.loaded)}


def load_returns(engine: Engine, soap: N11SoapClient, store: StoreConfig, start: datetime, end: datetime, *,
                 now: datetime | None = None) -> ReturnsSummary:
    """Load the return claims of [start, end) (padded by the store's overlap; from the returns watermark when it
    lies before ``start``), then read the open ones again; log and return the summary."""
    now = now or datetime.now(UTC)
    slug = store.slug
    since = watermark.load_start(engine, slug, store.orders_dag_id, start, watermark.RETURNS)
    summary = ReturnsSummary(slug, since, as_utc(end))
    started = utcnow()
    for period in claim_periods(since, end, timedelta(hours=store.order_window_overlap_hours), now):
        claims = fetch_period(soap, store, period)
        summary.loaded += load_claims(engine, slug, claims, f"return claims of {period}", utcnow())
        summary.periods += 1
        summary.claims += len(claims)
    watermark.advance(engine, slug, min(as_utc(end), as_utc(now)), watermark.RETURNS)
    follow_open_claims(engine, soap, store, summary, started, now.astimezone(ISTANBUL).date())
    with engine.connect() as conn:
        mine = returns.c.store == slug
        summary.unmatched = conn.scalar(select(func.count()).where(mine, returns.c.order_line_id.is_(None)))
        summary.open = conn.scalar(select(func.count()).where(mine, returns.c.status.notin_(FINAL)))
    log.info("%s", summary.log_line())
    return summary


def follow_open_claims(engine: Engine, soap: N11SoapClient, store: StoreConfig, summary: ReturnsSummary,
                       started: datetime, today: date) -> None:
    """Read again, by order, the claims still open that this run has not read yet: every run while requested in the
    last ``EVERY_RUN_FOR`` or decided by the shop since last read, daily up to ``FOLLOW_FOR``; at most
    ``MAX_FOLLOWED`` orders, the longest unseen first."""
    requested = func.coalesce(returns.c.requested_at, returns.c.last_modified)
    decided_since = exists().where(actions.c.store == returns.c.store, actions.c.claim_id == returns.c.claim_id,
                                   actions.c.sent_at > returns.c.last_seen)  # the shop decided it since
    with engine.connect() as conn:
        due = conn.execute(
            select(returns.c.order_number, func.min(requested))
            .where(returns.c.store == store.slug, returns.c.status.notin_(FINAL), returns.c.last_seen < started,
                   requested >= today - FOLLOW_FOR,
                   or_(requested >= today - EVERY_RUN_FOR, returns.c.last_seen <= started - timedelta(days=1),
                       decided_since))
            .group_by(returns.c.order_number)
            .order_by(func.min(returns.c.last_seen), returns.c.order_number)
            .limit(MAX_FOLLOWED)).all()
    for order_number, requested in due:
        period = Period(_as_date(requested) - timedelta(days=1), today)
        claims = fetch_order(soap, store, order_number, period)
        summary.loaded += load_claims(engine, store.slug, claims, f"open return claims of order {order_number}",
                                      utcnow())
        summary.followed_orders += 1
        summary.followed_claims += len(claims)


def _as_date(value: date | str) -> date:
    """A day from an aggregate: SQLite's MIN over a DATE column gives its text."""
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
