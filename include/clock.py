"""The one clock of the shop database: naive UTC at millisecond precision, and N11's epoch milliseconds.

Every time column is naive UTC; MySQL's DATETIME(3) keeps milliseconds, so every time written is cut to
them and a value read back compares equal to the one written, on every database.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ISTANBUL = ZoneInfo("Europe/Istanbul")  # the stores' time zone (settings.TIMEZONE): N11's and the shop's days


def utcnow() -> datetime:
    """Now, as the shop tables store it: naive UTC cut to milliseconds."""
    now = datetime.now(UTC).replace(tzinfo=None)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def to_ms(moment: datetime) -> int:
    """Epoch milliseconds of an aware datetime, exactly (no float rounding)."""
    return (as_utc(moment) - _EPOCH) // timedelta(milliseconds=1)


def at_ms(ms: int) -> datetime:
    """Aware UTC datetime of epoch milliseconds."""
    return _EPOCH + timedelta(milliseconds=ms)


def from_ms(ms: int) -> datetime:
    """Naive UTC datetime of epoch milliseconds: the shop database's time convention."""
    return at_ms(ms).replace(tzinfo=None)


def in_istanbul(moment: datetime) -> str:
    """An aware moment as a log line shows it: Istanbul time with its offset, the day a person means."""
    return moment.astimezone(ISTANBUL).isoformat()


def as_utc(moment: datetime) -> datetime:
    """A plain aware-UTC datetime of any aware one (Airflow passes pendulum's, which mix badly with stdlib)."""
    if moment.tzinfo is None:
        raise ValueError(f"{moment!r} has no time zone; the data interval must be time-zone aware")
    utc = moment.astimezone(UTC)
    return datetime(utc.year, utc.month, utc.day, utc.hour, utc.minute, utc.second, utc.microsecond, tzinfo=UTC)
