"""`make airflow`: ports from its variables, and `make soak` stops it five times in a row, by Ctrl-C and SIGTERM (in
`make test`, Ctrl-C stops the browser tests' instance, tests/ui/test_browser.py, and a SIGTERM small process trees,
tests/devtools/test_processes.py)."""

from __future__ import annotations

import signal

import pytest

from devtools import local_airflow
from tests.helpers.local_airflow import MakeAirflow, answers, free_port


def test_every_port_comes_from_its_variable_and_tasks_call_the_api_on_that_port(monkeypatch, tmp_path):
    ports = {name: str(free_port()) for name in local_airflow.PORTS}
    for name, value in ports.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(local_airflow, "HOME", tmp_path)
    env = local_airflow.ui_env()
    assert env["AIRFLOW__API__PORT"] == ports["AIRFLOW_PORT"]
    assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == f"http://localhost:{ports['AIRFLOW_PORT']}/execution/"
    assert env["AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT"] == ports["AIRFLOW_WORKER_LOG_PORT"]
    assert env["AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT"] == ports["AIRFLOW_TRIGGER_LOG_PORT"]
    assert local_airflow.port("N11_SANDBOX_PORT") == int(ports["N11_SANDBOX_PORT"])


def test_the_demo_store_starts_yesterday_in_its_registry_copy(monkeypatch, tmp_path):
    import pendulum
    import yaml

    monkeypatch.delenv("N11_STORES_FILE", raising=False)
    monkeypatch.setattr(local_airflow, "HOME", tmp_path)
    stores = yaml.safe_load(local_airflow.demo_registry().read_text(encoding="utf-8"))["stores"]
    demo = next(entry for entry in stores if entry["slug"] == "demo")
    assert str(demo["start_date"]) == pendulum.now("Europe/Istanbul").subtract(days=1).to_date_string()


@pytest.mark.soak
@pytest.mark.local_airflow
@pytest.mark.xdist_group("airflow_processes")
def test_ctrl_c_or_sigterm_stops_every_process_five_times_in_a_row(tmp_path):
    for attempt, sig in enumerate([signal.SIGTERM, signal.SIGINT] * 2 + [signal.SIGTERM]):
        airflow = MakeAirflow(tmp_path / f"attempt-{attempt}")
        airflow.home.parent.mkdir()
        try:
            airflow.start()
            survivors = airflow.stop(sig)
            assert len(airflow.started) > 10  # make, the program, standalone, scheduler, API server, workers ...
            assert survivors == [], f"attempt {attempt} ({sig.name}): {[p.cmdline() for p in survivors]}"
            assert not answers(airflow.health)
        finally:
            airflow.kill()
