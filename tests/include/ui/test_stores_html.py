"""The counts a store's last run shows on the stores page: each part that did something, with every count a person
needs to act on (a send refused before it went, an outcome N11 left unknown); a part of nothing but zeros left out."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from include.ui.last_runs import LastRun
from include.ui.stores_html import _run

ISTANBUL = ZoneInfo("Europe/Istanbul")
IDLE = {"refused": 0, "sent": 0, "accepted": 0, "failed": 0, "unknown": 0}


def shown(counts: dict) -> str:
    run = LastRun("n11_shop1_orders", "scheduled__x", "success", datetime(2026, 12, 7, 6, tzinfo=UTC), counts=counts)
    return _run(run, ISTANBUL, "/")


def test_a_run_whose_only_approval_was_refused_says_so():
    page = shown({"send_order_actions": {"approvals": {**IDLE, "refused": 1}, "cancels": IDLE, "invoices": IDLE}})
    assert "<li>approvals: sent 0, accepted 0, failed 0, outcome unknown 0, refused without sending 1</li>" in page
    assert "cancels" not in page and "invoice links" not in page


def test_an_invoice_link_with_an_unknown_outcome_and_the_returns_parts_are_shown():
    page = shown({"send_order_actions": {"approvals": IDLE, "cancels": IDLE, "invoices": {**IDLE, "sent": 1,
                                                                                             "unknown": 1}},
                  "sync_returns": {"claims": {"new": 2, "updated": 0, "open": 1, "unmatched": 0},
                                   "decisions": {**IDLE, "sent": 1, "accepted": 1}}})
    assert "invoice links: sent 1, accepted 0, failed 0, outcome unknown 1, refused without sending 0" in page
    assert "return claims: new 2, updated 0, open 1, without their order line 0" in page
    assert "return decisions: sent 1, accepted 1" in page and "approvals" not in page
