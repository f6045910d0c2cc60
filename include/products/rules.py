"""N11's payload rules, checked column-wise on the rows about to be sent.

N11 refuses a whole task (REJECT) for one bad SKU, so a row that breaks a rule is held back as a local error
for that SKU and group, and the rest of the batch goes out. Each message names the column and the value.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from include.products.groups import PRICE, STOCK, UPDATABLE_STATUSES, Group
from include.products.values import cents, numbers, texts, whole_numbers

MAX_QUANTITY = 999_999
MAX_DESCRIPTION = 30_000
CURRENCIES = ("TL", "USD", "EUR")
VAT_RATES = (0, 1, 10, 20)
COLUMNS = ["stock_code", "group", "rule"]

# (rows that break the rule, its message: a format string over the row's columns, or a function of the row)
Rule = tuple[np.ndarray, str | Callable[[dict], str]]


def _stock(shop: pd.DataFrame) -> list[Rule]:
    raw, quantity = numbers(shop.quantity), whole_numbers(shop.quantity)
    return [
        (np.isnan(raw), "quantity is missing or not a number: {quantity!r}"),
        (~np.isnan(raw) & np.isnan(quantity), "quantity {quantity} is not a whole number"),
        ((quantity < 0) | (quantity > MAX_QUANTITY), f"quantity {{quantity}} is outside 0..{MAX_QUANTITY}"),
    ]


def _price(shop: pd.DataFrame) -> list[Rule]:
    found: list[Rule] = []
    for column in ("list_price", "sale_price"):
        raw = numbers(shop[column])
        found += [
            (np.isnan(raw), f"{column} is missing or not a number: {{{column}!r}}"),
            (~np.isnan(raw) & np.isnan(cents(shop[column])), f"{column} {{{column}}} has more than two decimals"),
            (raw < 0, f"{column} {{{column}}} is negative"),
        ]
    return found + [
        (cents(shop.list_price) < cents(shop.sale_price), "sale_price {sale_price} is above list_price {list_price}"),
        (~np.isin(texts(shop.currency), CURRENCIES), f"currency {{currency!r}} is not one of {CURRENCIES}"),
    ]


def _info(shop: pd.DataFrame) -> list[Rule]:
    length = np.array([len(text) if isinstance(text, str) else -1 for text in texts(shop.description)])
    template = texts(shop.shipment_template)
    return [
        (length < 0, "description is missing"),
        (length > MAX_DESCRIPTION,
         lambda row: f"description has {len(row['description'])} characters; N11 takes at most {MAX_DESCRIPTION}"),
        (~np.isin(whole_numbers(shop.vat_rate), VAT_RATES), f"vat_rate {{vat_rate}} is not one of {VAT_RATES}"),
        (~(whole_numbers(shop.preparing_day) > 0), "preparing_day {preparing_day} is not a whole number above 0"),
        (np.array([not (isinstance(t, str) and t.strip()) for t in template], dtype=bool),
         "shipment_template is missing"),
        (~np.isin(texts(shop.status), UPDATABLE_STATUSES), f"status {{status!r}} is not one of {UPDATABLE_STATUSES}"),
    ]


def problems(shop: pd.DataFrame, group: Group) -> pd.DataFrame:
    """One row per broken rule: ``stock_code`` (from the index of ``shop``), ``group`` and ``rule``."""
    rules = _stock(shop) if group is STOCK else _price(shop) if group is PRICE else _info(shop)
    found = []
    for mask, message in rules:
        broken = shop[np.asarray(mask, dtype=bool)]
        if len(broken):
            say = message if callable(message) else lambda row, template=message: template.format(**row)
            found.append(pd.DataFrame({"stock_code": broken.index, "group": group.name,
                                       "rule": [say(row) for row in broken.to_dict("records")]}))
    return pd.concat(found, ignore_index=True) if found else pd.DataFrame(columns=COLUMNS)


def repeated_codes(shop: pd.DataFrame) -> pd.DataFrame:
    """Stock codes the products source lists more than once: which row is meant cannot be known."""
    twice = shop.index[shop.index.duplicated()]
    repeated = shop.index[shop.index.isin(twice)].value_counts()
    return pd.DataFrame({"stock_code": repeated.index, "group": "all",
                         "rule": [f"stock_code appears {n} times in the products source" for n in repeated]})
