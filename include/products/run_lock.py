"""One products run of a store at a time: a lock row in the shop database, whatever started the run.

Airflow's ``max_active_runs`` does not count backfill runs, and a manual run may start beside the schedule; two
interleaved runs could record a stale plan's results last. So a run's first task takes the store's row of
``n11_product_run_lock`` (owner run id and an expiry), each later task renews it, and the last task deletes it
(also when the run failed). A run that finds the row held by another, unexpired run does nothing. A run whose
worker vanished without releasing it frees the store when the row expires.

Taking the lock is one conditional UPDATE, or an INSERT that only one of two racing runs can make (the key is
the store): atomic on SQLite, PostgreSQL and MariaDB alike.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Engine, delete, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from include.clock import utcnow
from include.tables import n11_product_run_lock

lock = n11_product_run_lock
HOLD = timedelta(hours=3)  # longer than a run's longest wait (the results sensor gives up after 2 hours)


class RunLocked(Exception):
    """Another products run of the store holds the lock."""

    def __init__(self, slug: str, run_id: str, owner: str, until: datetime) -> None:
        super().__init__(f"store {slug!r}: products run {owner!r} is in progress (it holds the store's lock until "
                         f"{until:%Y-%m-%d %H:%M:%S} UTC), so run {run_id!r} does nothing; the next run compares "
                         "everything with N11 anyway")
        self.owner = owner


def take(engine: Engine, slug: str, run_id: str, hold: timedelta = HOLD) -> None:
    """Take or renew the store's lock for ``run_id``; raises ``RunLocked`` while another run holds it."""
    now = utcnow()
    mine = lock.c.store == slug
    with engine.begin() as conn:
        taken = conn.execute(update(lock).where(mine, or_(lock.c.run_id == run_id, lock.c.expires_at < now))
                             .values(run_id=run_id, taken_at=now, expires_at=now + hold)).rowcount
    if taken:
        return
    try:
        with engine.begin() as conn:
            conn.execute(insert(lock).values(store=slug, run_id=run_id, taken_at=now, expires_at=now + hold))
    except IntegrityError:
        with engine.connect() as conn:
            holder = conn.execute(select(lock.c.run_id, lock.c.expires_at).where(mine)).one_or_none()
        if holder is None:  # released between the two statements: try once more
            return take(engine, slug, run_id, hold)
        raise RunLocked(slug, run_id, holder.run_id, holder.expires_at) from None


def release(engine: Engine, slug: str, run_id: str) -> bool:
    """Delete the store's lock if ``run_id`` holds it; True if it did."""
    with engine.begin() as conn:
        return conn.execute(delete(lock).where(lock.c.store == slug, lock.c.run_id == run_id)).rowcount > 0
