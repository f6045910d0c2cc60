"""At most one alert per store and problem per hour: the memory is the shop table ``n11_notifications``.

Every worker that fails a task of the store asks ``claim`` first; only the one that claims the (store, problem)
pair for the coming hour sends the alert. The claim is one conditional UPDATE or one INSERT, so two workers
failing at once cannot both win.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Engine, insert, update
from sqlalchemy.exc import IntegrityError

from include.tables import n11_notifications

WINDOW = timedelta(hours=1)
PROBLEM_LENGTH = n11_notifications.c.problem.type.length


def claim(engine: Engine, slug: str, problem: str, now: datetime, window: timedelta = WINDOW) -> bool:
    """True when nobody announced this problem of the store within ``window`` before ``now``: announce it."""
    table, problem = n11_notifications, problem[:PROBLEM_LENGTH]
    with engine.begin() as conn:
        stale = conn.execute(update(table).where(table.c.store == slug, table.c.problem == problem,
                                                 table.c.notified_at <= now - window).values(notified_at=now))
        if stale.rowcount:
            return True
    try:
        with engine.begin() as conn:
            conn.execute(insert(table).values(store=slug, problem=problem, notified_at=now))
    except IntegrityError:
        return False
    return True
