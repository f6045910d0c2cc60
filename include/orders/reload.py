"""A range of orders reloaded in one run: the orders DAG's run options ``reload_from`` and ``reload_to``.

Re-extracting a month with ``airflow backfill create`` at the default 15-minute schedule is 2,880 runs of four
tasks, one at a time in the store's pool slot: about a day and a half, for what N11 serves in a few dozen calls.
One run over the whole range reads it in N11's windows, with the same upserts, so it is idempotent like any run.

A bound is an Istanbul date (``2026-10-01``: a ``reload_to`` date includes its day) or an ISO datetime
(``2026-10-01T06:00:00+03:00``; without an offset, Istanbul time): the range is [reload_from, reload_to).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from include.clock import ISTANBUL, as_utc, in_istanbul
from include.settings import EARLIEST_START

FIELDS = ("reload_from", "reload_to")


class ReloadRangeError(ValueError):
    """A reload range the run cannot take; the message names the field."""


@dataclass(frozen=True)
class ReloadRange:
    start: datetime
    end: datetime

    @classmethod
    def from_conf(cls, conf: dict[str, Any] | None, now: datetime) -> ReloadRange | None:
        """The run's range, or None for an ordinary run over its data interval; refuses a range N11 no longer
        serves, one that ends in the future, an empty one or half of one."""
        given = {key: (conf or {}).get(key) for key in FIELDS}
        if not any(given.values()):
            return None
        if not all(given.values()):
            missing = next(key for key, value in given.items() if not value)
            raise ReloadRangeError(f"{missing} is missing: a reload needs both reload_from and reload_to")
        start, end = _bound("reload_from", given["reload_from"], False), _bound("reload_to", given["reload_to"], True)
        earliest = datetime.combine(EARLIEST_START, time(), ISTANBUL)
        if start < earliest:
            raise ReloadRangeError(f"reload_from {given['reload_from']!r} lies before {EARLIEST_START}: N11 serves no "
                                   "older order")
        if end > as_utc(now):
            raise ReloadRangeError(f"reload_to {given['reload_to']!r} ends in the future (now is {in_istanbul(now)}); "
                                   "the scheduled runs load what is still to come")
        if start >= end:
            raise ReloadRangeError(f"reload_from {given['reload_from']!r} is not before reload_to "
                                   f"{given['reload_to']!r}")
        return cls(start, end)


def _bound(key: str, value: Any, is_end: bool) -> datetime:
    """One bound as an aware UTC datetime; a date is the start of that Istanbul day (of the next day for the end)."""
    text = str(value).strip()
    try:
        day = date.fromisoformat(text)
    except ValueError:
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise ReloadRangeError(f"{key} {value!r} is neither an Istanbul date (2026-10-01) nor an ISO datetime "
                                   "(2026-10-01T06:00:00+03:00)") from None
        return as_utc(moment if moment.tzinfo else moment.replace(tzinfo=ISTANBUL))
    return as_utc(datetime.combine(day + timedelta(days=is_end), time(), ISTANBUL))
