"""The orders DAG's tasks: the orders N11 modified in the run's data interval into the shop database, then the
approvals the shop asked for back to N11.

The DAG file imports this module at parse, so the domain code is imported when a task runs.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from airflow.sdk import get_current_context, task
from airflow.sdk.exceptions import AirflowFailException

from include.tasks.assets import store_asset
from include.tasks.outcome import tell

log = logging.getLogger(__name__)

# An interval is split into windows of at most 14 days, each paged at 100 orders a call within the client's rate
# (600/min): a month of a busy store is a few hundred calls, well within the hour. Approving sends 100 order lines
# a call: a few calls per run.
LOAD_TIMEOUT = timedelta(hours=1)
APPROVE_TIMEOUT = timedelta(minutes=30)


@task(execution_timeout=LOAD_TIMEOUT, multiple_outputs=False)  # one XCom, not one per key
def load_orders(store_settings: dict, data_interval_start: datetime | None = None,
                data_interval_end: datetime | None = None, outlet_events=None) -> dict:
    """Load the interval's orders (padded by the store's overlap), or the range of the run's ``reload_from`` and
    ``reload_to``, then look up the open ones (``include/orders/run.py``); return the counts, which are also the
    orders asset event's extra.

    N11 data the shop cannot take, or a reload range it cannot serve, fails at once (a retry would get the same
    answer); N11 failing to answer is raised as it is, so Airflow retries the task.
    """
    from include.orders import run as orders_run
    from include.orders.errors import BadOrderData
    from include.orders.reload import ReloadRange, ReloadRangeError
    from include.tasks.store_run import store_run

    slug = store_settings["slug"]
    try:
        reload = ReloadRange.from_conf(get_current_context()["dag_run"].conf, datetime.now(UTC))
    except ReloadRangeError as exc:
        message = f"store {slug!r}: {exc}"
        tell(message)
        raise AirflowFailException(message) from None
    with store_run(store_settings) as run:
        try:
            if reload:
                summary = orders_run.reload_orders(run.engine, run.client, run.store, reload)
            else:
                summary = orders_run.load_orders(run.engine, run.client, run.store, data_interval_start,
                                                 data_interval_end)
        except BadOrderData as exc:
            raise AirflowFailException(str(exc)) from None
    tell(("reload: " if reload else "") + summary.windows.log_line())
    counts = summary.counts()
    if outlet_events is not None:
        outlet_events[store_asset(slug, "orders")].extra = counts
    return counts


@task(execution_timeout=APPROVE_TIMEOUT, multiple_outputs=False)  # one XCom, not one per key
def approve_orders(store_settings: dict) -> dict:
    """Send the order approvals the shop asked for (and, if switched on, every new seller line); return the
    counts.

    Nothing to approve is a success, its reason in the log: skipped means switched off, nothing else.
    """
    from include.orders.approve import approve_orders as send_approvals
    from include.tasks.store_run import store_run

    with store_run(store_settings) as run:
        summary = send_approvals(run.engine, run.client, run.store)
    outcome = summary.idle_reason() or summary.log_line()
    log.info("%s", outcome)
    tell(outcome)
    return summary.counts()
