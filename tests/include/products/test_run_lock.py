"""The store's run lock on SQLite, PostgreSQL and MariaDB: one holder, renewed by it, freed on release or expiry."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import update

from include.clock import utcnow
from include.products import run_lock
from include.shop_db import engine_for
from include.tables import n11_product_run_lock


@pytest.fixture
def engine(shop_conn):
    return engine_for(shop_conn)


def test_one_run_holds_the_lock_and_another_is_refused_naming_it(engine):
    run_lock.take(engine, "shop1", "run-a")
    run_lock.take(engine, "shop1", "run-a")  # renewed by its holder
    run_lock.take(engine, "shop2", "run-b")  # another store is another lock

    with pytest.raises(run_lock.RunLocked, match="store 'shop1': products run 'run-a' is in progress") as refused:
        run_lock.take(engine, "shop1", "run-b")
    assert refused.value.owner == "run-a"

    assert not run_lock.release(engine, "shop1", "run-b")  # only the holder releases
    assert run_lock.release(engine, "shop1", "run-a")
    run_lock.take(engine, "shop1", "run-b")


def test_an_expired_lock_is_taken_over(engine):
    run_lock.take(engine, "shop1", "vanished")
    with engine.begin() as conn:
        conn.execute(update(n11_product_run_lock).values(expires_at=utcnow() - timedelta(seconds=1)))

    run_lock.take(engine, "shop1", "run-b")

    with pytest.raises(run_lock.RunLocked):
        run_lock.take(engine, "shop1", "vanished")


def test_of_runs_racing_for_a_free_lock_exactly_one_wins(engine):
    won, refused = [], []
    start = threading.Barrier(6)

    def race(run_id: str) -> None:
        start.wait()
        try:
            run_lock.take(engine, "shop1", run_id)
            won.append(run_id)
        except run_lock.RunLocked:
            refused.append(run_id)

    threads = [threading.Thread(target=race, args=(f"run-{n}",)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(won) == 1 and len(refused) == 5
