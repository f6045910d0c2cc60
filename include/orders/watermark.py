"""Where the store's orders are loaded to: the end of the last orders run that loaded its windows, kept in
``n11_stores.orders_loaded_to``. A run whose interval starts after it loads from there, so the orders N11 received
while the store was passive (or ``order_sync`` off, or the scheduler down) are not lost to the skipped runs. The
return claims keep theirs the same way in ``returns_loaded_to`` (``returns_sync`` may be off alone)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy import Column, Engine, or_, select, update

from include.clock import as_utc, in_istanbul
from include.tables import n11_stores

log = logging.getLogger(__name__)
# The longest gap one run catches up: a month of a busy store is a few hundred N11 calls, well within the orders
# task's hour. An older gap is the operator's to backfill; the run's log names the span and the command.
MAX_CATCH_UP = timedelta(days=31)


ORDERS, RETURNS = n11_stores.c.orders_loaded_to, n11_stores.c.returns_loaded_to


def load_start(engine: Engine, slug: str, dag_id: str, start: datetime, mark: Column = ORDERS) -> datetime:
    """Where a run over [start, ...) loads from: the watermark ``mark`` when it lies before ``start`` (at most
    ``MAX_CATCH_UP`` before), else ``start``; a catch-up is logged."""
    what = mark.name.removesuffix("_loaded_to")
    with engine.connect() as conn:
        loaded_to = conn.scalar(select(mark).where(n11_stores.c.store == slug))
    start = as_utc(start)
    if loaded_to is None or loaded_to.replace(tzinfo=UTC) >= start:  # stored as naive UTC, as every date
        return start
    loaded_to = loaded_to.replace(tzinfo=UTC)
    since = max(loaded_to, start - MAX_CATCH_UP)
    log.warning("store %r: %s were last loaded up to %s; this run loads from %s to catch up",
                slug, what, in_istanbul(loaded_to), in_istanbul(since))
    if since > loaded_to:
        log.error("store %r: the gap since %s is longer than one run catches up (%s); load it with `airflow "
                  "backfill create --dag-id %s --from-date %s --to-date %s --reprocess-behavior completed`",
                  slug, in_istanbul(loaded_to), MAX_CATCH_UP, dag_id, in_istanbul(loaded_to), in_istanbul(since))
    return since


def advance(engine: Engine, slug: str, loaded_to: datetime, mark: Column = ORDERS) -> None:
    """Move the watermark ``mark`` to ``loaded_to``, never back (a backfill of an older interval leaves it)."""
    loaded_to = as_utc(loaded_to).replace(tzinfo=None)
    with engine.begin() as conn:
        conn.execute(update(n11_stores).where(
            n11_stores.c.store == slug, or_(mark.is_(None), mark < loaded_to),
        ).values({mark.name: loaded_to}))
