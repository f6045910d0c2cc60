"""The diff: per linked SKU and covered field group, the shop's values against the baseline, column-wise.

A group goes out when it differs from the baseline (or always, on a full resync), passes N11's payload rules,
and is not the very payload N11 failed last time for that SKU. Price and stock share one endpoint, so a SKU's
entry there carries only the groups that go out; a field left out is not changed by N11.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from include.products import rules
from include.products.baseline import FAILED
from include.products.groups import ENDPOINTS, Group
from include.products.values import canonical, changed, part_hash, payload_values, texts

Parts = dict[str, dict]  # stock code -> one group's fields of a SKU entry


@dataclass
class Plan:
    """What a run sends, and what it holds back."""

    entries: dict[str, list[dict]]  # endpoint -> SKU entries, in stock-code order
    errors: pd.DataFrame  # local errors: stock_code, group, rule
    considered: int = 0  # linked SKUs N11 lets us update
    sending: dict[str, int] = field(default_factory=dict)  # group -> SKUs
    held_back: dict[str, int] = field(default_factory=dict)  # group -> SKUs whose failed payload is unchanged

    def counts(self) -> dict:
        return {"considered": self.considered, "sending": self.sending, "held_back": self.held_back,
                "local_errors": int(self.errors.stock_code.nunique()),
                "entries": {endpoint: len(entries) for endpoint, entries in self.entries.items()}}


def plan(shop: pd.DataFrame, base: pd.DataFrame, covered: tuple[Group, ...], full_resync: bool) -> Plan:
    """``shop``: source rows of updatable linked SKUs, indexed by stock code; ``base``: ``baseline.read``."""
    repeated = rules.repeated_codes(shop)
    result = Plan(entries={}, errors=repeated, considered=shop.index.nunique())
    shop = shop[~shop.index.isin(repeated.stock_code)]
    comparable = canonical(shop)
    base = base.reindex(comparable.index)
    errors, parts = [repeated], {}
    for group in covered:
        send = np.ones(len(shop), dtype=bool) if full_resync else changed(comparable, base, group)
        broken = rules.problems(shop[send], group)
        errors.append(broken)
        send &= ~shop.index.isin(broken.stock_code)
        parts[group.name] = _parts(group, comparable[send])
        if not full_resync:
            held = _same_as_failed(group, parts[group.name], base[FAILED[group.name]][send])
            result.held_back[group.name] = len(held)
        result.sending[group.name] = len(parts[group.name])
    result.errors = pd.concat(errors, ignore_index=True)
    result.entries = {endpoint: _entries(parts, [g for g in covered if g.endpoint == endpoint])
                      for endpoint in ENDPOINTS}
    return result


def _parts(group: Group, comparable: pd.DataFrame) -> Parts:
    values = [payload_values(column, comparable[column]) for column in group.columns]
    fields = list(group.fields.values())
    return {code: dict(zip(fields, row, strict=True)) for code, *row in zip(comparable.index, *values, strict=True)}


def _same_as_failed(group: Group, parts: Parts, failed: pd.Series) -> list[str]:
    """Drop (and return) the SKUs whose part is exactly the payload N11 failed last time."""
    held = [code for code, last in zip(failed.index, texts(failed), strict=True)
            if last is not None and part_hash(group, parts[code]) == last]
    for code in held:
        del parts[code]
    return held


def _entries(parts: dict[str, Parts], groups: list[Group]) -> list[dict]:
    """One entry per SKU with the parts of every group that goes out for it."""
    codes = sorted({code for group in groups for code in parts[group.name]})
    return [{"stockCode": code, **{k: v for g in groups for k, v in parts[g.name].get(code, {}).items()}}
            for code in codes]
