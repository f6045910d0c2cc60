"""The channels of a store's ``notify`` setting: Airflow's SMTP notifier; Slack only where it is installed."""

from __future__ import annotations

import importlib.util

from airflow.providers.smtp.notifications.smtp import SmtpNotifier

from include.tasks.notify import channels


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
