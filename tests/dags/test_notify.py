"""Failure alerts through Airflow's notifier interface, run through Airflow (dag.test()) with a recording notifier."""

from __future__ import annotations

import pytest
from airflow.sdk import BaseNotifier

from include.tasks import notify
from tests.conftest import TEST_SECRET
from tests.dags.conftest import run_dag

pytestmark = pytest.mark.dags
NOTIFY = {"email": ["ops@shop.example"]}


class Recording(BaseNotifier):
    def __init__(self, sent: list, subject: str, message: str) -> None:
        super().__init__()
        self.sent, self.subject, self.message = sent, subject, message

    def notify(self, context) -> None:
        self.sent.append(self.message)


@pytest.fixture
def sent(monkeypatch) -> list[str]:
    """What the store's channels were asked to send (instead of SMTP or Slack)."""
    messages: list[str] = []
    monkeypatch.setattr(notify, "channels", lambda to, subject, message: [Recording(messages, subject, message)])
    return messages


def test_a_refused_credential_alerts_once_per_hour_naming_the_store_and_connection(store_env, sent, capfd):
    store_env(secret="wrong-secret-value", notify=NOTIFY)
    assert run_dag("n11_shop1_orders")["check_credentials"] == "failed"
    assert run_dag("n11_shop1_products")["check_credentials"] == "failed"  # the same problem: no second alert
    assert len(sent) == 1
    assert "store 'shop1'" in sent[0] and "connection 'n11_shop1'" in sent[0]
    assert "wrong-secret-value" not in sent[0]


def test_another_problem_of_the_store_alerts_on_its_own(store_env, sent):
    store_env(secret="wrong-secret-value", notify=NOTIFY)
    run_dag("n11_shop1_orders")
    store_env(secret=TEST_SECRET, notify=NOTIFY, variable='{"update_type": "everything"}')
    assert run_dag("n11_shop1_orders")["gate"] == "failed"
    assert len(sent) == 2 and "n11_shop1_orders.gate failed" in sent[1]


def test_a_store_without_notify_sends_nothing(store_env, sent):
    store_env(secret="wrong-secret-value")
    assert run_dag("n11_shop1_orders")["check_credentials"] == "failed"
    assert sent == []
