"""The tasks every store DAG runs first: the gate (is the store switched on?) and N11's credential check.

The DAG file imports this module at parse, so what the tasks need beyond Airflow is imported when they run.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import NoReturn

from airflow.sdk import Variable, get_current_context, task
from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

from include.settings import SettingsError, StoreConfig, apply_override, orders_enabled, products_enabled
from include.tasks.outcome import tell

log = logging.getLogger(__name__)

ORDERS = "orders"
PRODUCTS = "products"
_ENABLED = {ORDERS: orders_enabled, PRODUCTS: products_enabled}
_SWITCH = {ORDERS: "order_sync", PRODUCTS: "product_sync"}
# One N11 call that keeps failing gives up after 5 attempts (connect 10 s + read 60 s each) within 300 s of
# retrying: about 7 minutes at worst. The gate reads a Variable and writes one row; the credential check makes
# one or two calls (14 minutes at worst).
GATE_TIMEOUT = timedelta(minutes=5)
CREDENTIALS_TIMEOUT = timedelta(minutes=15)


@task(execution_timeout=GATE_TIMEOUT, multiple_outputs=False)  # one XCom, not one per key
def gate(store_settings: dict, integration: str) -> dict:
    """Apply the override Variable, record the effective settings, and skip the run if the store is off (a products
    dry run of an active store runs with ``product_sync`` off)."""
    from include.store_status import record_settings
    from include.tasks.store_run import shop_engine

    store = StoreConfig.from_dict(store_settings)
    try:
        effective = apply_override(store, Variable.get(store.variable_name, default=None))
    except SettingsError as exc:
        log.error("store %r: %s stopped: %s", store.slug, integration, exc)
        tell(str(exc))
        raise AirflowFailException(str(exc)) from None
    record_settings(shop_engine(effective.shop_conn_id), effective)
    if not _ENABLED[integration](effective):
        _skip_unless_dry_run(effective, integration)
    log.info("%s", _enabled_line(effective, integration))
    settings = effective.as_dict()
    del settings["notify"]  # the tasks need no channel; the alerts are wired at parse, from the registry
    return settings


def _enabled_line(store: StoreConfig, integration: str) -> str:
    """The gate's one line: the integration runs, with the switches that decide what its tasks do."""
    if integration == ORDERS:
        switches = (f"returns_sync={_on(store.returns_sync)}, auto_approve_orders={_on(store.auto_approve_orders)}, "
                    f"order_sender={store.order_sender}")
    else:
        switches = (f"update_type={store.update_type}, product_create={_on(store.product_create)}, "
                    f"stock_buffer={store.stock_buffer}, price_markup_percent={store.price_markup_percent}")
    return f"store {store.slug!r}: {integration} enabled ({switches})"


def _on(switch: bool) -> str:
    return "on" if switch else "off"


def _skip_unless_dry_run(store: StoreConfig, integration: str) -> None:
    """Skip the run of a store switched off, saying why and where to switch it; a products dry run of an active
    store goes on."""
    if _dry_run_of_an_active_store(integration, store):
        message = (f"store {store.slug!r}: product_sync=false, but a dry run sends nothing, so it runs: what the "
                   "scheduled runs would send, while they stay skipped")
        log.info("%s", message)
        tell(message)
        return
    skip_switched_off(store, integration,
                      "the store is passive (active=false)" if not store.active else f"{_SWITCH[integration]}=false")


def skip_switched_off(store: StoreConfig, what: str, reason: str) -> NoReturn:
    """Skip the task (or, from the gate, the run) of a store switched off, saying why in the log and the run's note
    and where to switch it: skipped means switched off, nothing else."""
    message = (f"store {store.slug!r}: {what} skipped because {reason}; switch it with the Variable "
               f"{store.variable_name!r} (Admin > Variables) or in the store registry")
    log.warning("%s", message)  # Airflow itself logs only "Skipping task."
    tell(f"skipped: {message}")
    raise AirflowSkipException(message)


def _dry_run_of_an_active_store(integration: str, store: StoreConfig) -> bool:
    """A products run triggered with ``{"dry_run": true}`` for a store that is active: it passes ``product_sync``,
    so a store whose pushes are still off can be previewed (docs/OPERATIONS.md, "A dry run"). The products tasks
    check the run's options."""
    if integration != PRODUCTS or not store.active:
        return False
    try:
        conf = get_current_context()["dag_run"].conf
    except RuntimeError:  # the task body called directly: no run
        return False
    return (conf or {}).get("dry_run") is True


@task(execution_timeout=CREDENTIALS_TIMEOUT)
def check_credentials(store_settings: dict, integration: str) -> int:
    """Run N11's credential check (and the order service check for orders); record the outcome.

    Wrong credentials fail the task at once, without retries (an AirflowFailException): only a person can fix the
    key. Anything else (N11 unreachable, the worker lost) is retried as any task is.
    """
    from include.orders.canary import standing_note
    from include.store_status import (
        API_AUTH_FAILED,
        API_OK,
        API_ORDER_SERVICE_CLOSED,
        API_UNREACHABLE,
        record_api_status,
    )
    from include.tasks.store_run import store_run
    from n11.errors import N11AuthError, N11Error, N11OrderServiceClosed

    with store_run(store_settings) as run:
        slug = run.store.slug
        try:
            count = run.client.check_credentials()
            if integration == ORDERS:
                run.client.check_order_service()
        except N11OrderServiceClosed as exc:
            record_api_status(run.engine, slug, API_ORDER_SERVICE_CLOSED, str(exc))
            log.error("store %r: %s stopped: %s", slug, integration, exc)
            tell(f"store {slug!r}: {exc}")
            raise AirflowFailException(f"store {slug!r}: {exc}") from None
        except N11AuthError as exc:
            record_api_status(run.engine, slug, API_AUTH_FAILED, str(exc))
            raise
        except N11Error as exc:
            record_api_status(run.engine, slug, API_UNREACHABLE, str(exc))
            raise
        record_api_status(run.engine, slug, API_OK, f"{count} products on N11{standing_note(run.engine, slug)}")
    log.info("store %r: N11 accepted the credentials; %d products on N11", slug, count)
    return count


@task(retries=0)
def report_registry_error(message: str) -> None:
    """Fails with the registry error, so a run of a broken entry says what to fix."""
    raise AirflowFailException(message)
