"""Failure alerts of a store through Airflow's notifier interface: e-mail (Airflow's SMTP), Slack when installed.

The store's registry setting ``notify`` says where: ``{"email": ["ops@shop.example"], "slack_conn_id": "slack"}``
(and ``slack_channel``, else the Slack notifier's default channel).
Every task of the store's DAGs gets a ``StoreFailureNotifier`` as its ``on_failure_callback`` (it runs in the
worker after the last try failed). A refused credential is one problem whichever task met it; any other failure
is the problem of its DAG and task. Each is announced at most once per store and problem per hour
(``include.notifications``); a failure to announce is logged, never raised over the task's own failure.
"""

from __future__ import annotations

import html
import logging

from airflow.sdk import BaseNotifier

from include.clock import utcnow

log = logging.getLogger(__name__)

CREDENTIALS = "credentials"


def channels(notify: dict, subject: str, message: str) -> list[BaseNotifier]:
    """The notifiers of a store's ``notify`` setting; Slack only where its provider is installed."""
    found: list[BaseNotifier] = []
    if notify.get("email"):
        from airflow.providers.smtp.notifications.smtp import SmtpNotifier

        found.append(SmtpNotifier(to=notify["email"], subject=subject, html_content=html.escape(message)))
    if notify.get("slack_conn_id"):
        try:
            from airflow.providers.slack.notifications.slack import SlackNotifier
        except ImportError:
            log.warning("notify.slack_conn_id is set but apache-airflow-providers-slack is not installed")
        else:
            channel = {"channel": notify["slack_channel"]} if notify.get("slack_channel") else {}
            found.append(SlackNotifier(slack_conn_id=notify["slack_conn_id"], text=message, **channel))
    return found


def problem_of(context) -> str:
    from include.tasks.store_run import CredentialsRefused  # here, not at the top: the DAG file imports this module

    exception = context.get("exception")
    if isinstance(exception, CredentialsRefused):
        return CREDENTIALS
    ti = context["ti"]
    return f"{ti.dag_id}.{ti.task_id}"


class StoreFailureNotifier(BaseNotifier):
    """Announces a failed task of one store on the store's channels, at most once per problem per hour."""

    def __init__(self, slug: str, notify: dict, shop_conn_id: str) -> None:
        super().__init__()
        self.slug, self.notify_to, self.shop_conn_id = slug, notify, shop_conn_id

    def notify(self, context) -> None:
        from include import notifications  # here, not at the top: the DAG file imports this module at parse
        from include.tasks.store_run import shop_engine

        ti = context["ti"]
        problem = problem_of(context)
        subject = f"n11-airflow: store {self.slug!r}: {ti.dag_id}.{ti.task_id} failed"
        message = f"{subject}: {context.get('exception')} (log: {getattr(ti, 'log_url', '-')})"
        try:
            fresh = notifications.claim(shop_engine(self.shop_conn_id), self.slug, problem, utcnow())
        except Exception as exc:  # the shop database may be the problem: announce without the memory
            log.warning("store %r: cannot record the alert in the shop database (%s); sending it anyway",
                        self.slug, exc)
            fresh = True
        if not fresh:
            log.info("store %r: problem %r was announced within the hour; not again", self.slug, problem)
            return
        announced = []
        for channel in channels(self.notify_to, subject, message):
            try:  # notify(), not the call: the call renders the text as a Jinja template, and a failure's text
                channel.notify(context)  # may hold "{{ ... }}" (from N11 or a shop row) that would read secrets
                announced.append(type(channel).__name__)
            except Exception as exc:
                log.warning("store %r: alert through %s failed: %s", self.slug, type(channel).__name__, exc)
        log.info("store %r: problem %r announced through %s", self.slug, problem, announced or "no channel")
