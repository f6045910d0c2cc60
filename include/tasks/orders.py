"""The orders DAG's tasks: the orders N11 modified in the run's data interval into the shop database; then, side by
side, what the shop asks N11 to do with its orders (approvals, cancels, invoice links) and the return claims both
ways (N11's claims into the shop, the shop's decisions back).

The DAG file imports this module at parse, so the domain code is imported when a task runs.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from airflow.sdk import get_current_context, task
from airflow.sdk.exceptions import AirflowFailException

from include.tasks.assets import store_asset
from include.tasks.outcome import counted, tell
from include.tasks.store import skip_switched_off

log = logging.getLogger(__name__)

# An interval is split into windows of at most 14 days, each paged at 100 orders a call within the client's rate
# (600/min): a month of a busy store is a few hundred calls, well within the hour. Approving sends 100 order lines
# a call, a cancel one call per package, an invoice link one call each (at most 500 a run): a few minutes at worst.
# Return claims come 20 a page, open ones looked up by order (at most 50 a run), decisions one call each (at most
# 200 a run).
LOAD_TIMEOUT = timedelta(hours=1)
ACTIONS_TIMEOUT = RETURNS_TIMEOUT = timedelta(minutes=30)


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


@task(execution_timeout=ACTIONS_TIMEOUT, multiple_outputs=False)  # one XCom, not one per key
def send_order_actions(store_settings: dict) -> dict:
    """Send what the shop asked N11 to do with its orders: the approvals (and, if switched on, every new seller
    line), then the cancels (after them, so a line approved in this run can be cancelled in it), then the invoice
    links. Returns the counts of each.

    Nothing to send is a success, its reason in the log: skipped means switched off, nothing else.
    """
    from include.orders.approve import approve_orders
    from include.orders.cancel import cancel_lines
    from include.orders.invoices import send_invoice_links
    from include.tasks.store_run import store_run

    with store_run(store_settings) as run:
        approvals = approve_orders(run.engine, run.client, run.store)
        cancels = cancel_lines(run.engine, run.client, run.store)
        invoices = send_invoice_links(run.engine, run.soap, run.store)
    busy = []
    for label, summary in {"approvals": approvals, "cancels": cancels, "invoice links": invoices}.items():
        idle = summary.idle_reason()
        log.info("%s", idle or summary.log_line())
        if not idle:
            busy.append(counted(label, summary.counts()))
    tell("; ".join(busy) or "order actions: nothing to approve, cancel or link (see the task's log)")
    return {"approvals": approvals.counts(), "cancels": cancels.counts(), "invoices": invoices.counts()}


@task(execution_timeout=RETURNS_TIMEOUT, multiple_outputs=False)  # one XCom, not one per key
def sync_returns(store_settings: dict, data_interval_start: datetime | None = None,
                 data_interval_end: datetime | None = None) -> dict:
    """Load N11's return claims of the run's interval (or of its reload range) and read the open ones again, then
    send the shop's decisions on them; skipped while ``returns_sync`` is off. Returns the counts of both."""
    from include.orders.reload import ReloadRange
    from include.returns.actions import send_return_actions
    from include.returns.errors import BadClaimData
    from include.returns.run import load_returns
    from include.settings import StoreConfig, returns_enabled
    from include.tasks.store_run import store_run

    store = StoreConfig.from_dict(store_settings)
    if not returns_enabled(store):
        skip_switched_off(store, "returns", "returns_sync=false")
    reload = ReloadRange.from_conf(get_current_context()["dag_run"].conf, datetime.now(UTC))  # load_orders checked it
    start, end = (reload.start, reload.end) if reload else (data_interval_start, data_interval_end)
    with store_run(store) as run:
        try:
            claims = load_returns(run.engine, run.soap, run.store, start, end)
        except BadClaimData as exc:  # a retry reads the same claim: fail at once, as load_orders does
            raise AirflowFailException(str(exc)) from None
        decisions = send_return_actions(run.engine, run.soap, run.store)
    log.info("%s", decisions.idle_reason() or decisions.log_line())
    told = counted("return decisions", decisions.counts()) if not decisions.idle_reason() else "no decision waiting"
    tell(f"{counted('return claims', claims.counts())}; {told}")
    return {"claims": claims.counts(), "decisions": decisions.counts()}
