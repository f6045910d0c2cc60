"""The values the shop wants on N11: its source rows with the store's stock buffer and price markup applied.

``stock_buffer`` (a whole number >= 0) is subtracted from the shop's quantity, with a floor of 0 (a shop that
shows less than nothing has nothing to sell). ``price_markup_percent`` (may be negative) multiplies list and sale
price by ``1 + markup / 100``, then rounds half up to kuruş. Both come from the registry or the Variable
``n11_store_<slug>``, read by the gate of each run, so a change reaches every affected SKU on the next run:
the diff compares these values with N11's live ones.
"""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pandas as pd

from include.products.values import PRICES, canonical, cents


def values(shop: pd.DataFrame, stock_buffer: int, markup_percent: Decimal | int) -> pd.DataFrame:
    """The comparable form of ``shop`` (columns present), as the store sends it."""
    wanted = canonical(shop)
    if "quantity" in wanted:
        wanted["quantity"] = np.maximum(wanted["quantity"].to_numpy() - stock_buffer, 0)
    factor = float(1 + Decimal(markup_percent) / 100)  # exact until the prices, which are float arrays
    for column in PRICES:
        if column in wanted:
            wanted[column] = cents(shop[column], factor)
    return wanted
