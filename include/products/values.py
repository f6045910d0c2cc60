"""One comparable form for the shop's values, N11's values and the baseline, computed column-wise.

Numbers become float64 with NaN for missing (prices as whole kuruş, so 1999.9, Decimal("1999.90") and
N11's 1999.9 compare equal; float64 is exact for kuruş far beyond any price); text becomes an object array
with None for missing. Whatever a database driver returns (floats on SQLite, Decimals on PostgreSQL and
MariaDB) ends up the same.

Prices with more than two decimals (VAT-derived prices such as 99.999) are rounded **half up** to kuruş:
99.995 -> 100.00, 99.994 -> 99.99. The rounding allows for float noise of a millionth of a kuruş, so a price a
driver gives as the float 99.995 (stored as 99.99499999...) still rounds up. Currency ``TRY`` (and any casing or
stray spaces) means N11's ``TL``.
"""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd

from include.products.groups import Group

PRICES = ("list_price", "sale_price")
WHOLE_NUMBERS = ("quantity", "vat_rate", "preparing_day")
TEXTS = ("currency", "description", "shipment_template", "status")
_CENT_NOISE = 1e-6  # float noise of a price times 100, allowed for when rounding half up
CURRENCY_ALIASES = {"TRY": "TL"}


def numbers(series: pd.Series) -> np.ndarray:
    """float64 values, NaN where missing or not a number."""
    return pd.to_numeric(series, errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def cents(series: pd.Series, factor: float = 1.0) -> np.ndarray:
    """Whole kuruş of ``series`` times ``factor``, rounded half up; NaN where missing or not a finite number."""
    return round_half_up(numbers(series) * (100 * factor))


def round_half_up(scaled: np.ndarray) -> np.ndarray:
    """Whole numbers, halves rounded away from zero; non-finite values become NaN."""
    whole = np.sign(scaled) * np.floor(np.abs(scaled) + 0.5 + _CENT_NOISE)
    return np.where(np.isfinite(scaled), whole, np.nan)


def currencies(series: pd.Series) -> np.ndarray:
    """Currency codes trimmed and upper-cased, ``TRY`` read as ``TL``; None where missing."""
    found = texts(series)
    return np.array([CURRENCY_ALIASES.get(c, c) for c in
                     (v.strip().upper() if isinstance(v, str) else v for v in found)], dtype=object)


def whole_numbers(series: pd.Series) -> np.ndarray:
    """float64 values; NaN where missing or not a whole number."""
    values = numbers(series)
    return np.where(values == np.round(values), values, np.nan)


def texts(series: pd.Series) -> np.ndarray:
    return series.to_numpy(dtype=object, na_value=None)


def canonical(frame: pd.DataFrame) -> pd.DataFrame:
    """The comparable form of the value columns present in ``frame`` (other columns are left out)."""
    out: dict[str, np.ndarray] = {}
    for column in frame.columns:
        if column in PRICES:
            out[column] = cents(frame[column])
        elif column in WHOLE_NUMBERS:
            out[column] = whole_numbers(frame[column])
        elif column == "currency":
            out[column] = currencies(frame[column])
        elif column in TEXTS:
            out[column] = texts(frame[column])
    return pd.DataFrame(out, index=frame.index)


# What the shop tables hold (include/tables.py): larger values from N11 are read as unknown, not stored.
MAX_WHOLE = 2**31 - 1  # Integer
MAX_CENTS = 10**14 - 1  # Money, Numeric(14, 2)
TEXT_LENGTHS = {"currency": 3, "shipment_template": 100, "status": 16}


def storable(comparable: pd.DataFrame) -> pd.DataFrame:
    """``comparable`` with values the shop tables cannot hold made missing (an N11 row must not fail a run)."""
    out = comparable.copy()
    for column in out.columns:
        if column in PRICES or column in WHOLE_NUMBERS:
            limit = MAX_CENTS if column in PRICES else MAX_WHOLE
            values = out[column].to_numpy(dtype=float)
            out[column] = np.where(np.abs(values) <= limit, values, np.nan)
        elif column in TEXT_LENGTHS:
            out[column] = [v if v is None or len(v) <= TEXT_LENGTHS[column] else None for v in texts(out[column])]
    return out


def differs(a: pd.Series, b: pd.Series) -> np.ndarray:
    """Element-wise "not the same value" of two aligned comparable columns; missing equals missing."""
    if a.dtype.kind == "f" and b.dtype.kind == "f":
        x, y = a.to_numpy(), b.to_numpy()
        return (x != y) & ~(np.isnan(x) & np.isnan(y))
    return np.asarray(texts(a) != texts(b), dtype=bool)


def changed(new: pd.DataFrame, old: pd.DataFrame, group: Group) -> np.ndarray:
    """Rows (aligned frames) where any of the group's columns differs."""
    found = np.zeros(len(new), dtype=bool)
    for column in group.columns:
        found |= differs(new[column], old[column])
    return found


def price(cent_value: float) -> Decimal:
    """A price for N11: a Decimal with exactly two decimals (1999.9 -> 1999.90, 10 -> 10.00)."""
    return Decimal(int(cent_value)).scaleb(-2)


def payload_values(column: str, comparable: pd.Series) -> list:
    """A column's values as N11 takes them, for rows that passed the payload rules."""
    if column in PRICES:
        return [price(value) for value in comparable]
    if column in WHOLE_NUMBERS:
        return [int(value) for value in comparable]
    return texts(comparable).tolist()


def db_value(column: str, value: Any) -> Any:
    """A canonical value as the baseline table stores it."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if column in PRICES:
        return price(value)
    if column in WHOLE_NUMBERS:
        return int(value)
    return value


def payload_hash(values: Any) -> str:
    """A stable fingerprint of a payload or part of one; Decimals hash by their text, so 10.00 stays 10.00."""
    text = json.dumps(values, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


def part_hash(group: Group, entry: dict) -> str:
    """The fingerprint of a group's fields in a SKU entry: what the diff compares with a failed payload."""
    return payload_hash({field: entry[field] for field in group.fields.values()})
