"""The products DAG's tasks: the steps of ``include.products.run`` in Airflow's terms.

A problem only a person can fix (a bad run option, a missing products source, refused credentials, a batch
whose outcome is unknown) fails the task without retries; N11 being unavailable is left to Airflow's retries.
The run's id keys the saved batches and the store's run lock, so a retried task picks up where the last try
stopped. Another products run of the store in progress skips this one (the DAG itself refuses backfills). The run
lock is released by the last task, or by the failure callback of whichever task fails (``release_lock_on_failure``).

The DAG file imports this module at parse, so the domain code (pandas among it) is imported when a task runs.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import TYPE_CHECKING

from airflow.sdk import DAG, PokeReturnValue, get_current_context, task
from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

from include.tasks.assets import products_alias, store_asset
from include.tasks.deferring_sensor import deferring_sensor
from include.tasks.outcome import tell

if TYPE_CHECKING:
    from include.products.run import RunOptions

# Planning scans every N11 product (100 a page) and diffs in memory: 100,000 products are 1,000 calls. Pushing
# sends batches of 1,000 SKUs: 100 calls for 100,000 SKUs; creating new products likewise, after reading the
# category tree and each candidate category's attributes once. Each results poke is one short call.
PLAN_TIMEOUT = PUSH_TIMEOUT = CREATE_TIMEOUT = timedelta(hours=1)
POKE_TIMEOUT = timedelta(minutes=15)
# Waiting for N11 to process the write tasks: the sensor gives its worker slot (and the store's pool slot) back
# between pokes, deferred on a timer (include/tasks/deferring_sensor.py: reschedule mode fails tries falsely on
# Celery); the pokes come after 5, 10, 20, 40 ... seconds (N11 usually finishes within seconds), then every 5
# minutes at most.
RESULTS_POKE_SECONDS = 5
RESULTS_MAX_WAIT = timedelta(minutes=5)
RESULTS_TIMEOUT = timedelta(hours=2)


def _run() -> tuple[str, RunOptions]:
    """The run's id and options (``full_resync``, ``dry_run`` in its conf), refusing bad options."""
    from include.products.run import RunOptions

    dag_run = get_current_context()["dag_run"]
    try:
        return dag_run.run_id, RunOptions.from_conf(dag_run.conf)
    except ValueError as exc:
        raise _refusal(f'{exc}. Trigger the run with a conf like {{"dry_run": true}} or {{"full_resync": true}}') \
            from None


@contextmanager
def _person_must_fix(slug: str) -> Iterator[None]:
    """A products source that cannot be read, or the store's lock taken by another run meanwhile: failures no
    retry can mend."""
    from include.products.run_lock import RunLocked
    from include.products.source import SourceError

    try:
        yield
    except SourceError as exc:
        raise _refusal(f"store {slug!r}: {exc}. Fix the store's products_source setting or the view in the shop "
                       "database.") from None
    except RunLocked as exc:
        raise _refusal(str(exc)) from None


def _refusal(message: str) -> AirflowFailException:
    """A failure without retries, its reason also on the run's note."""
    tell(message)
    return AirflowFailException(message)


@task(execution_timeout=PLAN_TIMEOUT, multiple_outputs=False)  # one XCom, not one per key
def plan_changes(store_settings: dict) -> dict:
    """Take the store's run lock and record the earlier runs' finished N11 tasks; then scan N11 for the shop's SKUs
    and their live values, diff within the update type and save the batches. Returns counts.

    Another products run of the store in progress skips this run (and with it the rest).
    """
    from include.products import run as products_run
    from include.products.run_lock import RunLocked
    from include.tasks.store_run import store_run

    run_id, options = _run()
    with store_run(store_settings) as run:
        try:
            products_run.start(run.engine, run.client, run.store, run_id)
        except RunLocked as exc:
            tell(f"skipped: {exc}")
            raise AirflowSkipException(str(exc)) from None
        if options.dry_run:
            tell("**dry run**: nothing is sent to N11")
        with _person_must_fix(run.store.slug):
            return products_run.plan(run.engine, run.client, run.store, run_id, options)


@task(execution_timeout=PUSH_TIMEOUT, multiple_outputs=False)  # one XCom, not one per key
def push_batches(store_settings: dict) -> dict:
    """Send the run's batches of at most 1000 SKUs, each at most once whatever the retries (a retry re-uses the
    recorded N11 task ids); returns counts.

    A batch N11 refused or whose outcome is unknown is left unsent and logged; the results step then fails the
    run, after recording the other batches.
    """
    from include.products import run as products_run
    from include.tasks.store_run import store_run

    run_id, _ = _run()
    with store_run(store_settings) as run, _person_must_fix(run.store.slug):
        return products_run.push_run(run.engine, run.client, run.store, run_id)


@deferring_sensor(poke_interval=RESULTS_POKE_SECONDS, exponential_backoff=True, max_wait=RESULTS_MAX_WAIT,
                  timeout=RESULTS_TIMEOUT, execution_timeout=POKE_TIMEOUT)
def collect_results(store_settings: dict, planned: dict, outlet_events=None) -> PokeReturnValue:
    """One poke: record every finished N11 task of the store; when none of the run's is left, log the summary,
    release the run lock and announce the products asset (not after a dry run).

    The run fails at the end (after recording everything else) if a batch never got a receipt.
    """
    from include.products import run as products_run
    from include.tasks.store_run import store_run

    run_id, _ = _run()
    with store_run(store_settings) as run:
        with _person_must_fix(run.store.slug):
            done, lines, totals = products_run.collect(run.engine, run.client, run.store, run_id, planned)
        if not done:
            return PokeReturnValue(is_done=False)
        products_run.finish(run.engine, run.store, run_id)
    tell("\n".join(lines))
    if totals.unsent:
        raise _refusal(f"store {run.store.slug!r}: {totals.unsent} SKU(s) were not confirmed sent (see the push "
                       "task's log); the next run's scan shows what N11 has and sends what still differs")
    if outlet_events is not None and not planned["dry_run"]:
        slug = store_settings["slug"]
        outlet_events[products_alias(slug)].add(store_asset(slug, "products"), extra=planned)
    return PokeReturnValue(is_done=True, xcom_value={"succeeded": totals.succeeded, "failed": totals.failed,
                                                      "rejected": totals.rejected, "no_result": totals.no_result})


def release_run_lock(context) -> None:
    """Failure callback of the run's tasks: release the store's run lock if this run holds it, so a failed run
    (a sensor that timed out, a task out of retries) does not hold the store until the lock expires."""
    from include.products import run as products_run
    from include.tasks.store_run import store_run

    store_settings = context["ti"].xcom_pull(task_ids="gate")
    if store_settings:
        with store_run(store_settings) as run:
            products_run.finish(run.engine, run.store, context["dag_run"].run_id)


@task(execution_timeout=CREATE_TIMEOUT, multiple_outputs=False)  # one XCom, not one per key
def create_products(store_settings: dict) -> dict:
    """List the shop's new products on N11 (after the scan linked what N11 has): refresh the category cache where
    due, plan, and send the batches to product-create, each at most once whatever the retries.

    Returns the plan's counts and how many batches N11 took; the results step records N11's answers. The update
    type has no say; ``product_create: false`` pauses this task alone.
    """
    from include.products import run as products_run
    from include.tasks.store_run import store_run

    run_id, options = _run()
    with store_run(store_settings) as run, _person_must_fix(run.store.slug):
        return products_run.create_run(run.engine, run.client, run.store, run_id, options)


LOCKED_TASKS = ("plan_changes", "push_batches", "create_products", "collect_results")


def release_lock_on_failure(dag: DAG) -> None:
    """The products tasks release the run lock when they fail, besides the store's alert (default_args)."""
    for task_id in LOCKED_TASKS:
        work = dag.get_task(task_id)
        work.on_failure_callback = [release_run_lock, *work.on_failure_callback]  # Airflow keeps a list
