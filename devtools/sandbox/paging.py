"""What N11's listings (product query, shipment packages, task details) share: their integer parameters, read as
N11's Spring services read them, and how they cut rows into pages."""

import math
from collections.abc import Mapping
from typing import Any

from devtools.sandbox.errors import ApiError

DEFAULT_PAGE_SIZE = 20


def int_param(params: Mapping[str, Any], name: str, default: int | None) -> int | None:
    """An integer parameter (a number in a JSON body, or text in a query), ``default`` when absent or empty."""
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    if isinstance(raw, int) and not isinstance(raw, bool):
        return raw
    try:
        return int(raw)
    except (TypeError, ValueError):
        raise ApiError(
            "IllegalArgumentException",
            f"Failed to convert value of type 'java.lang.String' to required type 'int': {name}={raw!r}",
        ) from None


def page_of(rows: list, page: int, size: int, repeat: bool = False, empty_pages: int = 0) -> tuple[list, int]:
    """The rows on a page (from 0) and the number of pages (``empty_pages`` when there are no rows); with
    ``repeat`` every page after the first starts with the last row of the page before it (as when a row arrives
    ahead of it between two requests)."""
    stride = size - 1 if repeat and size > 1 else size
    pages = 1 if len(rows) <= size else 1 + math.ceil((len(rows) - size) / stride)
    return rows[page * stride : page * stride + size], pages if rows else empty_pages
