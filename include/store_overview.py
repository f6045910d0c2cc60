"""What one shop database says about its stores, for the stores page: a fixed number of queries for any number of
stores (one per table), so 200 stores cost what one does.

Per store: the effective settings and the last credential check (``n11_stores``), the order actions not yet
settled (``n11_order_actions``: waiting, being sent, or sent without a usable answer), the last alert
(``n11_notifications``) and the SKUs refused in one products run (``n11_product_sync_errors``). Nothing here reads
a buyer's data or a credential.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Engine, and_, func, or_, select, tuple_

from include.sends import UNKNOWN
from include.tables import n11_notifications, n11_order_actions, n11_product_sync_errors, n11_stores

LISTED_REFUSALS = 5  # refused SKUs named per store; the rest are counted


@dataclass(frozen=True)
class Refusal:
    stock_code: str
    kind: str  # local, fail, reject, no_result
    reasons: tuple[str, ...]


@dataclass
class ShopView:
    """One store as its shop database shows it; ``recorded`` is False until a run has written its settings."""

    recorded: bool = False
    active: bool | None = None
    order_sync: bool | None = None
    product_sync: bool | None = None
    update_type: str | None = None
    settings_updated_at: datetime | None = None  # naive UTC, as every shop time
    api_status: str | None = None
    api_checked_at: datetime | None = None
    open_actions: int = 0
    oldest_open_action: datetime | None = None
    last_alert: str | None = None
    last_alert_at: datetime | None = None
    refusals: list[Refusal] = field(default_factory=list)
    refused: int = 0  # all refused SKUs of the run, listed or not


def read_stores(engine: Engine, slugs: Iterable[str], products_runs: dict[str, str]) -> dict[str, ShopView]:
    """The stores ``slugs`` of this database; ``products_runs`` maps a store to the products run whose refused
    SKUs are wanted (its last one)."""
    slugs = sorted(set(slugs))
    views = {slug: ShopView() for slug in slugs}
    with engine.connect() as conn:
        for row in conn.execute(select(n11_stores).where(n11_stores.c.store.in_(slugs))):
            view = views[row.store]
            view.recorded = True
            view.active, view.order_sync, view.product_sync = row.active, row.order_sync, row.product_sync
            view.update_type, view.settings_updated_at = row.update_type, row.settings_updated_at
            view.api_status, view.api_checked_at = row.api_status, row.api_checked_at
        actions = n11_order_actions
        for store, count, oldest in conn.execute(
                select(actions.c.store, func.count(), func.min(actions.c.requested_at))
                .where(actions.c.store.in_(slugs), or_(actions.c.result.is_(None), actions.c.result == UNKNOWN))
                .group_by(actions.c.store)):
            views[store].open_actions, views[store].oldest_open_action = count, oldest
        alerts = n11_notifications
        for row in conn.execute(select(alerts).where(alerts.c.store.in_(slugs))
                                .order_by(alerts.c.notified_at)):
            views[row.store].last_alert, views[row.store].last_alert_at = row.problem, row.notified_at
        runs = [(slug, run_id) for slug, run_id in products_runs.items() if slug in views]
        if runs:
            for row in conn.execute(_refusals_query(runs)):
                view = views[row.store]
                view.refused = row.total
                view.refusals.append(Refusal(row.stock_code, row.kind, tuple(json.loads(row.reasons))))
    return views


def _refusals_query(runs: list[tuple[str, str]]):
    """The first LISTED_REFUSALS refused SKUs of each (store, run), N11's refusals before local ones, each row with
    the run's total."""
    errors = n11_product_sync_errors
    ranked = select(
        errors.c.store, errors.c.stock_code, errors.c.kind, errors.c.reasons,
        func.count().over(partition_by=errors.c.store).label("total"),
        func.row_number().over(partition_by=errors.c.store,
                               order_by=[(errors.c.kind == "local"), errors.c.stock_code]).label("rank"),
    ).where(and_(errors.c.store.in_([slug for slug, _ in runs]),
                 tuple_(errors.c.store, errors.c.run_id).in_(runs))).subquery()
    return select(ranked).where(ranked.c.rank <= LISTED_REFUSALS).order_by(ranked.c.store, ranked.c.rank)
