"""JSON as N11 speaks it: decimals keep their exact text both ways, and its task date format."""

import json
import re
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

ISTANBUL = timezone(timedelta(hours=3), "Europe/Istanbul")  # Turkey has kept UTC+3 all year since 2016

_MARK = "\x00"
# json.dumps escapes the mark as \u0000, which no ordinary string in our data contains.
_MARKED_NUMBER = re.compile(r'"\\u0000(-?\d+(?:\.\d+)?)\\u0000"')


def _mark_decimals(value: Any) -> Any:
    if isinstance(value, Decimal):
        return f"{_MARK}{value:f}{_MARK}"
    if isinstance(value, dict):
        return {key: _mark_decimals(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_mark_decimals(item) for item in value]
    return value


def dumps(value: Any) -> bytes:
    """Encode with Decimals as JSON numbers that keep their scale (2000.00), as Java's BigDecimal does."""
    text = json.dumps(_mark_decimals(value), ensure_ascii=False)
    return _MARKED_NUMBER.sub(r"\1", text).encode()


def loads(raw: bytes | str) -> Any:
    """Decode keeping each fraction's literal text: 2000.00 arrives as Decimal("2000.00"), 2000 as int."""
    return json.loads(raw, parse_float=Decimal)


def task_date(moment: datetime) -> str:
    """The "dd-MM-yyyy HH:mm:ss" Istanbul-time stamp of N11's task answers."""
    return moment.astimezone(ISTANBUL).strftime("%d-%m-%Y %H:%M:%S")
