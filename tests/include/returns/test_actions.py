"""The shop's return decisions against the sandbox over real HTTP, on SQLite, PostgreSQL and MariaDB: each sent once,
N11's answer recorded, bad rows and unknown deny reasons refused before sending, N11's reasons cached, lost answers
settled by the claim's status on N11 and never sent blind, and no buyer's data in the log or the summary."""

from __future__ import annotations

import dataclasses
import logging
from datetime import timedelta

import pytest
from sqlalchemy import Engine, update

from devtools.sandbox import FaultConfig, N11Sandbox
from devtools.sandbox import claims as sandbox_claims
from include.clock import utcnow
from include.returns import actions
from include.tables import n11_return_actions, n11_return_deny_reasons
from n11.errors import N11AuthError
from n11.soap import N11SoapClient
from tests.helpers.common import TEST_KEY
from tests.helpers.orders import FAST, MONTH_END, STORE
from tests.helpers.returns import ask, claims_of, decide, load, load_month, operations, personal_values, rows


@pytest.fixture
def loaded(n11: N11Sandbox, shop: Engine) -> Engine:
    """The shop after the month's orders and claims were loaded; the sandbox's log starts after."""
    load_month(n11, shop)
    n11.clear_log()
    return shop


def open_claims(n11: N11Sandbox) -> list[str]:
    return [claim["claimReturnId"] for claim in claims_of(n11.state.account(TEST_KEY), *sandbox_claims.OPEN)]


def decisions(shop: Engine) -> dict:
    return rows(shop, n11_return_actions)


def sent(n11: N11Sandbox) -> list[tuple[str, str]]:
    return [(call["operation"], call["claimReturnId"]) for name in ("ClaimReturnApprove", "ClaimReturnDeny")
            for call in operations(n11, name)]


def test_an_approval_and_a_denial_are_sent_once_and_n11s_answers_recorded(n11, loaded):
    approve_id, deny_id = open_claims(n11)[:2]
    ask(loaded, approve_id, "approve")
    ask(loaded, deny_id, "deny", deny_reason_id="2", note="Aksesuarı eksik gönderildi")

    summary = decide(n11, loaded)
    again = decide(n11, loaded)

    assert (summary.sent, summary.accepted, again.sent) == (2, 2, 0) and again.idle_reason() is not None
    assert sorted(sent(n11)) == [("ClaimReturnApprove", approve_id), ("ClaimReturnDeny", deny_id)]
    (deny_call,) = operations(n11, "ClaimReturnDeny")
    assert (deny_call["denyReasonId"], deny_call["denyReasonNote"]) == ("2", "Aksesuarı eksik gönderildi")
    account = n11.state.account(TEST_KEY)
    assert (account.claims[approve_id]["status"], account.claims[deny_id]["status"]) == ("APPROVED", "DENIED")
    found = decisions(loaded)
    assert {key: row["result"] for key, row in found.items()} == {(approve_id, "approve"): "accepted",
                                                                   (deny_id, "deny"): "accepted"}
    assert all(row["sent_at"] and row["answered_at"] and row["requested_at"] for row in found.values())


def test_the_next_load_shows_the_decisions_n11_took(n11, loaded):
    claim = open_claims(n11)[0]
    ask(loaded, claim, "approve")
    decide(n11, loaded)
    later = MONTH_END + timedelta(days=3)
    load(n11, loaded, later, later + timedelta(minutes=15))
    assert rows(loaded)[claim]["status"] == "APPROVED"


def test_rows_that_must_not_be_sent_are_refused_with_their_reason(n11, loaded):
    first, second, third = open_claims(n11)[:3]
    final = claims_of(n11.state.account(TEST_KEY), "CANCELLED")[0]["claimReturnId"]
    ask(loaded, first, "refund")
    ask(loaded, final, "approve")
    ask(loaded, second, "deny")
    ask(loaded, third, "approve")
    ask(loaded, third, "deny", deny_reason_id="1", requested_at=utcnow() + timedelta(seconds=1))

    summary = decide(n11, loaded)

    reasons = {key: (row["result"], row["reason"]) for key, row in decisions(loaded).items()}
    assert reasons[(first, "refund")] == ("refused", "unknown action 'refund': the actions are 'approve' and 'deny'")
    assert reasons[(final, "approve")] == ("refused", "N11 shows the claim CANCELLED (as last loaded): it can no "
                                                      "longer be approved")
    assert reasons[(second, "deny")][1].startswith("a deny needs deny_reason_id")
    assert reasons[(third, "approve")][0] == "accepted"
    assert reasons[(third, "deny")] == ("refused", "the claim has a 'approve' row already (waiting, being sent or "
                                                   "taken): one decision per claim")
    assert sent(n11) == [("ClaimReturnApprove", third)] and summary.refused == 4


def test_a_claim_of_no_loaded_claim_or_of_another_store_is_refused(n11, loaded):
    claim = open_claims(n11)[0]
    ask(loaded, "42", "approve")
    ask(loaded, claim, "approve", store="other")
    decide(n11, loaded)
    decide(n11, loaded, dataclasses.replace(STORE, slug="other"))
    assert decisions(loaded)["42", "approve"]["reason"] == "no return claim 42 of store 'shop1' in n11_returns"
    assert rows(loaded, n11_return_actions, store="other")[claim, "approve"]["reason"] == \
        "the return claim belongs to store 'shop1', not 'other'"
    assert sent(n11) == []


def test_an_unknown_deny_reason_is_refused_before_sending_after_one_refresh_of_n11s_list(n11, loaded):
    first, second = open_claims(n11)[:2]
    ask(loaded, first, "deny", deny_reason_id="4")
    decide(n11, loaded)
    assert len(operations(n11, "ClaimReturnDenyReasonTypes")) == 1

    ask(loaded, second, "deny", deny_reason_id="77")
    summary = decide(n11, loaded)
    assert summary.refused == 1 and summary.sent == 0
    assert decisions(loaded)[second, "deny"]["reason"].startswith("deny_reason_id '77' is not one of N11's deny "
                                                                  "reasons (1, 2, 3, 4, 5, 6;")
    assert len(operations(n11, "ClaimReturnDenyReasonTypes")) == 2  # the cache lacked it: asked N11 once more
    assert sent(n11) == [("ClaimReturnDeny", first)]


def test_deny_reasons_are_asked_only_when_a_deny_waits_and_the_copy_is_a_day_old(n11, loaded):
    claims = open_claims(n11)
    ask(loaded, claims[0], "approve")
    decide(n11, loaded)
    assert operations(n11, "ClaimReturnDenyReasonTypes") == []
    ask(loaded, claims[1], "deny", deny_reason_id="1")
    decide(n11, loaded)
    ask(loaded, claims[2], "deny", deny_reason_id="2")
    decide(n11, loaded)
    assert len(operations(n11, "ClaimReturnDenyReasonTypes")) == 1
    with loaded.begin() as conn:
        conn.execute(update(n11_return_deny_reasons).values(refreshed_at=utcnow() - timedelta(days=2)))
    ask(loaded, claims[3], "deny", deny_reason_id="3")
    decide(n11, loaded)
    assert len(operations(n11, "ClaimReturnDenyReasonTypes")) == 2


def test_a_claim_n11_already_shows_decided_as_asked_is_accepted_without_sending(n11, loaded):
    approved = claims_of(n11.state.account(TEST_KEY), "APPROVED")[0]["claimReturnId"]
    ask(loaded, approved, "approve")
    assert decide(n11, loaded).reached == 1
    assert decisions(loaded)[approved, "approve"]["result"] == "accepted" and sent(n11) == []


def test_n11_refusing_a_decision_records_its_reason_and_never_sends_it_again(n11, loaded):
    claim = open_claims(n11)[0]
    ask(loaded, claim, "approve")
    sandbox_claims.move(n11.state.account(TEST_KEY).claims[claim], "CANCELLED", sandbox_claims.today())
    summary = decide(n11, loaded)
    decide(n11, loaded)
    row = decisions(loaded)[claim, "approve"]
    assert (summary.failed, row["result"]) == (1, "failed")
    assert row["reason"] == "claimReturn.status.invalid: İade talebi CANCELLED durumunda, onaylanamaz."
    assert len(sent(n11)) == 1


def test_a_lost_answer_is_settled_by_the_claims_status_on_n11_never_by_sending_again(n11, loaded, monkeypatch):
    claim = open_claims(n11)[0]
    ask(loaded, claim, "approve")
    n11.faults = FaultConfig(rate=1.0, kinds=("502",), paths=("/ws/",))  # N11 took it, the gateway lost the answer
    assert decide(n11, loaded).unknown == 1
    n11.faults = FaultConfig()
    assert decide(n11, loaded).settled == 0  # too early to tell: waits
    monkeypatch.setattr(actions, "SETTLE", timedelta(0))

    settled = decide(n11, loaded)

    assert (settled.settled, settled.resent, len(sent(n11))) == (1, 0, 1)
    row = decisions(loaded)[claim, "approve"]
    assert row["result"] == "accepted" and "N11 later showed the claim APPROVED" in row["reason"]
    assert rows(loaded)[claim]["status"] == "APPROVED"  # the look-up loaded the claim


def test_a_send_n11_did_not_take_is_sent_again_once_n11_shows_the_claim_still_open(n11, loaded, monkeypatch):
    claim = open_claims(n11)[0]
    ask(loaded, claim, "approve")
    n11.faults = FaultConfig(rate=1.0, kinds=("reset",), paths=("/ws/",))  # cut before N11 did anything
    assert decide(n11, loaded).unknown == 1
    n11.faults = FaultConfig()
    monkeypatch.setattr(actions, "SETTLE", timedelta(0))

    settled = decide(n11, loaded)

    assert (settled.settled, settled.resent, settled.sent, settled.accepted) == (1, 1, 1, 1)
    assert len(sent(n11)) == 2 and n11.state.account(TEST_KEY).claims[claim]["status"] == "APPROVED"


def test_refused_credentials_leave_the_decision_waiting(n11, loaded):
    claim = open_claims(n11)[0]
    ask(loaded, claim, "approve")
    soap = N11SoapClient.connect(TEST_KEY, "wrong-secret", n11.url, FAST)
    with pytest.raises(N11AuthError):
        actions.send_return_actions(loaded, soap, STORE)
    row = decisions(loaded)[claim, "approve"]
    assert (row["sent_at"], row["attempt_id"], row["result"]) == (None, None, None)
    assert decide(n11, loaded).accepted == 1


def test_no_buyers_data_in_the_log_or_the_summary(n11, loaded, caplog):
    caplog.set_level(logging.DEBUG)
    claims = open_claims(n11)
    ask(loaded, claims[0], "approve")
    ask(loaded, claims[1], "deny", deny_reason_id="9")
    ask(loaded, claims[2], "approve")
    sandbox_claims.move(n11.state.account(TEST_KEY).claims[claims[2]], "CANCELLED", sandbox_claims.today())
    summary = decide(n11, loaded)
    assert (summary.accepted, summary.refused, summary.failed) == (1, 1, 1)
    texts = caplog.text + summary.log_line() + str(summary.counts())
    assert [value for value in personal_values(n11.state.account(TEST_KEY)) if value in texts] == []
