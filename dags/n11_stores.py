"""N11 store DAGs, two per store of the store registry (``include/stores.yaml`` or ``N11_STORES_FILE``).

- `n11_<slug>_orders` pulls the store's N11 orders of each data interval into the shop database
  (every 15 minutes by default, Europe/Istanbul, catch-up on: an outage or a backfill re-extracts past
  intervals).
  Then it approves on N11 the order lines the shop asked for in `n11_order_actions` (and, with the store
  setting `auto_approve_orders`, every seller line in Created); skipped when there are none.
- `n11_<slug>_products` sends N11 whatever differs from the shop (stock and price against N11's live values),
  limited by the store's update type; one run of a store at a time (a lock in the shop database), no backfill.
  It also lists the shop's new products there (those with an `n11_category_id`; `product_create: false`
  pauses that alone).
  Run options go in the run's conf: `{"full_resync": true}` sends every allowed field group,
  `{"dry_run": true}` computes and logs the changes and sends nothing. (They are not DAG `params`:
  validating a params schema costs about 1 ms per DAG at every parse; the task checks the values.)

Both start with a **gate** (skips the run when the store, or that integration, is switched off; switch it
with the Airflow Variable `n11_store_<slug>`, e.g. `{"active": false}`) and a **credential check** (fails at
once, without retries, when N11 refuses the API key or secret of connection `n11_<slug>`).

Every task of a store runs in the Airflow pool `n11_<slug>` (`python -m include.tasks.pools` creates them), so a
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
from airflow.sdk import DAG, PokeReturnValue, get_parsing_context, task
from airflow.timetables.interval import CronDataIntervalTimetable
from airflow.timetables.trigger import CronTriggerTimetable

from include.registry import TIMEZONE, EntryError, StoreConfig, load_registry_or_error
from include.settings import OVERRIDABLE

TZ = pendulum.timezone(TIMEZONE)
DEFAULT_ARGS = {
    "owner": "n11-airflow",
    "retries": 3,
    "retry_delay": timedelta(minutes=1),
    "retry_exponential_backoff": True,
}


@task
def gate(store: dict, integration: str) -> dict:
    """Effective settings (registry + Variable override); skips the rest when the store is off."""
    from include.tasks import store as store_tasks

    return store_tasks.gate(store, integration)


@task(retries=0)
def check_credentials(store: dict, integration: str) -> int:
    """N11's credential check; wrong credentials fail at once, without retries."""
    from include.tasks import store as store_tasks

    return store_tasks.check_credentials(store, integration)


@task
def load_orders(store: dict, data_interval_start=None, data_interval_end=None) -> dict:
    """The orders N11 modified in the run's data interval (padded by the store's overlap) into the shop DB."""
    from include.tasks import orders as order_tasks

    return order_tasks.load_orders(store, data_interval_start, data_interval_end)


@task
def approve_orders(store: dict) -> dict:
    """Approve on N11 the order lines the shop asked for (and, if switched on, every new seller line)."""
    from include.tasks import orders as order_tasks

    return order_tasks.approve_orders(store)


# Waiting for N11 to process the write tasks: the sensor gives its worker slot back between pokes, which come
# after about 2, 5, 10 ... seconds (N11 usually finishes within seconds), then every 5 minutes at most.
RESULTS_POKE_SECONDS = 5
RESULTS_MAX_WAIT = timedelta(minutes=5)
RESULTS_TIMEOUT = timedelta(hours=2)


def release_run_lock(context) -> None:
    """On a products task's failure: release the store's run lock (the task's retries keep it)."""
    from include.tasks import products as product_tasks

    product_tasks.release_run_lock(context)


@task(on_failure_callback=release_run_lock)
def plan_changes(store: dict) -> dict:
    """Take the store's run lock (another run in progress skips this one; a backfill is refused) and record the
    earlier runs' finished N11 tasks; scan N11 for the shop's SKUs and live values, then diff the shop against
    them within the update type."""
    from include.tasks import products as product_tasks

    return product_tasks.plan_changes(store)


@task(on_failure_callback=release_run_lock)
def push_batches(store: dict) -> dict:
    """Send the planned batches of at most 1000 SKUs; a retry re-uses the recorded N11 task ids."""
    from include.tasks import products as product_tasks

    return product_tasks.push_batches(store)


@task(on_failure_callback=release_run_lock)
def create_products(store: dict) -> dict:
    """List the shop's new products on N11 (paused alone by product_create: false); the update type has no say."""
    from include.tasks import products as product_tasks

    return product_tasks.create_products(store)


@task.sensor(poke_interval=RESULTS_POKE_SECONDS, exponential_backoff=True, max_wait=RESULTS_MAX_WAIT,
             timeout=RESULTS_TIMEOUT, mode="reschedule", on_failure_callback=release_run_lock)
def collect_results(store: dict, planned: dict) -> PokeReturnValue:
    """Wait for N11's per-SKU results, record them, log the run's summary and release the run lock."""
    from include.tasks import products as product_tasks

    return product_tasks.collect_results(store, planned)


@task(retries=0)
def report_registry_error(message: str) -> None:
    """Fails with the registry error, so a run of a broken entry says what to fix."""
    from airflow.sdk.exceptions import AirflowFailException

    raise AirflowFailException(message)


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
    """What both DAGs of a store share: docs, start, retries, the store's pool and tags."""
    start = store.start_date
    return {
        "doc_md": _doc(store, settings, what),
        "start_date": pendulum.datetime(start.year, start.month, start.day, tz=TZ),
        "default_args": {**DEFAULT_ARGS, "pool": store.pool},
        "tags": ["n11", kind, f"store:{store.slug}"],
    }


def orders_dag(store: StoreConfig) -> DAG:
    settings = store.as_dict()
    with DAG(
        dag_id=store.orders_dag_id,
        description=f"N11 orders of {store.name} into the shop database",
        schedule=_interval_timetable(store.orders_schedule),
        catchup=True,
        max_active_runs=4,
        **_store_dag_args(store, settings, "orders",
                          "Pulls the N11 orders of each data interval into the shop database."),
    ) as dag:
        effective = gate(settings, "orders")
        check_credentials(effective, "orders") >> load_orders(effective) >> approve_orders(effective)
    return dag


def products_dag(store: StoreConfig) -> DAG:
    settings = store.as_dict()
    with DAG(
        dag_id=store.products_dag_id,
        description=f"{store.name}: shop product changes to N11 (update type {store.update_type})",
        schedule=_trigger_timetable(store.products_schedule),
        catchup=False,
        max_active_runs=1,
        **_store_dag_args(store, settings, "products",
                          "Pushes the shop's product changes to N11, limited by the store's update type."),
    ) as dag:
        effective = gate(settings, "products")
        planned = plan_changes(effective)
        check_credentials(effective, "products") >> planned
        # New products go after the updates: a creation problem never holds back stock and price. Should the
        # creation fail, the next run's planning collects this run's update results.
        planned >> push_batches(effective) >> create_products(effective) >> collect_results(effective, planned)
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
