"""``deferring_sensor``: a TaskFlow sensor that waits between pokes deferred on a timer in the triggerer.

``mode="reschedule"`` frees the worker slot too, but on CeleryExecutor a poke's late "success" event can reach the
scheduler after the task went back to *scheduled* for the next poke; the scheduler then takes the poke for a task
killed externally and fails the try (apache/airflow#71172: 6 of 20 products runs on a two-worker cluster). A deferred
task's late event is expected by the scheduler (it is how every deferrable operator resumes), so the same waits as a
trigger leave no such race. ``poke_interval``, ``exponential_backoff``, ``max_wait`` and
``timeout`` keep their meaning; ``dag.test()`` runs the timer in line.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from airflow.providers.standard.decorators.sensor import DecoratedSensorOperator
from airflow.sdk import PokeReturnValue
from airflow.sdk.bases.decorator import task_decorator_factory
from airflow.sdk.exceptions import AirflowSensorTimeout

DEFERRAL_GRACE = 60  # s a late timer is given beyond the sensor's own timeout


class DeferringSensorOperator(DecoratedSensorOperator):
    """Pokes the callable; until it is done, defers to a timer for the next poke instead of sleeping or rescheduling.

    The wait before the next poke is as long as the sensor has waited so far (at least ``poke_interval``, at most
    ``max_wait``; always ``poke_interval`` without ``exponential_backoff``): pokes after 5, 10, 20, 40 ... s. It
    is computed from the task's start, which a resumed task keeps, so nothing rides along the deferral.
    """

    custom_operator_name = "@deferring_sensor"

    def execute(self, context) -> Any:
        from airflow.providers.standard.triggers.temporal import TimeDeltaTrigger

        answer = self.poke(context)
        if answer:
            return answer.xcom_value if isinstance(answer, PokeReturnValue) else None
        waited = (datetime.now(UTC) - context["ti"].start_date).total_seconds()
        if waited > self.timeout:
            raise AirflowSensorTimeout(f"still not done after {waited:.0f} s (timeout {self.timeout:.0f} s)")
        wait = self.next_wait(waited)
        # A timer the triggerer never fires (no triggerer running) fails the task once the sensor's time is up, so
        # its failure callbacks run (the products run lock is released) instead of it staying deferred for good.
        self.defer(trigger=TimeDeltaTrigger(timedelta(seconds=wait)), method_name="poke_again",
                   timeout=timedelta(seconds=max(self.timeout - waited, wait) + DEFERRAL_GRACE))

    def poke_again(self, context, event: Any = None) -> Any:
        """Where the task resumes when the timer fires (``event`` is the timer's moment, unused)."""
        return self.execute(context)

    def next_wait(self, waited: float) -> float:
        wait = max(self.poke_interval, waited) if self.exponential_backoff else self.poke_interval
        if self.max_wait:
            wait = min(wait, self.max_wait.total_seconds())
        return max(0.0, min(wait, self.timeout - waited))


def deferring_sensor(**kwargs):
    """``@task.sensor`` with its waits deferred (``poke_interval``, ``exponential_backoff``, ``max_wait``,
    ``timeout`` as there; ``mode`` does not apply)."""
    return task_decorator_factory(decorated_operator_class=DeferringSensorOperator, multiple_outputs=False, **kwargs)
