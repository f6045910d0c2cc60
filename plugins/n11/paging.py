"""The one paginator of the client: reads a paged N11 endpoint from page 0 to its end, and refuses answers that
cannot be true.

N11 pages three ways (Spring pages on ``/ms``, ``totalPages`` only on ``/rest``, a nested Spring page in task
details); each endpoint turns its answer into a ``Page`` and the ``Paginator`` owns the loop. It ends at the
first end signal (an empty page, ``last``, ``totalPages``), accepting every honest shape of an end (an empty
answer calling itself zero pages or one, a short last page), and fails with ``N11PagingError``, naming the
endpoint and the numbers, when a page contradicts itself or the loop would not end: more pages than the totals
allow or than a read may take (``max_pages``), a page holding more rows than its size, an empty page with more
pages announced after it, ``last`` disagreeing with ``totalPages``, a page repeating the one before. So a lying
server costs at most ``max_pages`` calls, and one page of memory beyond what the caller keeps.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from n11.errors import N11PagingError


@dataclass(frozen=True)
class Page:
    """One answer of a paged endpoint; a number N11 left out is None."""

    endpoint: str
    number: int
    content: list[dict]
    total_pages: int | None = None
    total_elements: int | None = None
    size: int | None = None
    last: bool | None = None
    answer: Any = None  # the whole parsed answer, for what an endpoint sends beside its rows

    @property
    def is_last(self) -> bool:
        return not self.content or self.last is True or (
            self.total_pages is not None and self.number + 1 >= self.total_pages)

    def check(self, max_pages: int) -> None:
        """Raise ``N11PagingError`` when this page contradicts itself or announces more than a read may take."""
        pages, elements, size = self.total_pages, self.total_elements, self.size
        if pages is not None and pages > max_pages:
            self._lie(f"announces totalPages {pages}, more than the {max_pages} pages one read may take "
                      "(the connection extra max_pages)")
        # an empty answer may call itself one page (N11 does, for a queued task) or none: both are honest
        if pages is not None and elements is not None and size and pages > max(1, math.ceil(elements / size)):
            self._lie(f"announces totalPages {pages}, but totalElements {elements} in pages of {size} make "
                      f"{math.ceil(elements / size)}")
        if size and len(self.content) > size:
            self._lie(f"holds {len(self.content)} rows in a page of size {size}")
        more = self.last is False or (pages is not None and self.number + 1 < pages)
        if more and not self.content:
            self._lie(f"is empty before the announced end (totalPages {pages}, last {self.last})")
        if pages is not None and self.last is not None and self.last != (self.number + 1 >= pages):
            self._lie(f"says last={str(self.last).lower()} with totalPages {pages}")

    def _lie(self, problem: str) -> None:
        raise N11PagingError(f"N11's answer to {self.endpoint} page {self.number} {problem}; "
                             "its pages cannot be trusted, so the read stops")


class Paginator:
    """Iterate the pages of one paged read: ``fetch(number)`` gets page ``number`` (from 0) as a ``Page``."""

    def __init__(self, endpoint: str, fetch: Callable[[int], Page], max_pages: int):
        self.endpoint = endpoint
        self.fetch = fetch
        self.max_pages = max_pages

    def __iter__(self) -> Iterator[Page]:
        previous = None
        for number in range(self.max_pages):
            page = self.fetch(number)
            page.check(self.max_pages)
            fingerprint = _fingerprint(page.content)
            if page.content and fingerprint == previous:
                raise N11PagingError(f"N11 answered {self.endpoint} page {number} with the rows of page {number - 1} "
                                     "again; its pages cannot be trusted, so the read stops")
            yield page
            if page.is_last:
                return
            previous = fingerprint
        raise N11PagingError(f"N11's answers to {self.endpoint} did not end within {self.max_pages} pages (the "
                             "connection extra max_pages); the read stops")


def _fingerprint(content: list[dict]) -> bytes:
    """A digest of a page's rows: comparing two pages keeps no copy of the first."""
    return hashlib.blake2b(json.dumps(content, sort_keys=True, default=str).encode(), digest_size=16).digest()
