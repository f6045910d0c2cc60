"""The N11 reads of a returns run: the claims of a range of Istanbul days, cut into periods, and the claims of one
order; a failed read named by store and period or order.

ClaimReturnList takes whole Istanbul days (``DD/MM/YYYY``); which date its period filters (the request or the last
change) and its longest period are unverified. So a run's interval is padded by the store's overlap as the order
windows are, turned into the days it touches, and cut into periods of at most ``MAX_PERIOD`` days; the claims still
open are read again by order (``run.py``), which does not depend on what the period filters.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from include.clock import ISTANBUL, as_utc
from include.orders.fetch import read_failure
from include.returns.errors import ClaimFetchError
from include.settings import StoreConfig
from n11.soap import N11SoapClient

MAX_PERIOD = timedelta(days=14)  # as an order window: N11 documents no limit, and clamps the order listing's


@dataclass(frozen=True)
class Period:
    """Istanbul days from ``start`` to ``end``, both included."""

    start: date
    end: date

    def __str__(self) -> str:
        return f"{self.start:%d/%m/%Y} to {self.end:%d/%m/%Y}"


def claim_periods(start: datetime, end: datetime, overlap: timedelta, now: datetime) -> list[Period]:
    """The periods covering the days of [start - overlap, min(end, now) + overlap), each at most ``MAX_PERIOD``
    long; none for an empty interval."""
    if as_utc(end) <= as_utc(start):
        return []
    first = (as_utc(start) - overlap).astimezone(ISTANBUL).date()
    last = (min(as_utc(end), as_utc(now)) + overlap).astimezone(ISTANBUL).date()
    periods = []
    while first <= last:
        periods.append(Period(first, min(first + MAX_PERIOD - timedelta(days=1), last)))
        first = periods[-1].end + timedelta(days=1)
    return periods


def fetch_period(soap: N11SoapClient, store: StoreConfig, period: Period) -> list[dict]:
    """Every claim of the period, every status and sender."""
    with read_failure(f"store {store.slug!r}, return claims of {period}", "the periods before it are loaded, "
                      "this one is not; the next run reads it again", ClaimFetchError):
        return [claim for page in soap.claim_returns(period.start, period.end) for claim in page]


def fetch_order(soap: N11SoapClient, store: StoreConfig, order_number: str, period: Period) -> list[dict]:
    """Every claim of one order in the period."""
    with read_failure(f"store {store.slug!r}, look-up of the open return claims of order {order_number}",
                      "the orders looked up before it are loaded; the next run looks it up again", ClaimFetchError):
        return [claim for page in soap.claim_returns(period.start, period.end, order_number=order_number)
                for claim in page]
