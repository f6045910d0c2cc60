"""Run options and the run's summary."""

from __future__ import annotations

from decimal import Decimal

import pytest

from include.clock import utcnow
from include.products import results
from include.products.run import LISTED_ERRORS, RunOptions, run_report


@pytest.mark.parametrize(("conf", "options"), [
    (None, RunOptions()),
    ({}, RunOptions()),
    ({"dry_run": True}, RunOptions(dry_run=True)),
    ({"full_resync": True, "dry_run": False}, RunOptions(full_resync=True)),
])
def test_run_options_come_from_the_runs_conf(conf, options):
    assert RunOptions.from_conf(conf) == options


@pytest.mark.parametrize(("conf", "message"), [
    ({"dry_run": "yes"}, "run option 'dry_run' must be true or false, got 'yes'"),
    ({"full_resync": 1}, "run option 'full_resync' must be true or false, got 1"),
    ({"dryrun": True}, "unknown run option(s) 'dryrun'; known: full_resync, dry_run"),
])
def test_a_bad_run_option_is_refused_naming_the_key(conf, message):
    with pytest.raises(ValueError) as refused:
        RunOptions.from_conf(conf)
    assert str(refused.value) == message


def test_the_summary_is_one_line_then_the_failed_skus_capped(quick_harness):
    harness = quick_harness
    broken = harness.plain(LISTED_ERRORS + 5)
    for code in broken:
        harness.change(code, sale_price=harness.n11(code)["listPrice"] + Decimal("1.00"))

    lines = harness.sync("price")

    assert lines[0].startswith("store 'shop1' products (price): linked 60, unlinked 0, not updatable 7; "
                               f"changed price 0; local errors {len(broken)}, held back 0; calls price-stock-update 0,"
                               " product-update 0; succeeded 0, failed 0, rejected 0")
    assert len(lines) == 1 + LISTED_ERRORS + 1
    assert lines[1].startswith(f"  {broken[0]} [price] local: sale_price ")
    assert lines[-1] == f"  ... and 5 more (table n11_product_sync_errors, run {harness.run_id})"


def test_a_finished_run_can_be_reported_from_the_shop_database(quick_harness):
    """What make demo prints: the pushed SKUs per group and N11's refusals, without the run's XComs."""
    harness = quick_harness
    catalogue, plain = harness.catalogue(), harness.plain()[0]
    harness.change(catalogue, description="<p>Yeni</p>")
    harness.change(plain, quantity=harness.n11(plain)["quantity"] + 1)
    since = utcnow()

    harness.sync("all")

    with harness.engine.connect() as conn:
        assert results.last_run(conn, "shop1", since) == harness.run_id
    lines = run_report(harness.engine, harness.store(), harness.run_id)
    assert lines[0] == (f"products run {harness.run_id}: pushed stock 1, price 0, info 0, content 1 SKU(s); calls "
                        "price-stock-update 1, product-update 1; succeeded 1, failed 1, rejected 0")
    assert lines[1].startswith(f"  {catalogue} [content] fail (N11 task ")
    again = utcnow()
    harness.sync("all")  # nothing changed since: nothing to report
    with harness.engine.connect() as conn:
        assert results.last_run(conn, "shop1", again) is None
