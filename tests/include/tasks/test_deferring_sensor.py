"""The deferring sensor's waits: each timer is as long as the sensor has waited so far, and a deferral ends with the
sensor's own time limit (plus a grace minute), so a timer the triggerer never fires fails the task instead of
leaving it deferred for good."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from airflow.sdk.exceptions import TaskDeferred

from include.tasks.deferring_sensor import DEFERRAL_GRACE, DeferringSensorOperator


def sensor(**kwargs) -> DeferringSensorOperator:
    return DeferringSensorOperator(task_id="wait", python_callable=lambda: False, poke_interval=5,
                                   exponential_backoff=True, timeout=7200, **kwargs)


def deferral(waited: float) -> TaskDeferred:
    context = {"ti": SimpleNamespace(start_date=datetime.now(UTC) - timedelta(seconds=waited))}
    with pytest.raises(TaskDeferred) as deferred:
        sensor().execute(context)
    return deferred.value


@pytest.mark.parametrize("waited", [0, 600, 7000])
def test_each_deferral_ends_when_the_sensors_time_is_up_plus_a_grace_minute(waited):
    deferred = deferral(waited)
    assert abs(deferred.timeout.total_seconds() - DEFERRAL_GRACE - (7200 - waited)) < 1


def timer(waited: float) -> float:
    """The seconds until the deferral's timer fires."""
    return (deferral(waited).trigger.moment - datetime.now(UTC)).total_seconds()


def test_the_timer_waits_as_long_as_the_sensor_has_waited_so_far():
    assert abs(timer(0) - 5) < 1 and abs(timer(600) - 600) < 1
