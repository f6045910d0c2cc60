"""The orders DAG's work: the orders N11 modified in the run's data interval into the shop database."""

from __future__ import annotations

import logging
from datetime import datetime

from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

from include.orders import run as orders_run
from include.orders.approve import approve_orders as send_approvals
from include.orders.errors import BadOrderData
from include.tasks.store_run import store_run

log = logging.getLogger(__name__)


def load_orders(store_settings: dict, data_interval_start: datetime, data_interval_end: datetime) -> dict:
    """Load the interval's orders, then look up the open ones (include/orders/run.py); return the counts.

    N11 data the shop cannot take fails at once (a retry would get the same answer); N11 failing to answer
    is raised as it is, so Airflow retries the task.
    """
    with store_run(store_settings) as run:
        try:
            summary = orders_run.load_orders(run.engine, run.client, run.store, data_interval_start,
                                             data_interval_end)
        except BadOrderData as exc:
            raise AirflowFailException(str(exc)) from None
    return summary.counts()


def approve_orders(store_settings: dict) -> dict:
    """Send the order approvals the shop asked for (and the automatic ones); return the counts.

    Skipped, with the reason in the log, when there was nothing to approve.
    """
    with store_run(store_settings) as run:
        summary = send_approvals(run.engine, run.client, run.store)
    reason = summary.idle_reason()
    if reason:
        log.info("%s", reason)  # the UI shows only "Skipping task." for the exception itself
        raise AirflowSkipException(reason)
    log.info("%s", summary.log_line())
    return summary.counts()
