"""A store's effective settings: the registry entry with the runtime Variable ``n11_store_<slug>`` applied.

The Variable holds a JSON object overriding any of ``active``, ``order_sync``, ``product_sync`` and
``update_type``. It is read by a task at run time, never at import, so a change takes effect on the next run.
A bad value fails the run with a message naming the Variable and the value: guessing could push wrong prices.
"""

from __future__ import annotations

import dataclasses
import json

from include.registry import UPDATE_TYPES, StoreConfig

OVERRIDABLE = ("active", "order_sync", "product_sync", "update_type", "stock_buffer", "price_markup_percent",
               "product_create", "auto_approve_orders")


class SettingsError(ValueError):
    """The runtime override Variable is not usable."""


def apply_override(store: StoreConfig, raw: str | None) -> StoreConfig:
    """The store with the Variable's JSON (``None`` = Variable not set) applied."""
    if raw is None or not raw.strip():
        return store
    name = store.variable_name
    shown = raw if len(raw) <= 200 else raw[:200] + "..."

    def fail(problem: str) -> SettingsError:
        return SettingsError(f"store {store.slug!r}: Airflow Variable {name!r} = {shown!r} {problem}. "
                             f"Fix or delete the Variable (example: {{\"active\": false}}).")

    try:
        override = json.loads(raw)
    except ValueError:
        raise fail("is not valid JSON") from None
    if not isinstance(override, dict):
        raise fail("must be a JSON object")
    unknown = sorted(set(override) - set(OVERRIDABLE))
    if unknown:
        raise fail(f"has unknown key(s) {', '.join(unknown)}; allowed: {', '.join(OVERRIDABLE)}")
    for key in ("active", "order_sync", "product_sync", "product_create", "auto_approve_orders"):
        if key in override and not isinstance(override[key], bool):
            raise fail(f"has {key}={override[key]!r}; it must be true or false")
    if "update_type" in override and override["update_type"] not in UPDATE_TYPES:
        raise fail(f"has update_type={override['update_type']!r}; it must be one of {', '.join(UPDATE_TYPES)}")
    buffer = override.get("stock_buffer", 0)
    if isinstance(buffer, bool) or not isinstance(buffer, int) or buffer < 0:
        raise fail(f"has stock_buffer={buffer!r}; it must be a whole number >= 0")
    markup = override.get("price_markup_percent", 0)
    if isinstance(markup, bool) or not isinstance(markup, int | float) or not -100 < markup <= 1000:
        raise fail(f"has price_markup_percent={markup!r}; it must be a number above -100")
    return dataclasses.replace(store, **override)


def orders_enabled(store: StoreConfig) -> bool:
    """A passive store stops both integrations."""
    return store.active and store.order_sync


def products_enabled(store: StoreConfig) -> bool:
    return store.active and store.product_sync
