"""The outcome of every store run, on the run itself: Airflow 3's run note, shown in the runs list and the grid.

A task says what the run did (``outcome.tell``): its counts, a skip's reason, "dry run: nothing sent", the
refused SKUs. Each line is an XCom of the task (key ``run_outcome``). When the run ends, the listener below
(registered by ``RunNotePlugin``; it runs in the scheduler, or in the ``dag.test()`` process) writes the lines,
in the order the tasks said them, into the run's note, with the tasks that failed. The Task SDK offers a task no
way to write the note, and the listener hooks are Airflow's supported place to act on a run's end.

A note a person wrote on the run (it has a user) is left as it is.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from airflow.listeners import hookimpl
from airflow.plugins_manager import AirflowPlugin

from include.tasks.outcome import OUTCOME_KEY

if TYPE_CHECKING:
    from airflow.models.dagrun import DagRun

DAG_PREFIX = "n11_"  # the store DAGs' ids (and the registry error DAGs')
NOTE_LENGTH = 1000  # Airflow's dag_run_note.content is a String(1000)


def compose(lines: list[str], failed: list[str]) -> str:
    """The note: each task's lines, then what failed; cut to what Airflow stores, saying so."""
    text = "\n".join(_item(line) for told in lines for line in told.splitlines() if line.strip())
    if failed:
        text += f"\n- **failed**: {', '.join(failed)} (see the task's log)"
    text = text.strip()
    if len(text) > NOTE_LENGTH:
        text = text[:NOTE_LENGTH - 30].rsplit("\n", 1)[0] + "\n- ... (the rest in the tasks' logs)"
    return text


def _item(line: str) -> str:
    """A Markdown list item; an indented line (a refused SKU under its summary) nested under the one before."""
    return f"  - {line.strip()}" if line.startswith(" ") else f"- {line}"


def write_note(dag_run: DagRun) -> None:
    """Set the finished run's note from its tasks' outcome lines, in the caller's session, which commits it."""
    from airflow import settings
    from airflow.models.dagrun import DagRun
    from airflow.models.xcom import XComModel
    from airflow.utils.state import TaskInstanceState
    from sqlalchemy import select
    from sqlalchemy.orm import object_session

    session = object_session(dag_run)
    if session is None:  # dag.test() hands over a detached copy; its session is the thread's scoped one
        session = settings.Session()
        dag_run = session.get(DagRun, dag_run.id)
    if dag_run.dag_run_note is not None and dag_run.dag_run_note.user_id is not None:
        return
    rows = session.scalars(select(XComModel).where(XComModel.dag_run_id == dag_run.id,
                                                   XComModel.key == OUTCOME_KEY).order_by(XComModel.timestamp))
    lines = [str(XComModel.deserialize_value(row)) for row in rows]
    failed = sorted(ti.task_id for ti in dag_run.get_task_instances(state=[TaskInstanceState.FAILED],
                                                                    session=session))
    if lines or (failed and dag_run.dag_id.startswith(DAG_PREFIX)):
        dag_run.note = compose(lines, failed)


@hookimpl
def on_dag_run_success(dag_run: DagRun, msg: str) -> None:
    write_note(dag_run)


@hookimpl
def on_dag_run_failed(dag_run: DagRun, msg: str) -> None:
    write_note(dag_run)


class RunNotePlugin(AirflowPlugin):
    """Registers this module's listener (entry point ``airflow.plugins``)."""

    name = "n11_run_notes"
    listeners = [sys.modules[__name__]]
