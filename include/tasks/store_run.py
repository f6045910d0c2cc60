"""The opening every store task shares: settings, shop database, N11 client, failure translation, closing.

A task body is ``with store_run(settings) as run: ...``. The block sees the store's settings, its shop
engine (tables created if missing) and an N11 client (and its SOAP side) that is closed when the block ends.
N11 refusing the credentials anywhere in the block becomes one failure without retries that says which store
and where to fix the key; a missing connection says which one to create.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property

from airflow.sdk import BaseHook
from airflow.sdk.exceptions import AirflowFailException, AirflowNotFoundException
from sqlalchemy import Engine

from include.settings import StoreConfig
from include.shop_db import engine_for
from include.tasks.outcome import tell
from n11.client import N11Client
from n11.errors import N11AuthError
from n11.hooks import N11Hook
from n11.soap import N11SoapClient

log = logging.getLogger(__name__)


def shop_engine(conn_id: str) -> Engine:
    """The shop database of an Airflow connection, its tables created if missing."""
    try:
        conn = BaseHook.get_connection(conn_id)
    except AirflowNotFoundException:
        raise AirflowFailException(f"shop database connection {conn_id!r} is not defined: create it in "
                                   "Admin > Connections (sqlite, postgres or mysql)") from None
    return engine_for(conn)


class CredentialsRefused(AirflowFailException):
    """N11 refused the store's API key or secret: one problem, whichever task met it (alerts group by it)."""


def credentials_refused(store: StoreConfig, exc: N11AuthError) -> AirflowFailException:
    """The failure of any task whose N11 call was refused: which store, and where to fix the key."""
    return CredentialsRefused(
        f"store {store.slug!r}: {exc}. Fix the API Key / API Secret of connection {store.n11_conn_id!r} "
        "(Admin > Connections; the Test button checks them), then clear this run.")


@dataclass
class StoreRun:
    """What a task of one store works with; the client is made on first use."""

    store: StoreConfig
    engine: Engine

    @cached_property
    def client(self) -> N11Client:
        """The store's client, limited to 1/pool_slots of the connection's rate: at most pool_slots tasks of the
        store call N11 at once (the store's pool), so together they stay within requests_per_minute."""
        try:
            client = N11Hook(n11_conn_id=self.store.n11_conn_id).get_conn()
        except AirflowNotFoundException:
            raise AirflowFailException(
                f"store {self.store.slug!r}: connection {self.store.n11_conn_id!r} is not defined; create it in "
                "Admin > Connections with type N11, the API key and the API secret") from None
        client.share_rate(self.store.pool_slots)
        return client

    @cached_property
    def soap(self) -> N11SoapClient:
        """The store's SOAP services (returns, invoice links), sharing the client's connection, rate and closing."""
        return N11SoapClient.beside(self.client)

    def close(self) -> None:
        if "client" in self.__dict__:
            self.client.close()


@contextmanager
def store_run(store_settings: dict | StoreConfig) -> Iterator[StoreRun]:
    """Open a store's run from its settings dict (as the gate returned it); close the client at the end."""
    store = store_settings if isinstance(store_settings, StoreConfig) else StoreConfig.from_dict(store_settings)
    run = StoreRun(store, shop_engine(store.shop_conn_id))
    try:
        yield run
    except N11AuthError as exc:
        failure = credentials_refused(store, exc)
        log.error("%s", failure)
        tell(str(failure))
        raise failure from None
    finally:
        run.close()
