"""A sync run in a child process that stops at a chosen point and waits to be killed (SIGKILL by the test).

``python -m tests.reliability.crash_child MODE SANDBOX_URL SHOP_DB_PATH``, with the API key and secret in
``N11_APPKEY`` and ``N11_APPSECRET``: prints ``READY`` at the point and sleeps. ``orders`` stops while writing
the second window (its rows written, not committed); ``push`` stops after the first batch was sent and its
receipt recorded; ``approve`` stops after N11 approved the first batch of lines, before its results are recorded;
``cancel`` stops after N11 split the first package, before its result is recorded; ``return_actions`` and
``invoice_links`` stop after N11 took the first return decision or invoice link, before its answer is recorded.
"""

from __future__ import annotations

import os
import sys
import time
from datetime import date
from types import SimpleNamespace

from include.orders import approve, cancel, invoices
from include.orders import load as order_load
from include.orders import run as orders_run
from include.products import push
from include.products import run as steps
from include.returns import actions
from include.settings import StoreConfig
from include.shop_db import engine_for
from n11.client import ClientSettings, N11Client
from n11.soap import N11SoapClient

STORE = StoreConfig(slug="shop1", name="Test Mağaza", start_date=date(2026, 9, 1))
FAST = ClientSettings(requests_per_minute=600_000, max_attempts=2, backoff_seconds=0.01)


def wait_to_be_killed() -> None:
    print("READY", flush=True)
    time.sleep(120)
    raise SystemExit("not killed")


def stop_after_call(function, number: int):
    """``function`` that waits to be killed once its call ``number`` has done its work."""
    calls = []

    def wrapper(*args, **kwargs):
        result = function(*args, **kwargs)
        calls.append(result)
        if len(calls) == number:
            wait_to_be_killed()
        return result

    return wrapper


def main(mode: str, url: str, db: str) -> None:
    from tests.helpers.orders import MONTH_END, MONTH_START

    engine = engine_for(SimpleNamespace(conn_id="shop_db", conn_type="sqlite", host=db, schema=None))
    client = N11Client(os.environ["N11_APPKEY"], os.environ["N11_APPSECRET"], url, FAST)
    if mode == "orders":
        order_load.load_window = stop_after_call(order_load.load_window, 2)
        orders_run.load_windows(engine, client, STORE, MONTH_START, MONTH_END)
    elif mode == "approve":
        client.approve_lines = stop_after_call(client.approve_lines, 1)
        approve.approve_orders(engine, client, STORE)
    elif mode == "cancel":
        client.split_package_by_quantity = stop_after_call(client.split_package_by_quantity, 1)
        cancel.cancel_lines(engine, client, STORE)
    elif mode == "return_actions":
        soap = N11SoapClient.beside(client)
        soap.approve_claim = stop_after_call(soap.approve_claim, 1)
        actions.send_return_actions(engine, soap, STORE)
    elif mode == "invoice_links":
        soap = N11SoapClient.beside(client)
        soap.save_invoice_link = stop_after_call(soap.save_invoice_link, 1)
        invoices.send_invoice_links(engine, soap, STORE)
    else:
        steps.start(engine, client, STORE, "run-1")
        steps.plan(engine, client, STORE, "run-1", steps.RunOptions())
        push.send = stop_after_call(push.send, 1)
        steps.push_run(engine, client, STORE, "run-1")
    raise SystemExit("the run ended before its stopping point")


if __name__ == "__main__":
    main(*sys.argv[1:])
