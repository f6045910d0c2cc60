"""The canary on N11's date filter: does a window's answer hold what the window asked for?

The windows ask for packages by ``orderByField=true``, documented to filter on the last modification. A package
whose lastModifiedDate lies outside the window (widened by the overlap, for the "GMT+3" reading) contradicts
that: the run says so once a day in its log and in ``n11_stores.api_message``, and records when in
``n11_stores.order_filter_contradicted_at``, which raises the pace of the open orders' follow-up (``follow.py``).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import Engine, select, update

from include.clock import utcnow
from include.orders.windows import Window
from include.settings import StoreConfig
from include.tables import n11_stores

RAISED_FOR = timedelta(days=7)  # the open orders' follow-up runs at the raised pace this long after

log = logging.getLogger(__name__)


def contradictions(packages: list[dict], window: Window, overlap: timedelta) -> int:
    """How many packages of a window's answer were last modified outside it (widened by the overlap)."""
    low, high = window.start_ms - _ms(overlap), window.end_ms + _ms(overlap)
    return sum(not low <= package["lastModifiedDate"] < high for package in packages
               if isinstance(package.get("lastModifiedDate"), int))


def record_contradiction(engine: Engine, store: StoreConfig, found: int, window: Window) -> None:
    """Say once per store and day that N11's answers contradict the date filter, and raise the pace."""
    now = utcnow()
    with engine.begin() as conn:
        last = conn.scalar(select(n11_stores.c.order_filter_contradicted_at).where(n11_stores.c.store == store.slug))
        if last is not None and last.date() == now.date():
            return
        message = (f"N11's order listing answered {found} package(s) last modified outside the asked window "
                   f"{window}: orderByField does not filter on the last modification; open orders are now "
                   "looked up on every run")
        conn.execute(update(n11_stores).where(n11_stores.c.store == store.slug)
                     .values(order_filter_contradicted_at=now, api_message=message[:500]))
    log.warning("store %r: %s", store.slug, message)


def _ms(delta: timedelta) -> int:
    return delta // timedelta(milliseconds=1)


def standing_note(engine: Engine, slug: str) -> str:
    """While the pace is raised, what the back office must keep reading after a credential check rewrote
    ``api_message``: since when N11's answers contradict the date filter; empty otherwise."""
    with engine.connect() as conn:
        since = conn.scalar(select(n11_stores.c.order_filter_contradicted_at).where(n11_stores.c.store == slug))
    if since is None or since <= utcnow() - RAISED_FOR:
        return ""
    return (f"; since {since:%Y-%m-%d %H:%M} UTC N11's order listing has contradicted the date filter asked for: "
            f"open orders are looked up on every run until {since + RAISED_FOR:%Y-%m-%d}")
