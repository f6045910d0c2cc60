"""What a store run did, told by its tasks for the run's note (written when the run ends: ``run_note.py``)."""

from __future__ import annotations

from airflow.sdk import get_current_context

OUTCOME_KEY = "run_outcome"


def tell(text: str) -> None:
    """Put ``text`` on the run's note: counts, a skip's reason, a refusal, "dry run", the refused SKUs.

    It is an XCom of the task (key ``run_outcome``), so a retried task's last word is the one kept. Called outside
    a task run (a task body called directly, as the tests do), there is no run to note, and nothing happens.
    """
    try:
        context = get_current_context()
    except RuntimeError:
        return
    context["ti"].xcom_push(OUTCOME_KEY, text)


def counted(label: str, counts: dict[str, int]) -> str:
    """A short line for the note: the label and the counts that are not zero ("cancels: sent 1, accepted 1"). The
    task's log keeps the whole line; Airflow keeps 1000 characters of a note."""
    shown = ", ".join(f"{key.replace('_', ' ')} {value}" for key, value in counts.items() if value)
    return f"{label}: {shown or 'nothing'}"
