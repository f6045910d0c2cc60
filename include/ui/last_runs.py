"""Each store DAG's last run as Airflow's metadata database holds it: state, when, its note and the counts its
tasks returned.

Read with Airflow's ORM models in the API server's own session, as Airflow's UI routes read them: two queries for
any number of DAGs (the latest run of each with its note, then their counts).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import quote

from airflow.models.dagrun import DagRun, DagRunNote
from airflow.models.xcom import XCOM_RETURN_KEY, XComModel
from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

# The tasks whose return values are a run's counts (include/tasks/orders.py, products.py).
COUNTING_TASKS = ("load_orders", "send_order_actions", "sync_returns", "collect_results")


@dataclass
class LastRun:
    dag_id: str
    run_id: str
    state: str
    run_after: datetime  # aware UTC
    note: str | None = None
    counts: dict[str, dict[str, Any]] = field(default_factory=dict)  # task id -> its returned counts

    @property
    def url(self) -> str:
        """The run's page in Airflow's UI (relative to its base URL)."""
        return f"dags/{quote(self.dag_id, safe='')}/runs/{quote(self.run_id, safe='')}"


def last_runs(session: Session, dag_ids: Iterable[str]) -> dict[str, LastRun]:
    """The latest run (by ``run_after``, as the UI orders runs) of each of ``dag_ids`` that has one."""
    dag_ids = sorted(set(dag_ids))
    if not dag_ids:
        return {}
    latest = (select(DagRun.dag_id, func.max(DagRun.run_after).label("run_after"))
              .where(DagRun.dag_id.in_(dag_ids)).group_by(DagRun.dag_id).subquery())
    rows = session.execute(
        select(DagRun.id, DagRun.dag_id, DagRun.run_id, DagRun.state, DagRun.run_after, DagRunNote.content)
        .join(latest, and_(DagRun.dag_id == latest.c.dag_id, DagRun.run_after == latest.c.run_after))
        .outerjoin(DagRunNote, DagRunNote.dag_run_id == DagRun.id)
        .order_by(DagRun.id))
    found: dict[str, tuple[int, LastRun]] = {}
    for row in rows:  # by id: of two runs of a DAG at the same run_after, the later created wins
        found[row.dag_id] = (row.id, LastRun(row.dag_id, row.run_id, str(row.state), row.run_after, row.content))
    by_pk = dict(found.values())
    for xcom in session.scalars(select(XComModel).where(
            XComModel.dag_run_id.in_(by_pk), XComModel.task_id.in_(COUNTING_TASKS),
            XComModel.key == XCOM_RETURN_KEY, XComModel.map_index == -1)):
        value = XComModel.deserialize_value(xcom)
        if isinstance(value, dict):
            by_pk[xcom.dag_run_id].counts[xcom.task_id] = value
    return {dag_id: run for dag_id, (_, run) in found.items()}
