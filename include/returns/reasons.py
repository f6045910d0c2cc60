"""N11's reasons for denying a return claim, cached in ``n11_return_deny_reasons``.

They are N11's, the same for every seller (as the categories are), so they are keyed by N11's id alone and shared
by the stores of one shop database. The list is fetched only when a deny waits to be sent, and then only when the
copy is a day old or lacks a reason the shop asked for: at most one call per run.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import Engine, delete, func, select

from include.tables import n11_return_deny_reasons
from include.upsert import upsert
from n11.soap import N11SoapClient

log = logging.getLogger(__name__)
reasons = n11_return_deny_reasons
MAX_AGE = timedelta(days=1)


def deny_reasons(engine: Engine, soap: N11SoapClient, wanted: Iterable[str], now: datetime) -> dict[str, str]:
    """N11's deny reasons by id, from the cache, refreshed first when it is a day old or lacks one of ``wanted``."""
    with engine.connect() as conn:
        cached = dict(conn.execute(select(reasons.c.reason_id, reasons.c.name)).all())
        refreshed = conn.execute(select(func.min(reasons.c.refreshed_at))).scalar()
    if cached and refreshed is not None and now - refreshed < MAX_AGE and set(wanted) <= set(cached):
        return cached
    fetched = {reason["id"]: reason["value"] for reason in soap.deny_reasons()}
    rows = [{"reason_id": reason_id, "name": name[:500], "refreshed_at": now} for reason_id, name in fetched.items()]
    with engine.begin() as conn:
        upsert(conn, reasons, rows)
        conn.execute(delete(reasons).where(reasons.c.refreshed_at < now))  # gone from N11's list
    log.info("N11's deny reasons for return claims refreshed: %d reasons", len(rows))
    return fetched
