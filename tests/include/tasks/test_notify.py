"""The channels of a store's ``notify`` setting: Airflow's SMTP notifier; Slack only where it is installed. A
failure's text is sent as it is, never rendered as a template."""

from __future__ import annotations

import html
import importlib.util
from types import SimpleNamespace

from airflow.providers.smtp.notifications.smtp import SmtpNotifier

from include.tasks import notify
from include.tasks.notify import StoreFailureNotifier, channels


def test_email_goes_through_airflows_smtp_notifier():
    [email] = channels({"email": ["ops@shop.example"]}, "subject", "message")
    assert isinstance(email, SmtpNotifier)
    assert email.to == ["ops@shop.example"] and email.subject == "subject"


def test_slack_is_used_only_where_its_provider_is_installed(caplog):
    found = channels({"slack_conn_id": "slack_alerts"}, "subject", "message")
    if importlib.util.find_spec("airflow.providers.slack") is None:
        assert found == [] and "apache-airflow-providers-slack is not installed" in caplog.text
    else:
        assert [type(c).__name__ for c in found] == ["SlackNotifier"]


def test_no_setting_no_channel():
    assert channels({}, "subject", "message") == []


def test_a_failures_text_is_sent_as_it_is_never_rendered_as_a_template(monkeypatch):
    sent: list[str] = []

    class Recorded(SmtpNotifier):
        def notify(self, context) -> None:
            sent.append(self.html_content)

    monkeypatch.setattr(notify, "channels", lambda to, subject, message: [
        Recorded(to=to["email"], subject=subject, html_content=html.escape(message))])
    failure = ValueError("SKU <A&B> {{ 6*7 }} {{ conn.n11_shop1.password }}")
    ti = SimpleNamespace(dag_id="n11_shop1_products", task_id="push_batches", log_url="-")
    StoreFailureNotifier("shop1", {"email": ["ops@shop.example"]}, "no_such_connection").notify(
        {"ti": ti, "exception": failure})
    assert len(sent) == 1 and html.escape(str(failure)) in sent[0]


def test_an_email_alert_is_escaped_html():
    [email] = channels({"email": ["ops@shop.example"]}, "subject", "SKU <A&B>")
    assert email.html_content == "SKU &lt;A&amp;B&gt;"
