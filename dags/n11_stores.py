"""N11 store DAGs, two per store of the store registry (``include/stores.yaml`` or ``N11_STORES_FILE``).

- `n11_<slug>_orders` pulls the store's N11 orders of each data interval into the shop database
  (every 15 minutes by default, Europe/Istanbul, catch-up on: an outage or a backfill re-extracts past
  intervals).
  Run options (the trigger form's fields): `reload_from` and `reload_to` re-extract a whole range in this one
  run (include/orders/reload.py) instead of the run's interval.
  Then, side by side: `send_order_actions` sends what the shop asked for in `n11_order_actions` (approvals, and
  with the store setting `auto_approve_orders` every seller line in Created; then cancels) and
  `n11_order_invoices` (invoice links), succeeding with the reason when there is none; `sync_returns` loads N11's
  return claims into `n11_returns` and sends the shop's decisions from `n11_return_actions` (skipped while
  `returns_sync` is off).
- `n11_<slug>_products` sends N11 whatever differs from the shop (stock and price against N11's live values),
  limited by the store's update type; one run of a store at a time (a lock in the shop database). Airflow
  refuses to create a backfill of it (``allowed_run_types``): no run, no failure, no alert.
  It also lists the shop's new products there (those with an `n11_category_id`; `product_create: false`
  pauses that alone).
  Run options (the trigger form's fields, or the run's conf): `full_resync` sends every allowed field group,
  `dry_run` computes and logs the changes and sends nothing. The form's fields come from DAG `params`; the
  task reads them from the run's conf (the form writes them there) and checks them.

Both start with a **gate** (skips the run when the store, or that integration, is switched off; switch it
with the Airflow Variable `n11_store_<slug>`, e.g. `{"active": false}`) and a **credential check** (fails at
once, without retries, when N11 refuses the API key or secret of connection `n11_<slug>`).

A successful orders run emits an asset event for `n11://<slug>/orders` (its counts as the extra), a products
run one for `n11://<slug>/products`: a shop's own DAGs can be scheduled on them (docs/OPERATIONS.md).
A failed task alerts the store's `notify` channels (include/tasks/notify.py), at most once per problem per hour.
Every task has an `execution_timeout` (beside it in include/tasks/), so a server that answers too slowly cannot
hold the store's pool slot for ever. The tasks live in include/tasks/ (store.py, orders.py, products.py); this
file only builds the DAGs.

Every task of a store runs in the Airflow pool `n11_<slug>` (`python -m include.cli.pools` creates them), so a
backfill beside the schedule cannot exceed the store's N11 rate.

A registry entry that cannot be used becomes a `n11_registry_error_<n>` DAG whose description names the
store and the field; the other stores are unaffected. A registry file that cannot be used at all (not YAML,
no `stores:` list, broken `defaults:`) becomes the one DAG `n11_registry_error`.

This file reads only the registry at import: no Variables, connections, databases or HTTP.
"""

from __future__ import annotations

from datetime import timedelta
from functools import cache

import pendulum
from airflow.sdk import DAG, Param, get_parsing_context
from airflow.sdk.definitions.param import ParamsDict
from airflow.timetables.interval import CronDataIntervalTimetable
from airflow.timetables.trigger import CronTriggerTimetable

from include.registry import TIMEZONE, EntryError, load_registry_or_error
from include.settings import OVERRIDABLE, StoreConfig
from include.tasks.assets import products_alias, store_asset
from include.tasks.orders import load_orders, send_order_actions, sync_returns
from include.tasks.products import (
    collect_results,
    create_products,
    plan_changes,
    push_batches,
    release_lock_on_failure,
)
from include.tasks.store import check_credentials, gate, report_registry_error

TZ = pendulum.timezone(TIMEZONE)
DEFAULT_ARGS = {
    "owner": "n11-airflow",
    "retries": 3,
    "retry_delay": timedelta(minutes=1),
    # Airflow 3 multiplies the wait by this after each try (1, 2, 4 minutes, each drawn up to twice that): a bool
    # True would be a factor of 1, every wait a minute.
    "retry_exponential_backoff": 2.0,
}

PRODUCTS_RUN_TYPES = ("scheduled", "manual")
# The trigger forms' fields (the run's conf keeps reading the same keys): (default, JSON type, description).
PRODUCTS_PARAMS = {
    "dry_run": (False, "boolean", "Compute and log the changes (and the SKUs to create) without sending anything to "
                                  "N11."),
    "full_resync": (False, "boolean", "Send every field group the update type allows for every linked SKU, not only "
                                      "the changed ones (after a restore, or when N11 may differ from the last "
                                      "confirmed values)."),
}
ORDERS_PARAMS = {
    "reload_from": (None, ["null", "string"], "Reload a range in this one run: every order N11 modified from this "
                                              "Istanbul date (2026-10-01) or ISO datetime on. Leave both empty for "
                                              "the run's own interval."),
    "reload_to": (None, ["null", "string"], "... up to this Istanbul date (its day included) or ISO datetime "
                                            "(excluded); not in the future."),
}


def _doc(store: StoreConfig, settings: dict, what: str) -> str:
    rows = "\n".join(f"| {key} | {value} |" for key, value in settings.items())
    return (f"### {store.name}\n\n{what}\n\nStore page: {store.store_url or '-'}\n\n"
            f"Registry settings (the Variable `{store.variable_name}` may override {', '.join(OVERRIDABLE)} "
            f"at run time):\n\n| setting | value |\n|---|---|\n{rows}\n")


@cache
def _interval_timetable(cron: str) -> CronDataIntervalTimetable:
    """Shared by every DAG on the same cron: building one describes the cron in words, which is slow."""
    return CronDataIntervalTimetable(cron, timezone=TZ)


@cache
def _trigger_timetable(cron: str) -> CronTriggerTimetable:
    return CronTriggerTimetable(cron, timezone=TZ)


def _store_dag_args(store: StoreConfig, settings: dict, kind: str, what: str) -> dict:
    """What both DAGs of a store share: docs, start, retries, the store's pool, alerts and tags."""
    start = store.start_date
    default_args = {**DEFAULT_ARGS, "pool": store.pool}
    if store.notify:
        from include.tasks.notify import StoreFailureNotifier

        default_args["on_failure_callback"] = StoreFailureNotifier(store.slug, store.notify.as_dict(),
                                                                   store.shop_conn_id)
    return {
        "doc_md": _doc(store, settings, what),
        "start_date": pendulum.datetime(start.year, start.month, start.day, tz=TZ),
        "default_args": default_args,
        "tags": ["n11", kind, f"store:{store.slug}"],
    }


# Airflow validates a scheduled DAG's params at every parse with jsonschema, which first checks the schema
# against its meta-schema: draft 7's takes a fifth of the default draft 2020-12's time (0.04 ms instead of 0.2).
PARAM_SCHEMA_DRAFT = {"$schema": "http://json-schema.org/draft-07/schema#"}


def _run_params(fields: dict[str, tuple]) -> ParamsDict:
    return ParamsDict({key: Param(default, type=kind, description=text, **PARAM_SCHEMA_DRAFT)
                       for key, (default, kind, text) in fields.items()})


def orders_dag(store: StoreConfig) -> DAG:
    settings = store.as_dict()
    with DAG(
        dag_id=store.orders_dag_id,
        dag_display_name=f"{store.name} · N11 orders",
        description=f"N11 orders of {store.name} into the shop database",
        schedule=_interval_timetable(store.orders_schedule),
        catchup=True,
        max_active_runs=4,
        **_store_dag_args(store, settings, "orders",
                          "Pulls the N11 orders of each data interval into the shop database."),
    ) as dag:
        effective = gate(settings, "orders")
        loaded = load_orders.override(outlets=[store_asset(store.slug, "orders")])(effective)
        check_credentials(effective, "orders") >> loaded >> [send_order_actions(effective), sync_returns(effective)]
    dag.params = _run_params(ORDERS_PARAMS)  # after the tasks, as for the products DAG below
    return dag


def products_dag(store: StoreConfig) -> DAG:
    settings = store.as_dict()
    with DAG(
        dag_id=store.products_dag_id,
        dag_display_name=f"{store.name} · N11 products",
        description=f"{store.name}: shop product changes to N11 (update type {store.update_type})",
        schedule=_trigger_timetable(store.products_schedule),
        catchup=False,
        max_active_runs=1,
        # Each run sends the shop's current state, so a past interval has nothing of its own to send: Airflow
        # refuses a backfill of this DAG when it is asked for one (CLI, UI or API), before any run exists.
        allowed_run_types=PRODUCTS_RUN_TYPES,
        **_store_dag_args(store, settings, "products",
                          "Pushes the shop's product changes to N11, limited by the store's update type."),
    ) as dag:
        effective = gate(settings, "products")
        planned = plan_changes(effective)
        check_credentials(effective, "products") >> planned
        # New products go after the updates: a creation problem never holds back stock and price. Should the
        # creation fail, the next run's planning collects this run's update results.
        planned >> push_batches(effective) >> create_products(effective) >> collect_results.override(
            outlets=[products_alias(store.slug)])(effective, planned)
    release_lock_on_failure(dag)
    # Set after the tasks: every task deep-copies the DAG's params when it is created (16 copies a DAG at every
    # parse). The trigger form reads the DAG's params; the tasks read the run's conf, where the form puts them.
    dag.params = _run_params(PRODUCTS_PARAMS)
    return dag


def registry_error_dag(error: EntryError) -> DAG:
    what = "store registry file" if error.index is None else "store registry entry"
    with DAG(
        dag_id=error.dag_id,
        description=f"BROKEN {what}: {error.message}"[:500],
        doc_md=f"### Broken {what}\n\n{error.message}\n\nFix it; this DAG then disappears.",
        schedule=None,
        tags=["n11", "registry-error"],
    ) as dag:
        report_registry_error(error.message)
    return dag


def build_dags() -> dict[str, DAG]:
    """Every DAG of the registry, or only the one a task process asks for (it re-parses this file)."""
    wanted = get_parsing_context().dag_id
    registry = load_registry_or_error()
    dags: dict[str, DAG] = {}
    for store in registry.stores:
        for dag_id, factory in ((store.orders_dag_id, orders_dag), (store.products_dag_id, products_dag)):
            if wanted in (None, dag_id):
                dags[dag_id] = factory(store)
    for error in registry.errors:
        if wanted in (None, error.dag_id):
            dags[error.dag_id] = registry_error_dag(error)
    return dags


globals().update(build_dags())
