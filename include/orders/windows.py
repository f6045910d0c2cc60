"""The date windows sent to N11 for one data interval.

N11 clamps a window to 15 days without saying so, and it is unverified whether it reads ``startDate`` and
``endDate`` as UTC or shifted by three hours ("GMT+3"). So the interval is padded by the store's overlap on
both sides and cut into windows of at most 14 days. The end is capped at now plus the overlap, not at now: if
N11 reads the dates three hours early, a window ending at now would stop three hours before it and every run
would miss the newest orders; asking a little into the future costs nothing when N11 reads them as UTC.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from include.clock import as_utc, at_ms, in_istanbul, to_ms

MAX_WINDOW = timedelta(days=14)


@dataclass(frozen=True)
class Window:
    """A half-open range [start, end) of lastModifiedDate, in aware UTC."""

    start: datetime
    end: datetime

    @property
    def start_ms(self) -> int:
        return to_ms(self.start)

    @property
    def end_ms(self) -> int:
        return to_ms(self.end)

    def split(self, parts: int) -> list[Window]:
        """At most ``parts`` contiguous windows of whole milliseconds covering this one as N11 sees it."""
        start, end = self.start_ms, self.end_ms
        cuts = sorted({start + (end - start) * i // parts for i in range(parts)} | {end})
        return [Window(at_ms(a), at_ms(b)) for a, b in zip(cuts, cuts[1:], strict=False)]

    def __str__(self) -> str:
        return f"{in_istanbul(self.start)} to {in_istanbul(self.end)}"


def order_windows(start: datetime, end: datetime, overlap: timedelta, now: datetime,
                  longest: timedelta = MAX_WINDOW) -> list[Window]:
    """Windows covering [start - overlap, min(end, now) + overlap), each at most ``longest``; none if empty."""
    lower = as_utc(start) - overlap
    upper = min(as_utc(end), as_utc(now)) + overlap
    windows = []
    while lower < upper:
        windows.append(Window(lower, min(lower + longest, upper)))
        lower = windows[-1].end
    return windows

