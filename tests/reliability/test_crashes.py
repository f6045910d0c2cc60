"""A worker killed mid-way (SIGKILL, not an exception) costs nothing: the rerun ends like a clean run.

The sandbox runs in the test process; the sync runs in a child process that is killed at a chosen point.
"""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from devtools.sandbox import N11Sandbox, SandboxState
from devtools.sandbox.claims import OPEN as OPEN_CLAIMS
from include.orders import approve, cancel, invoices
from include.orders.windows import order_windows
from include.products import run as steps
from include.returns import actions
from include.shop_db import dispose_engines, engine_for
from include.tables import (
    n11_order_actions,
    n11_order_invoices,
    n11_order_lines,
    n11_orders,
    n11_product_push_batches,
    n11_return_actions,
)
from tests.conftest import ROOT, TEST_KEY, TEST_SECRET, Conn, make_state
from tests.helpers.orders import (
    MONTH_END,
    MONTH_START,
    READING_IDS,
    READINGS,
    STORE,
    busy_account,
    cancel_run,
    created_seller_lines,
    expected,
    month_account,
    n11_order,
    new_order,
    request,
    run,
    sent_lines,
    shop_order,
    snapshot,
    split_bodies,
    stored,
    sync,
)
from tests.helpers.products import ENDPOINT_PATHS, Harness
from tests.helpers.reliability import (
    FAULTY,
    Retried,
    baseline_values,
    client_of,
    order_intervals,
    record,
    until_collected,
)
from tests.helpers.returns import ask, claims_of, decide, give_link, load_month, operations, send_links


def kill_at_stop(mode: str, sandbox: N11Sandbox, shop: Conn) -> None:
    """Run the child until it reports its stopping point, then SIGKILL it."""
    env = {**os.environ, "N11_APPKEY": TEST_KEY, "N11_APPSECRET": TEST_SECRET}
    child = subprocess.Popen([sys.executable, "-m", "tests.reliability.crash_child", mode, sandbox.url, shop.host],
                             cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = child.stdout.readline()
        assert line.strip() == "READY", child.stderr.read()[-2000:]
        child.send_signal(signal.SIGKILL)
    finally:
        assert child.wait(timeout=30) == -signal.SIGKILL


@pytest.fixture
def shop(tmp_path):
    yield Conn("shop_db", "sqlite", str(tmp_path / "shop.db"))
    dispose_engines()


@pytest.mark.parametrize("reading", READINGS, ids=READING_IDS)
def test_an_order_load_killed_while_writing_a_window_is_rolled_back_and_the_rerun_equals_a_clean_run(shop, reading):
    with N11Sandbox(SandboxState([month_account()], order_date_filter=reading)).start() as sandbox:
        kill_at_stop("orders", sandbox, shop)
        engine = engine_for(shop)
        windows = order_windows(MONTH_START, MONTH_END, timedelta(hours=3), MONTH_END)
        # the second window never landed, and the follow-up never ran
        assert stored(engine) == expected(sandbox, windows[0].start, windows[0].end, followed=False)

        order_intervals(sandbox, engine, STORE, MONTH_START, MONTH_END, MONTH_END - MONTH_START, FAULTY)
        clean = dataclasses.replace(STORE, slug="clean")
        order_intervals(sandbox, engine, clean, MONTH_START, MONTH_END, MONTH_END - MONTH_START, FAULTY)
        assert snapshot(engine) == snapshot(engine, "clean")
        assert stored(engine) == expected(sandbox)
        with engine.connect() as conn:
            for table, key in ((n11_orders, n11_orders.c.order_number),
                               (n11_order_lines, n11_order_lines.c.order_line_id)):
                rows, keys = conn.execute(select(func.count(), func.count(key.distinct())).where(
                    table.c.store == STORE.slug)).one()
                assert rows == keys
    record("crash: order load killed mid-window", kills=1, windows_committed_before_kill=1, rows_lost=0,
           duplicates=0)


def test_a_push_killed_after_the_first_batch_sends_nothing_twice_and_moves_no_unconfirmed_baseline(shop, tmp_path):
    with N11Sandbox(make_state()).start() as sandbox, N11Sandbox(make_state()).start() as clean_n11:
        harness = Harness(engine_for(shop), sandbox)
        clean = Harness(engine_for(Conn("shop_db", "sqlite", str(tmp_path / "clean.db"))), clean_n11)
        for h in (harness, clean):
            price, stock, info = h.plain(3)
            h.change(price, sale_price=h.n11(price)["salePrice"] - 1)
            h.change(stock, quantity=h.n11(stock)["quantity"] + 4)
            h.change(info, description="<p>Yeni açıklama</p>")
        clean.run("clean", Retried())

        kill_at_stop("push", sandbox, shop)
        n11_before = {code: dict(product) for code, product in harness.account.products.items()}
        with harness.engine.connect() as conn:
            saved = conn.execute(select(n11_product_push_batches).order_by(
                n11_product_push_batches.c.created_at, n11_product_push_batches.c.endpoint,
                n11_product_push_batches.c.batch_no)).all()
        assert [bool(batch.task_id) for batch in saved] == [True] + [False] * (len(saved) - 1)
        assert len(saved) == 3 and len(harness.account.tasks) == 1  # stock, price and content: one batch each
        seeded = baseline_values(harness.engine)  # the content was not confirmed yet: still N11's
        assert all(row["description"] == n11_before[row["stock_code"]]["description"] for row in seeded)

        # Airflow retries the push task (the run still holds its lock), then the sensor collects.
        harness.client = client_of(sandbox, FAULTY)
        store = harness.store()
        steps.push_run(harness.engine, harness.client, store, "run-1")
        until_collected(harness, "run-1")
        steps.finish(harness.engine, store, "run-1")

        writes = sum(len(sandbox.calls("POST", path)) for path in ENDPOINT_PATHS.values())
        assert writes == len(saved) == len(harness.account.tasks)  # each batch sent once
        assert baseline_values(harness.engine) == baseline_values(clean.engine)
        assert harness.account.products == clean.account.products
    record("crash: product push killed after the first batch", kills=1, batches=3, batches_sent_twice=0,
           baselines_moved_before_confirmation=0)



def test_an_approval_killed_after_n11_took_it_is_never_sent_again_and_is_settled_accepted(shop, monkeypatch):
    with N11Sandbox(SandboxState([busy_account()])).start() as sandbox:
        engine = engine_for(shop)
        now = datetime.now(UTC)
        sync(sandbox, engine, now - timedelta(days=3), now, now=now + timedelta(hours=1))
        lines = created_seller_lines(engine)
        assert lines
        request(engine, *lines)

        kill_at_stop("approve", sandbox, shop)
        assert sorted(sent_lines(sandbox)) == lines
        assert run(sandbox, engine).idle_reason() is not None  # claimed, no answer: not sent again
        monkeypatch.setattr(approve, "SETTLE", timedelta(0))
        settled = run(sandbox, engine)

        assert settled.settled == len(lines) and settled.resent == 0 and sorted(sent_lines(sandbox)) == lines
        with engine.connect() as conn:
            results = set(conn.execute(select(n11_order_actions.c.result)).scalars())
        assert results == {"accepted"}
        record("approval killed mid-call", lines=len(lines), sent_twice=0)


def test_a_cancel_killed_after_n11_took_it_is_never_sent_again_and_the_shop_ends_holding_the_split(shop, monkeypatch):
    with N11Sandbox(SandboxState([busy_account()])).start() as sandbox:
        package = new_order(sandbox, "3000000000001", 3, 1)
        engine = engine_for(shop)
        now = datetime.now(UTC)
        sync(sandbox, engine, now - timedelta(days=3), now, now=now + timedelta(hours=1))
        line = str(package["lines"][0]["orderLineId"])
        request(engine, line, action="cancel", quantity=2)

        kill_at_stop("cancel", sandbox, shop)
        assert len(split_bodies(sandbox)) == 1 and package["shipmentPackageStatus"] == "Unpacked"
        assert cancel_run(sandbox, engine).sent == 0  # claimed, no answer: not sent again
        monkeypatch.setattr(cancel, "SETTLE", timedelta(0))
        settled = cancel_run(sandbox, engine)

        assert (settled.settled, settled.sent, settled.reread) == (1, 0, 1) and len(split_bodies(sandbox)) == 1
        with engine.connect() as conn:
            results = set(conn.execute(select(n11_order_actions.c.result)).scalars())
        assert results == {"accepted"}
        held = shop_order(engine, "3000000000001")
        assert held == n11_order(sandbox, "3000000000001") and len(held["lines"]) == 5  # 2 old, 3 new: none lost
        record("cancel killed after N11 split the package", cancels=1, sent_twice=0, lines_lost=0)


def test_a_return_decision_killed_after_n11_took_it_is_never_sent_again_and_is_settled_accepted(shop, monkeypatch):
    with N11Sandbox(SandboxState([month_account()])).start() as sandbox:
        engine = engine_for(shop)
        load_month(sandbox, engine)
        first, second = (c["claimReturnId"] for c in claims_of(sandbox.state.account(TEST_KEY), *OPEN_CLAIMS)[:2])
        ask(engine, first, "approve", requested_at=datetime(2026, 10, 1, 9))
        ask(engine, second, "approve", requested_at=datetime(2026, 10, 1, 10))

        kill_at_stop("return_actions", sandbox, shop)
        assert [call["claimReturnId"] for call in operations(sandbox, "ClaimReturnApprove")] == [first]
        after = decide(sandbox, engine)  # the killed one is claimed without an answer: not sent again
        assert (after.sent, after.settled) == (1, 0)
        monkeypatch.setattr(actions, "SETTLE", timedelta(0))
        settled = decide(sandbox, engine)

        assert (settled.settled, settled.resent, settled.sent) == (1, 0, 0)
        assert [call["claimReturnId"] for call in operations(sandbox, "ClaimReturnApprove")] == [first, second]
        with engine.connect() as conn:
            assert set(conn.execute(select(n11_return_actions.c.result)).scalars()) == {"accepted"}
        record("return decision killed mid-call", decisions=2, sent_twice=0)


def test_an_invoice_link_killed_after_n11_took_it_is_never_sent_again(shop, monkeypatch):
    with N11Sandbox(SandboxState([month_account()])).start() as sandbox:
        engine = engine_for(shop)
        sync(sandbox, engine, MONTH_START, MONTH_END)
        with engine.connect() as conn:
            first, second = conn.execute(select(n11_orders.c.order_number).order_by(
                n11_orders.c.order_number).limit(2)).scalars()
        give_link(engine, first, "https://fatura.example.com/1.pdf", requested_at=datetime(2026, 10, 1, 9))
        give_link(engine, second, "https://fatura.example.com/2.pdf", requested_at=datetime(2026, 10, 1, 10))

        kill_at_stop("invoice_links", sandbox, shop)
        assert send_links(sandbox, engine).sent == 1
        monkeypatch.setattr(invoices, "SETTLE", timedelta(0))
        later = send_links(sandbox, engine)

        assert (later.lost, later.sent) == (1, 0)
        assert [call["orderNumber"] for call in operations(sandbox, "SaveLinkSellerInvoice")] == [first, second]
        with engine.connect() as conn:
            results = dict(conn.execute(select(n11_order_invoices.c.order_number, n11_order_invoices.c.result)).all())
        assert results == {first: "unknown", second: "accepted"}
        assert set(sandbox.state.account(TEST_KEY).invoice_links) == {first, second}
        record("invoice link killed mid-call", links=2, sent_twice=0)
