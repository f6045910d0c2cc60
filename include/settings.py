"""A store's settings: the one schema behind a registry entry and the runtime Variable ``n11_store_<slug>``.

``StoreConfig`` declares every setting once, with its type, limits, default and the phrase a refusal uses;
the registry (``include.registry``) builds one per entry and the Variable, read by a task at run time (never
at import), overrides the keys in ``OVERRIDABLE`` through the same validation. A refusal is one line naming
the store, the field and the value (shown at most ``SHOWN`` characters), never pydantic's own text. A bad
Variable fails the run: guessing could push wrong prices.
"""

from __future__ import annotations

import dataclasses
import json
import re
import reprlib
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Annotated, Any, Literal, get_args

from croniter import CroniterBadDateError, CroniterError, croniter
from pydantic import (
    AfterValidator,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic.dataclasses import dataclass

TIMEZONE = "Europe/Istanbul"
UPDATE_TYPES = ("all", "product_info", "price", "stock", "stock_and_price")
SENDERS = ("ALL", "SELLER", "N11")
OVERRIDABLE = ("active", "order_sync", "product_sync", "update_type", "stock_buffer", "price_markup_percent",
               "product_create", "auto_approve_orders", "returns_sync")
SLUG = re.compile(r"[a-z0-9_]{1,64}")  # the shop tables' store column is String(64)
CONN_ID = r"^[A-Za-z0-9_.\-]{1,250}$"
EARLIEST_START = date(2024, 11, 1)  # N11 serves no older orders
LATEST_START = date(2100, 12, 31)
# Airflow's presets (airflow.utils.dates.cron_presets), copied: this module must import without Airflow.
CRON_PRESETS = {"@hourly": "0 * * * *", "@daily": "0 0 * * *", "@weekly": "0 0 * * 0",
                "@monthly": "0 0 1 * *", "@quarterly": "0 0 1 */3 *", "@yearly": "0 0 1 1 *"}
SHOWN = 100  # characters of a refused value shown in a message
MAX_MESSAGE = 1000
MAX_VARIABLE = 10_000  # characters of the override Variable; a real one holds a few keys


class SettingsError(ValueError):
    """The runtime override Variable is not usable."""


def _start_date(value: Any) -> date:
    if isinstance(value, datetime):
        value = value.date()
    elif isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        try:
            value = date.fromisoformat(value)
        except ValueError:
            raise ValueError("a real date like 2026-01-31") from None
    if not isinstance(value, date):
        raise ValueError("a date like 2026-01-31")
    if not EARLIEST_START <= value <= LATEST_START:
        raise ValueError(f"a date from {EARLIEST_START} (N11 serves no older orders) to {LATEST_START}")
    return value


def _schedule(value: str) -> str:
    problem = _cron_problem(value)
    if problem:
        raise ValueError(problem)
    return value


@lru_cache(maxsize=256)
def _cron_problem(value: str) -> str | None:
    """Why Airflow's cron timetables would refuse, misread or never fire ``value`` (None: fine); cached,
    as most stores share a schedule."""
    if value.startswith("@") and value not in CRON_PRESETS:
        return f"a cron expression or one of the presets {', '.join(CRON_PRESETS)}"
    expression = CRON_PRESETS.get(value, value)
    fields = len(expression.split())
    if fields != 5:
        seconds = "; a sixth field would mean seconds, and runs less than a minute apart are refused" \
            if fields == 6 else ""
        return f"a cron expression of exactly 5 fields (minute hour day month weekday){seconds}"
    try:
        croniter(expression, datetime(2026, 1, 1)).get_next(datetime)
    except CroniterBadDateError:
        return "a cron expression that fires (this one matches no date)"
    except (CroniterError, ValueError, KeyError, TypeError, IndexError, OverflowError):
        return "a cron expression of 5 fields (minute hour day month weekday), e.g. */15 * * * *"
    return None


def _no_bool(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("a number, not true or false")
    return value


def _text(most: int, what: str, least: int = 0, pattern: str | None = None) -> Any:
    return Annotated[str, Strict(), Field(min_length=least, max_length=most, pattern=pattern, description=what)]


# The field types: each states its limits and the phrase a refusal uses ("field X must be <description>").
Slug = _text(64, "made of a-z, 0-9 and _, at most 64 characters (it is part of DAG ids and of the shop "
             "tables' store column)", pattern=f"^{SLUG.pattern}$")
Name = _text(255, "text of 1 to 255 characters", least=1)
StartDate = Annotated[date, BeforeValidator(_start_date), Field(description="a date like 2026-01-31")]
Url = _text(500, "empty or an http(s) address of at most 500 characters", pattern=r"^(https?://\S+)?$")
CONN_ID_PHRASE = "an Airflow connection id (letters, digits, _ . -; at most 250 characters)"
ConnId = _text(250, CONN_ID_PHRASE, pattern=CONN_ID)
Switch = Annotated[bool, Strict(), Field(description="true or false")]
UpdateType = Annotated[Literal[UPDATE_TYPES], Field(description=f"one of {', '.join(UPDATE_TYPES)}")]
Schedule = Annotated[str, Strict(), Field(max_length=100, description="a cron expression of 5 fields or a preset "
                                          "like @hourly"), AfterValidator(_schedule)]
TableName = _text(128, "a table or view name (letters, digits and _, optionally schema.table; at most 128 "
                  "characters)", pattern=r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$")
Hours = Annotated[float, Strict(), Field(ge=0, le=24, allow_inf_nan=False, description="a number from 0 to 24")]
Sender = Annotated[Literal[SENDERS], Field(description=f"one of {', '.join(SENDERS)}")]
Slots = Annotated[int, Strict(), Field(ge=1, le=16, description="a whole number from 1 to 16")]
Days = Annotated[int, Strict(), Field(ge=1, le=90, description="a whole number of days from 1 to 90")]
Quantity = Annotated[int, Strict(), Field(ge=0, le=1_000_000, description="a whole number from 0 to 1000000")]
Percent = Annotated[Decimal, BeforeValidator(_no_bool), Field(
    gt=-100, le=1000, decimal_places=4, allow_inf_nan=False,
    description="a percentage above -100 (a price must stay positive) and at most 1000, with at most 4 decimals")]
Email = Annotated[str, Strict(), Field(max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")]
Emails = Annotated[tuple[Email, ...], Field(max_length=20, description="a list of at most 20 e-mail addresses "
                                            "like ops@shop.com.tr")]


@dataclass(frozen=True, config=ConfigDict(extra="forbid"))
class Notify:
    """Where a store's failures are announced."""

    email: Emails = ()
    slack_conn_id: Annotated[ConnId | None, Field(description=CONN_ID_PHRASE)] = None
    slack_channel: Annotated[str | None, Field(max_length=80, description="a Slack channel name")] = None

    def as_dict(self) -> dict[str, Any]:
        """The settings given (the notifier reads this form)."""
        found = {"email": list(self.email), "slack_conn_id": self.slack_conn_id, "slack_channel": self.slack_channel}
        return {key: value for key, value in found.items() if value}


NotifyTo = Annotated[Notify | None, Field(description="a mapping with email (a list of addresses) and/or "
                                          "slack_conn_id (an Airflow connection id) with an optional "
                                          "slack_channel")]


@dataclass(frozen=True, config=ConfigDict(extra="forbid"))
class StoreConfig:
    """One N11 store's settings: the registry entry, and after ``apply_override`` the effective ones."""

    slug: Slug
    name: Name
    start_date: StartDate
    store_url: Url = ""
    n11_conn_id: ConnId = Field(default="", validate_default=True)  # "" = n11_<slug>
    shop_conn_id: ConnId = "shop_db"
    active: Switch = True
    order_sync: Switch = True
    product_sync: Switch = True
    update_type: UpdateType = "all"
    orders_schedule: Schedule = "*/15 * * * *"
    products_schedule: Schedule = "30 * * * *"
    products_source: TableName = "n11_product_source"
    order_window_overlap_hours: Hours = 3.0
    order_sender: Sender = "ALL"
    pool_slots: Slots = 1  # tasks of this store that may call N11 at once, across its DAGs and backfills
    follow_every_run_days: Days = 3  # open orders younger than this are looked up by every orders run
    follow_days: Days = 30  # older open orders are looked up daily until this age (include/orders/follow.py)
    stock_buffer: Quantity = 0
    price_markup_percent: Percent = Decimal(0)
    product_create: Switch = True
    auto_approve_orders: Switch = False
    returns_sync: Switch = True  # N11's return claims into the shop; off pauses them alone (order_sync stops them too)
    notify: NotifyTo = None

    @field_validator("n11_conn_id", mode="before")
    @classmethod
    def _n11_conn_id(cls, value: Any, info: ValidationInfo) -> Any:
        return value if value != "" else f"n11_{info.data.get('slug', '')}"

    @property
    def orders_dag_id(self) -> str:
        return f"n11_{self.slug}_orders"

    @property
    def products_dag_id(self) -> str:
        return f"n11_{self.slug}_products"

    @property
    def pool(self) -> str:
        """The Airflow pool that bounds this store's concurrent N11 work (see ``include.cli.pools``)."""
        return f"n11_{self.slug}"

    @property
    def variable_name(self) -> str:
        return f"n11_store_{self.slug}"

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly form, as passed to tasks and shown in their rendered arguments (holds no secret);
        the markup travels as its exact decimal text."""
        values = {name: getattr(self, name) for name in FIELDS}
        return {**values, "start_date": self.start_date.isoformat(),
                "price_markup_percent": str(self.price_markup_percent),
                "notify": self.notify.as_dict() if self.notify else None}

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> StoreConfig:
        return cls(**values)


FIELDS = tuple(StoreConfig.__pydantic_fields__)
REQUIRED = tuple(name for name, info in StoreConfig.__pydantic_fields__.items() if info.is_required())


def shown(value: Any) -> str:
    """``repr`` of a value, bounded in size and in the work it takes (a YAML alias bomb stays small)."""
    text = str(value) if isinstance(value, Decimal) else _REPR.repr(value)  # a JSON number, as written
    return text if len(text) <= SHOWN else text[:SHOWN - 3] + "..."


_REPR = reprlib.Repr()
_REPR.maxlevel, _REPR.maxstring, _REPR.maxother, _REPR.maxlong = 3, SHOWN, SHOWN, SHOWN
_REPR.maxlist = _REPR.maxtuple = _REPR.maxdict = _REPR.maxset = 6


def bounded(message: str) -> str:
    return message if len(message) <= MAX_MESSAGE else message[:MAX_MESSAGE - 3] + "..."


def listed(names: list[Any], first: int = 5, width: int = 40) -> str:
    """Names for a message: the ``first`` ones, each at most ``width`` characters, then how many more."""
    shown_names = [str(name)[:width] for name in names[:first]]
    return ", ".join(shown_names) + (f" and {len(names) - first} more" if len(names) > first else "")


@dataclasses.dataclass(frozen=True)
class Refusal:
    """The first problem pydantic found, in the project's words: the field, what it must be, the value."""

    field: str  # dotted for a nested setting: notify.email
    must: str  # the field's phrase, or the validator's own; "" when the field does not exist
    value: Any
    more: int  # further problems of the same input

    @classmethod
    def of(cls, exc: ValidationError) -> Refusal:
        errors = exc.errors(include_url=False)
        first = errors[0]
        names = [part for part in first["loc"] if isinstance(part, str)]
        if first["type"] in ("extra_forbidden", "unexpected_keyword_argument"):
            must = ""
        elif first["type"] == "value_error":
            must = str(first["ctx"]["error"])
        else:
            must = _description(names)
        return cls(".".join(names), must, first["input"], len(errors) - 1)

    def in_registry(self) -> str:
        if not self.must:
            return f"field {self.field!r} is unknown"
        more = f" ({self.more} more problem(s) in this entry)" if self.more else ""
        return f"field {self.field!r} must be {self.must}, got {shown(self.value)}{more}"

    def in_variable(self) -> str:
        """(Unknown keys are refused before validation, so every refusal here has a phrase.)"""
        return f"has {self.field}={shown(self.value)}; it must be {self.must}"


def _description(names: list[str]) -> str:
    """The ``must`` phrase of a (nested) field, or of the nearest enclosing field that has one."""
    schema, phrase = StoreConfig, "valid"
    for name in names:
        info = getattr(schema, "__pydantic_fields__", {}).get(name)
        if info is None:
            break
        phrase = info.description or phrase
        schema = next((arg for arg in (info.annotation, *get_args(info.annotation))
                       if hasattr(arg, "__pydantic_fields__")), None)
    return phrase


def apply_override(store: StoreConfig, raw: str | None) -> StoreConfig:
    """The store with the Variable's JSON (``None`` = Variable not set) applied."""
    if raw is None or not raw.strip():
        return store

    def fail(problem: str) -> SettingsError:
        return SettingsError(bounded(
            f"store {store.slug!r}: Airflow Variable {store.variable_name!r} = {shown(raw)} {problem}. "
            f"Fix or delete the Variable (example: {{\"active\": false}})."))

    if len(raw) > MAX_VARIABLE:
        raise fail(f"is longer than {MAX_VARIABLE} characters")
    try:
        override = json.loads(raw, parse_float=Decimal)  # a markup keeps its exact decimal digits
    except RecursionError:
        raise fail("is nested too deeply") from None
    except ValueError:
        raise fail("is not valid JSON") from None
    if not isinstance(override, dict):
        raise fail("must be a JSON object")
    unknown = [key for key in override if key not in OVERRIDABLE]
    if unknown:
        raise fail(f"has unknown key(s) {listed(unknown)}; "
                   f"allowed: {', '.join(OVERRIDABLE)}")
    try:
        return dataclasses.replace(store, **override)
    except ValidationError as exc:
        raise fail(Refusal.of(exc).in_variable()) from None


def orders_enabled(store: StoreConfig) -> bool:
    """A passive store stops both integrations."""
    return store.active and store.order_sync


def returns_enabled(store: StoreConfig) -> bool:
    """Return claims follow the orders: a passive store or order_sync off stops them, returns_sync alone too."""
    return orders_enabled(store) and store.returns_sync


def products_enabled(store: StoreConfig) -> bool:
    return store.active and store.product_sync
