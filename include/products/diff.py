"""The diff: per linked SKU and covered field group, what the shop wants against what N11 has, column-wise.

Stock and price are compared with N11's live values from the run's own scan, listing and content with the
baseline N11 last confirmed (``groups``). A group goes out when it differs (or always, on a full resync), passes
the payload rules, and is not the very payload N11 failed last time for that SKU. Each group's entries carry only
that group's fields and travel in batches of their own, so a refused price never holds the stock back.

The rows arrive in chunks (``source.read_plan_rows``), so a store of any size is planned in bounded memory:
only the entries that go out and the local errors are kept.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from include.products import desired, rules
from include.products.baseline import FAILED
from include.products.groups import ENDPOINTS, LIVE_COLUMNS, Group
from include.products.values import canonical, changed, part_hash, payload_values, texts
from include.settings import StoreConfig

Parts = dict[str, dict]  # stock code -> one group's fields of a SKU entry
BASE_PREFIX = "base_"  # the baseline's columns in a plan row, beside the shop's own


@dataclass
class Plan:
    """What a run sends, and what it holds back."""

    entries: dict[str, list[dict]]  # endpoint -> SKU entries, one group each, group after group in stock-code order
    errors: pd.DataFrame  # local errors: stock_code, group, rule
    considered: int = 0  # linked SKUs N11 lets us update
    sending: dict[str, int] = field(default_factory=dict)  # group -> SKUs
    held_back: dict[str, int] = field(default_factory=dict)  # group -> SKUs whose failed payload is unchanged
    held_codes: list[str] = field(default_factory=list)  # those SKUs, group after group, for the log

    def counts(self) -> dict:
        return {"considered": self.considered, "sending": self.sending, "held_back": self.held_back,
                "local_errors": int(self.errors.stock_code.nunique()),
                "entries": {endpoint: len(entries) for endpoint, entries in self.entries.items()}}


def plan(chunks: Iterable[pd.DataFrame], covered: tuple[Group, ...], full_resync: bool, store: StoreConfig,
         refused: pd.DataFrame | None = None) -> Plan:
    """``chunks``: plan rows of updatable linked SKUs indexed by stock code (``source.read_plan_rows``);
    ``refused``: local errors found before (stock codes listed twice, too long): those SKUs are left out."""
    errors = [refused if refused is not None else pd.DataFrame(columns=rules.COLUMNS)]
    skip = set(errors[0].stock_code)
    parts: dict[str, Parts] = {group.name: {} for group in covered}
    result = Plan(entries={}, errors=errors[0], sending=dict.fromkeys(parts, 0),
                  held_back=dict.fromkeys(parts, 0) if not full_resync else {})
    for chunk in chunks:
        chunk = chunk[~chunk.index.isin(skip)]
        result.considered += len(chunk)
        shop = chunk[[c for g in covered for c in g.columns]]
        wanted = desired.values(shop, store.stock_buffer, store.price_markup_percent)
        for group in covered:
            send = np.ones(len(chunk), dtype=bool) if full_resync else changed(wanted, _compared(chunk, group), group)
            broken = rules.problems(shop[send], wanted[send], group, store.price_markup_percent)
            errors.append(broken)
            send &= ~chunk.index.isin(broken.stock_code)
            found = _parts(group, wanted[send])
            if not full_resync:
                held = _same_as_failed(group, found, chunk[FAILED[group.name]][send])
                result.held_back[group.name] += len(held)
                result.held_codes += held
            parts[group.name].update(found)
    result.errors = pd.concat([e for e in errors if len(e)] or [errors[0]], ignore_index=True)
    result.sending = {name: len(found) for name, found in parts.items()}
    result.entries = {endpoint: [{"stockCode": code, **values} for g in covered if g.endpoint == endpoint
                                 for code, values in parts[g.name].items()]
                      for endpoint in ENDPOINTS}
    return result


def _compared(chunk: pd.DataFrame, group: Group) -> pd.DataFrame:
    """What the group is compared with: N11's live values, or the confirmed baseline (comparable form)."""
    names = {LIVE_COLUMNS[c] if group.live else BASE_PREFIX + c: c for c in group.columns}
    return canonical(chunk[list(names)].rename(columns=names))


def _parts(group: Group, wanted: pd.DataFrame) -> Parts:
    values = [payload_values(column, wanted[column]) for column in group.columns]
    fields = list(group.fields.values())
    return {code: dict(zip(fields, row, strict=True)) for code, *row in zip(wanted.index, *values, strict=True)}


def _same_as_failed(group: Group, parts: Parts, failed: pd.Series) -> list[str]:
    """Drop (and return) the SKUs whose part is exactly the payload N11 failed last time."""
    held = [code for code, last in zip(failed.index, texts(failed), strict=True)
            if last is not None and part_hash(group, parts[code]) == last]
    for code in held:
        del parts[code]
    return held
