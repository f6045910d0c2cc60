"""N11's payload rules and the shop tables' limits, checked column-wise on the rows about to be sent.

N11 refuses a whole task (REJECT) for one bad SKU, and a value the shop tables cannot hold would fail the run's
write with a raw database error, so a row that breaks a rule is held back as a local error for that SKU and group,
and the rest goes out. The rules look at the values to be sent (after the store's stock buffer and price markup);
each message names the column and the shop's value (and what the markup made of it).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import numpy as np
import pandas as pd

from include.products.groups import CONTENT, INFO, PRICE, STOCK, UPDATABLE_STATUSES, Group
from include.products.values import MAX_CENTS, MAX_WHOLE, numbers, texts, whole_numbers

MAX_QUANTITY = 999_999
MAX_DESCRIPTION = 30_000
MAX_SHIPMENT_TEMPLATE = 100  # the shop tables' column
MAX_STOCK_CODE = 100  # N11's limit and the shop tables' column
CURRENCIES = ("TL", "USD", "EUR")
VAT_RATES = (0, 1, 10, 20)
COLUMNS = ["stock_code", "group", "rule"]

# (rows that break the rule, its message: a format string over the row's columns, or a function of the row)
Rule = tuple[np.ndarray, str | Callable[[dict], str]]


def _stock(shop: pd.DataFrame, wanted: pd.DataFrame, markup: Decimal) -> list[Rule]:
    raw, quantity = numbers(shop.quantity), wanted.quantity.to_numpy()
    return [
        (np.isnan(raw), "quantity is missing or not a number: {quantity!r}"),
        (~np.isnan(raw) & np.isnan(whole_numbers(shop.quantity)), "quantity {quantity} is not a whole number"),
        (quantity > MAX_QUANTITY, f"quantity {{quantity}} is outside 0..{MAX_QUANTITY}"),
    ]


def _price(shop: pd.DataFrame, wanted: pd.DataFrame, markup: Decimal) -> list[Rule]:
    found: list[Rule] = []
    for column in ("list_price", "sale_price"):
        raw, kurus = numbers(shop[column]), wanted[column].to_numpy()
        shown = f" (after price_markup_percent {float(markup):g}: {{_{column}}})" if markup else ""
        found += [
            (np.isnan(raw), f"{column} is missing or not a number: {{{column}!r}}"),
            (np.isinf(raw), f"{column} {{{column}}} is not a finite number"),
            (np.isfinite(raw) & (raw < 0), f"{column} {{{column}}} is negative"),
            (np.isfinite(raw) & (raw >= 0) & (kurus <= 0), f"{column} {{{column}}}{shown} is not above 0"),
            (kurus > MAX_CENTS, f"{column} {{{column}}}{shown} is above {MAX_CENTS / 100:.2f}"),
        ]
    return found + [
        (wanted.list_price.to_numpy() < wanted.sale_price.to_numpy(),
         "sale_price {sale_price} is above list_price {list_price}"),
        (~np.isin(texts(wanted.currency), CURRENCIES), f"currency {{currency!r}} is not one of {CURRENCIES}"),
    ]


def _info(shop: pd.DataFrame, wanted: pd.DataFrame, markup: Decimal) -> list[Rule]:
    template = texts(shop.shipment_template)
    preparing = whole_numbers(shop.preparing_day)
    return [
        (~np.isin(whole_numbers(shop.vat_rate), VAT_RATES), f"vat_rate {{vat_rate}} is not one of {VAT_RATES}"),
        (~(preparing > 0), "preparing_day {preparing_day} is not a whole number above 0"),
        (preparing > MAX_WHOLE, f"preparing_day {{preparing_day}} is above {MAX_WHOLE}"),
        (np.array([not (isinstance(t, str) and t.strip()) for t in template], dtype=bool),
         "shipment_template is missing"),
        (np.array([isinstance(t, str) and len(t) > MAX_SHIPMENT_TEMPLATE for t in template], dtype=bool),
         lambda row: f"shipment_template has {len(row['shipment_template'])} characters; at most "
                     f"{MAX_SHIPMENT_TEMPLATE}"),
        (~np.isin(texts(shop.status), UPDATABLE_STATUSES), f"status {{status!r}} is not one of {UPDATABLE_STATUSES}"),
    ]


def _content(shop: pd.DataFrame, wanted: pd.DataFrame, markup: Decimal) -> list[Rule]:
    length = np.array([len(text) if isinstance(text, str) else -1 for text in texts(shop.description)])
    return [
        (length < 0, "description is missing"),
        (length > MAX_DESCRIPTION,
         lambda row: f"description has {len(row['description'])} characters; N11 takes at most {MAX_DESCRIPTION}"),
    ]


_SHOWN = ("list_price", "sale_price")  # values a message may show as sent: {_list_price}, {_sale_price}
_RULES = {STOCK: _stock, PRICE: _price, INFO: _info, CONTENT: _content}


def problems(shop: pd.DataFrame, wanted: pd.DataFrame, group: Group, markup: Decimal | int = 0) -> pd.DataFrame:
    """One row per broken rule: ``stock_code`` (from the index of ``shop``), ``group`` and ``rule``.

    ``shop`` holds the source rows as read, ``wanted`` the values to send (``desired.values``), aligned with it.
    """
    rules = _RULES[group](shop, wanted, markup)
    found = []
    for mask, message in rules:
        chosen = np.asarray(mask, dtype=bool)
        broken = shop[chosen]
        if len(broken):
            say = message if callable(message) else lambda row, template=message: template.format(**row)
            sent = wanted[chosen].reindex(columns=list(_SHOWN)) / 100
            records = [{**row, **{f"_{c}": f"{v:.2f}" for c, v in zip(_SHOWN, values, strict=True)}}
                       for row, values in zip(broken.to_dict("records"), sent.itertuples(index=False), strict=True)]
            found.append(pd.DataFrame({"stock_code": broken.index, "group": group.name,
                                       "rule": [say(row) for row in records]}))
    return pd.concat(found, ignore_index=True) if found else pd.DataFrame(columns=COLUMNS)


def repeated_codes(codes: list[str]) -> pd.DataFrame:
    """Stock codes the products source lists more than once: which row is meant cannot be known."""
    counts = pd.Series(codes, dtype=object).value_counts()
    repeated = counts[counts > 1].sort_index()
    return pd.DataFrame({"stock_code": repeated.index.astype(object), "group": "all",
                         "rule": [f"stock_code appears {n} times in the products source" for n in repeated]})


def overlong_codes(codes: list[str]) -> pd.DataFrame:
    """Stock codes longer than N11 and the shop tables take: such a row cannot be matched nor recorded as is."""
    long = sorted({code for code in codes if len(code) > MAX_STOCK_CODE})
    return pd.DataFrame({"stock_code": long, "group": "all",
                         "rule": [f"stock_code {code!r} has {len(code)} characters; N11 takes at most "
                                  f"{MAX_STOCK_CODE}" for code in long]}, columns=COLUMNS)
