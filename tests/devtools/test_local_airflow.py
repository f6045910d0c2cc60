"""`make airflow`: ports from its variables, and Ctrl-C or SIGTERM stops every process it started, every time."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import psutil
import pytest

from devtools import local_airflow
from tests.helpers.common import ROOT
from tests.helpers.local_airflow import START_TIMEOUT, answers, free_port, instance_processes


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


@pytest.mark.local_airflow
def test_ctrl_c_or_sigterm_stops_every_process_five_times_in_a_row(tmp_path):
    home = tmp_path / "airflow-home"
    env = {**os.environ, "N11_AIRFLOW_HOME": str(home), **{name: str(free_port()) for name in local_airflow.PORTS}}
    health = f"http://localhost:{env['AIRFLOW_PORT']}/api/v2/monitor/health"
    for attempt, sig in enumerate([signal.SIGTERM, signal.SIGINT] * 2 + [signal.SIGTERM]):
        with open(tmp_path / f"make-{attempt}.log", "w") as out:
            # As a script starting it in the background does: with SIGINT ignored, which the program inherits.
            make = subprocess.Popen(["make", "--no-print-directory", "airflow"], cwd=ROOT, env=env, stdout=out,
                                    stderr=subprocess.STDOUT, start_new_session=True,
                                    preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
        deadline = time.monotonic() + START_TIMEOUT
        while not answers(health):
            assert make.poll() is None, (tmp_path / f"make-{attempt}.log").read_text()
            assert time.monotonic() < deadline, f"attempt {attempt}: the API never answered"
            time.sleep(1)
        started = [psutil.Process(make.pid), *psutil.Process(make.pid).children(recursive=True)]
        assert len(started) > 10  # make, the program, standalone, scheduler, API server, workers ...
        os.killpg(make.pid, sig)  # what Ctrl-C (SIGINT) or a `kill` of the job does: the whole process group
        make.wait(timeout=local_airflow.STOP_GRACE_SECONDS + 60)
        survivors = instance_processes(home, started)
        assert survivors == [], f"attempt {attempt} ({sig.name}): {[p.cmdline() for p in survivors]}"
        assert not answers(health)
