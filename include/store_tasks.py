"""The bodies of the store DAGs' tasks: the one place where the sync logic meets Airflow.

Each function reads what Airflow holds at run time (the override Variable, the connections), calls the
plain-Python logic, and turns its outcome into Airflow's terms: a skip for a store that is switched off, a
failure without retries for a problem only a person can fix, a retryable error otherwise.
"""

from __future__ import annotations

import dataclasses
import logging
from datetime import datetime

from airflow.sdk import BaseHook, Variable
from airflow.sdk.exceptions import AirflowFailException, AirflowNotFoundException, AirflowSkipException
from sqlalchemy import Engine

from include.orders.sync import BadOrderData, sync_orders
from include.registry import StoreConfig
from include.settings import SettingsError, apply_override, orders_enabled, products_enabled
from include.shop_db import engine_for
from include.store_status import (
    API_AUTH_FAILED,
    API_OK,
    API_ORDER_SERVICE_CLOSED,
    API_UNREACHABLE,
    record_api_status,
    record_settings,
)
from n11.client import N11Client
from n11.errors import N11AuthError, N11Error, N11OrderServiceClosed
from n11.hooks import N11Hook

log = logging.getLogger(__name__)

ORDERS = "orders"
PRODUCTS = "products"
_ENABLED = {ORDERS: orders_enabled, PRODUCTS: products_enabled}
_SWITCH = {ORDERS: "order_sync", PRODUCTS: "product_sync"}


def shop_engine(conn_id: str) -> Engine:
    """The shop database of an Airflow connection, its tables created if missing."""
    try:
        conn = BaseHook.get_connection(conn_id)
    except AirflowNotFoundException:
        raise AirflowFailException(f"shop database connection {conn_id!r} is not defined: create it in "
                                   "Admin > Connections (sqlite, postgres or mysql)") from None
    return engine_for(conn)


def n11_client(store: StoreConfig) -> N11Client:
    try:
        return N11Hook(n11_conn_id=store.n11_conn_id).get_conn()
    except AirflowNotFoundException:
        raise AirflowFailException(f"store {store.slug!r}: connection {store.n11_conn_id!r} is not defined; create "
                                   "it in Admin > Connections with type N11, the API key and the API secret") from None


def gate(store_settings: dict, integration: str) -> dict:
    """Apply the override Variable, record the effective settings, and skip the run if the store is off."""
    store = StoreConfig.from_dict(store_settings)
    try:
        effective = apply_override(store, Variable.get(store.variable_name, default=None))
    except SettingsError as exc:
        raise AirflowFailException(str(exc)) from None
    record_settings(shop_engine(effective.shop_conn_id), effective)
    if not _ENABLED[integration](effective):
        reason = "the store is passive (active=false)" if not effective.active else \
            f"{_SWITCH[integration]}=false"
        raise AirflowSkipException(f"store {store.slug!r}: {integration} skipped because {reason}; switch it with "
                                   f"the Variable {store.variable_name!r} or in the store registry")
    log.info("store %r: %s enabled (update_type=%s)", store.slug, integration, effective.update_type)
    return effective.as_dict()


def check_credentials(store_settings: dict, integration: str) -> int:
    """Run N11's credential check (and the order service check for orders); record the outcome.

    Wrong credentials fail the task at once, without retries: only a person can fix the key.
    """
    store = StoreConfig.from_dict(store_settings)
    engine = shop_engine(store.shop_conn_id)
    client = n11_client(store)
    try:
        count = client.check_credentials()
        if integration == ORDERS:
            client.check_order_service()
    except N11OrderServiceClosed as exc:
        record_api_status(engine, store.slug, API_ORDER_SERVICE_CLOSED, str(exc))
        raise AirflowFailException(f"store {store.slug!r}: {exc}") from None
    except N11AuthError as exc:
        record_api_status(engine, store.slug, API_AUTH_FAILED, str(exc))
        raise credentials_refused(store, exc) from None
    except N11Error as exc:
        record_api_status(engine, store.slug, API_UNREACHABLE, str(exc))
        raise
    record_api_status(engine, store.slug, API_OK, f"{count} products on N11")
    log.info("store %r: N11 accepted the credentials; %d products on N11", store.slug, count)
    return count


def load_orders(store_settings: dict, data_interval_start: datetime, data_interval_end: datetime) -> dict:
    """Load the orders N11 modified in the run's data interval into the shop database; log one summary line.

    N11 data the shop cannot take fails at once (a retry would get the same answer); N11 failing to answer
    is raised as it is, so Airflow retries the task.
    """
    store = StoreConfig.from_dict(store_settings)
    engine = shop_engine(store.shop_conn_id)
    client = n11_client(store)
    try:
        summary = sync_orders(client, engine, store, data_interval_start, data_interval_end)
    except BadOrderData as exc:
        raise AirflowFailException(str(exc)) from None
    except N11AuthError as exc:
        raise credentials_refused(store, exc) from None
    finally:
        client.close()
    log.info("%s", summary.log_line())
    return {"windows": summary.windows, "pages": summary.pages, "packages": summary.packages,
            **dataclasses.asdict(summary.counts)}


def credentials_refused(store: StoreConfig, exc: N11AuthError) -> AirflowFailException:
    """The failure of any task whose N11 call was refused: which store, and where to fix the key."""
    return AirflowFailException(
        f"store {store.slug!r}: {exc}. Fix the API Key / API Secret of connection {store.n11_conn_id!r} "
        "(Admin > Connections; the Test button checks them), then clear this run.")
