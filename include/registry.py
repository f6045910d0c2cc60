"""The store registry: which N11 stores exist and how each is set up.

Read from ``include/stores.yaml`` (or the file named by ``N11_STORES_FILE``) when the DAG file is parsed;
it is the only thing read at import. Each entry is validated on its own, so one broken entry costs only
that store: its error, naming the store and the field, is returned beside the valid stores.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml
from croniter import croniter

DEFAULT_FILE = Path(__file__).with_name("stores.yaml")
UPDATE_TYPES = ("all", "product_info", "price", "stock", "stock_and_price")
SENDERS = ("ALL", "SELLER", "N11")
SLUG = re.compile(r"[a-z0-9_]+")
CONN_ID = re.compile(r"[A-Za-z0-9_.\-]{1,250}")
TIMEZONE = "Europe/Istanbul"


class RegistryError(ValueError):
    """The registry file as a whole cannot be read."""


@dataclass(frozen=True)
class StoreConfig:
    """One N11 store as declared in the registry (before any runtime Variable override)."""

    slug: str
    name: str
    start_date: date
    store_url: str = ""
    n11_conn_id: str = ""  # default n11_<slug>, filled in by load
    shop_conn_id: str = "shop_db"
    active: bool = True
    order_sync: bool = True
    product_sync: bool = True
    update_type: str = "all"
    orders_schedule: str = "0 * * * *"
    products_schedule: str = "30 * * * *"
    products_source: str = "n11_product_source"
    order_window_overlap_hours: float = 3.0
    order_sender: str = "ALL"
    pool_slots: int = 1  # tasks of this store that may call N11 at once, across its DAGs and backfills
    stock_buffer: int = 0  # safety stock subtracted from the shop's quantity before sending (floor 0)
    price_markup_percent: float = 0.0  # applied to list and sale price, then rounded to kuruş
    product_create: bool = True  # list shop products missing on N11 (while product_sync is on)
    auto_approve_orders: bool = False  # approve new seller-fulfilled order lines on N11
    notify: dict | None = None  # where failures are announced: {"email": [...], "slack_conn_id": "..."}

    @property
    def orders_dag_id(self) -> str:
        return f"n11_{self.slug}_orders"

    @property
    def products_dag_id(self) -> str:
        return f"n11_{self.slug}_products"

    @property
    def pool(self) -> str:
        """The Airflow pool that bounds this store's concurrent N11 work (see ``include.pools``)."""
        return f"n11_{self.slug}"

    @property
    def variable_name(self) -> str:
        return f"n11_store_{self.slug}"

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly form, as passed to tasks and shown in their rendered arguments (holds no secret)."""
        values = {name: getattr(self, name) for name in _FIELDS}
        return {**values, "start_date": self.start_date.isoformat()}

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> StoreConfig:
        return cls(**{**values, "start_date": date.fromisoformat(values["start_date"])})


@dataclass(frozen=True)
class EntryError:
    """A registry entry that could not be used; ``message`` names the store, the field and the value."""

    index: int  # 1-based position in the file
    slug: str | None  # None when the slug itself is missing or malformed
    message: str

    @property
    def dag_id(self) -> str:
        return f"n11_registry_error_{self.index}" + (f"_{self.slug}" if self.slug else "")


@dataclass
class Registry:
    stores: list[StoreConfig] = field(default_factory=list)
    errors: list[EntryError] = field(default_factory=list)


_FIELDS = tuple(StoreConfig.__dataclass_fields__)
_BOOLS = ("active", "order_sync", "product_sync", "product_create", "auto_approve_orders")


def registry_path() -> Path:
    return Path(os.environ.get("N11_STORES_FILE") or DEFAULT_FILE)


def load_registry(path: Path | None = None) -> Registry:
    """Read and validate the registry; a broken entry lands in ``errors``, the rest in ``stores``."""
    path = path or registry_path()
    try:
        document = yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise RegistryError(f"store registry {path} cannot be read: {exc}") from None
    entries = document.get("stores") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise RegistryError(f"store registry {path} must hold a 'stores:' list")
    defaults = document.get("defaults") or {}
    registry = Registry()
    seen: set[str] = set()
    for index, entry in enumerate(entries, start=1):
        slug = _slug(entry)
        label = f"store {slug!r} (entry {index})" if slug else f"entry {index}"
        try:
            store = parse_store({**defaults, **entry} if isinstance(entry, dict) else entry)
            if store.slug in seen:
                raise ValueError(f"slug {store.slug!r} is used by an earlier entry; slugs must be unique")
        except ValueError as exc:
            registry.errors.append(EntryError(index, slug, f"{label} in {path}: {exc}"))
            continue
        seen.add(store.slug)
        registry.stores.append(store)
    return registry


def parse_store(entry: Any) -> StoreConfig:
    """Validate one registry entry; the error names the field and the value found."""
    if not isinstance(entry, dict):
        raise ValueError(f"an entry must be a mapping of settings, got {entry!r}")
    unknown = sorted(set(entry) - set(_FIELDS))
    if unknown:
        raise ValueError(f"unknown field(s) {', '.join(unknown)}; known: {', '.join(sorted(_FIELDS))}")
    for required in ("slug", "name", "start_date"):
        if entry.get(required) in (None, ""):
            raise ValueError(f"field {required!r} is required")
    slug = entry["slug"]
    if not isinstance(slug, str) or not SLUG.fullmatch(slug):
        raise ValueError(f"field 'slug' must match [a-z0-9_]+ (it is part of DAG ids), got {slug!r}")
    values = dict(entry)
    values.setdefault("n11_conn_id", f"n11_{slug}")
    values["start_date"] = _date(values["start_date"])
    _check(values)
    return StoreConfig(**values)


def _check(values: dict[str, Any]) -> None:
    for name in _BOOLS:
        if name in values and not isinstance(values[name], bool):
            raise ValueError(f"field {name!r} must be true or false, got {values[name]!r}")
    if values.get("update_type", "all") not in UPDATE_TYPES:
        raise ValueError(f"field 'update_type' must be one of {', '.join(UPDATE_TYPES)}, "
                         f"got {values['update_type']!r}")
    if values.get("order_sender", "ALL") not in SENDERS:
        raise ValueError(f"field 'order_sender' must be one of {', '.join(SENDERS)}, got {values['order_sender']!r}")
    for name in ("n11_conn_id", "shop_conn_id"):
        if name in values and not (isinstance(values[name], str) and CONN_ID.fullmatch(values[name])):
            raise ValueError(f"field {name!r} must be an Airflow connection id, got {values[name]!r}")
    for name in ("orders_schedule", "products_schedule"):
        if name in values and not (isinstance(values[name], str) and croniter.is_valid(values[name])):
            raise ValueError(f"field {name!r} must be a cron expression, got {values[name]!r}")
    for name in ("name", "store_url", "products_source"):
        if name in values and not isinstance(values[name], str):
            raise ValueError(f"field {name!r} must be text, got {values[name]!r}")
    slots = values.get("pool_slots", 1)
    if isinstance(slots, bool) or not isinstance(slots, int) or not 1 <= slots <= 16:
        raise ValueError(f"field 'pool_slots' must be a whole number from 1 to 16, got {slots!r}")
    buffer = values.get("stock_buffer", 0)
    if isinstance(buffer, bool) or not isinstance(buffer, int) or buffer < 0:
        raise ValueError(f"field 'stock_buffer' must be a whole number >= 0, got {buffer!r}")
    markup = values.get("price_markup_percent", 0)
    if isinstance(markup, bool) or not isinstance(markup, int | float) or not -100 < markup <= 1000:
        raise ValueError(f"field 'price_markup_percent' must be a number above -100, got {markup!r}")
    if values.get("notify") is not None and not isinstance(values["notify"], dict):
        raise ValueError(f"field 'notify' must be a mapping, got {values['notify']!r}")
    overlap = values.get("order_window_overlap_hours", 0)
    if isinstance(overlap, bool) or not isinstance(overlap, int | float) or not 0 <= overlap <= 24:
        raise ValueError(f"field 'order_window_overlap_hours' must be a number from 0 to 24, got {overlap!r}")


def _date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ValueError(f"field 'start_date' must be a date like 2026-01-31, got {value!r}") from None


def _slug(entry: Any) -> str | None:
    slug = entry.get("slug") if isinstance(entry, dict) else None
    return slug if isinstance(slug, str) and SLUG.fullmatch(slug) else None
