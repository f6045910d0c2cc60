"""The bodies of the products DAG's tasks: the products sync (``include.products``) in Airflow's terms.

A problem only a person can fix (a bad run option, a missing products source, refused credentials, a batch
whose outcome is unknown) fails the task without retries; N11 being unavailable is left to Airflow's retries.
The run's id keys the saved batches, so a retried task picks up where the last try stopped.
"""

from __future__ import annotations

import logging
from collections import Counter

from airflow.sdk import PokeReturnValue, get_current_context
from airflow.sdk.exceptions import AirflowFailException

from include.products import create, creations, links, push, results, sync
from include.products.source import SourceError
from include.tasks.store_run import store_run

log = logging.getLogger(__name__)


def _run() -> tuple[str, sync.RunOptions]:
    """The run's id and options (``full_resync``, ``dry_run`` in its conf), refusing bad options."""
    dag_run = get_current_context()["dag_run"]
    try:
        return dag_run.run_id, sync.RunOptions.from_conf(dag_run.conf)
    except ValueError as exc:
        raise AirflowFailException(f"{exc}. Trigger the run with a conf like "
                                   '{"dry_run": true} or {"full_resync": true}') from None


def plan_changes(store_settings: dict) -> dict:
    """Scan N11 for the shop's SKUs, diff and save the batches.

    The run's options are checked before the scan, which takes minutes for a large store. Returns the batches
    to send and the counts of both steps, for the summary.
    """
    run_id, options = _run()
    with store_run(store_settings) as run:
        try:
            link_counts = links.refresh(run.engine, run.client, run.store)
            plan_counts, refs = sync.plan_run(run.engine, run.store, run_id, options)
        except SourceError as exc:
            raise AirflowFailException(f"store {run.store.slug!r}: {exc}. Fix the store's products_source setting "
                                       "or the view in the shop database.") from None
    return {"batches": [ref.as_dict() for ref in refs],
            "counts": {"links": link_counts.as_dict(), "plan": plan_counts, "dry_run": options.dry_run}}


def push_batches(store_settings: dict, planned: dict) -> list[str | None]:
    """Send the planned batches, each at most once whatever the retries; returns N11's task ids.

    A batch N11 refused or whose outcome is unknown is left unsent and logged; the results step then fails the
    run, after recording the other batches.
    """
    run_id, _ = _run()
    refs = [push.BatchRef(**values) for values in planned["batches"]]
    with store_run(store_settings) as run:
        task_ids = push.send_all(run.engine, run.client, run.store.slug, run_id, refs)
    sent = Counter(ref.endpoint for ref, task_id in zip(refs, task_ids, strict=True) if task_id is not None)
    log.info("store %r push: %d of %d batch(es) with N11 (%s)", run.store.slug, sum(sent.values()), len(refs),
             ", ".join(f"{endpoint} {n}" for endpoint, n in sorted(sent.items())) or "nothing to send")
    return task_ids


def collect_results(store_settings: dict, planned: dict) -> PokeReturnValue:
    """One poke: record every finished N11 task of the run; when none is left, log the run's summary.

    The run fails at the end (after recording everything else) if a batch never got a receipt.
    """
    run_id, _ = _run()
    counts = planned["counts"]
    with store_run(store_settings) as run:
        if not results.collect(run.engine, run.client, run.store.slug, run_id):
            return PokeReturnValue(is_done=False)
        lines, done = sync.summary(run.engine, run.store, run_id, counts["links"], counts["plan"], counts["dry_run"])
        with run.engine.connect() as conn:
            lines += creations.report(conn, run.store.slug, run_id, sync.LISTED_ERRORS)
    log.info("\n".join(lines))
    if done.unsent:
        raise AirflowFailException(f"store {run.store.slug!r}: {done.unsent} SKU(s) were not confirmed sent (see "
                                   "the push task's log); they keep their baseline, so the next run sends them again")
    return PokeReturnValue(is_done=True, xcom_value=lines)


def create_products(store_settings: dict) -> dict:
    """List the shop's new products on N11 (after the scan linked what N11 has): refresh the category cache where
    due, plan, and send the batches to product-create, each at most once whatever the retries.

    Returns the plan's counts and how many batches N11 took; the results step records N11's answers.
    """
    run_id, options = _run()
    with store_run(store_settings) as run:
        try:
            counts, refs = create.plan_creation(run.engine, run.client, run.store, run_id, options.dry_run)
        except SourceError as exc:
            raise AirflowFailException(f"store {run.store.slug!r}: {exc}. Fix the store's products_source setting "
                                       "or the view in the shop database.") from None
        task_ids = push.send_all(run.engine, run.client, run.store.slug, run_id, refs)
    return {**counts, "batches": len(refs), "taken": sum(task_id is not None for task_id in task_ids)}
