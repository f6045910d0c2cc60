"""One comparable form for the shop's values, N11's values and the baseline, computed column-wise.

Numbers become float64 with NaN for missing (prices as whole cents, so 1999.9, Decimal("1999.90") and
N11's 1999.9 compare equal; float64 is exact for cents far beyond any price); text becomes an object array
with None for missing. Whatever a database driver returns (floats on SQLite, Decimals on PostgreSQL and
MariaDB) ends up the same.
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
_CENT_TOLERANCE = 1e-6  # float noise of a two-decimal price times 100; a third decimal is far above it


def numbers(series: pd.Series) -> np.ndarray:
    """float64 values, NaN where missing or not a number."""
    return pd.to_numeric(series, errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def cents(series: pd.Series) -> np.ndarray:
    """Whole cents as float64; NaN where missing, not a number, or with more than two decimals."""
    scaled = numbers(series) * 100
    whole = np.round(scaled)
    return np.where(np.abs(scaled - whole) < _CENT_TOLERANCE, whole, np.nan)


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
        elif column in TEXTS:
            out[column] = texts(frame[column])
    return pd.DataFrame(out, index=frame.index)


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
