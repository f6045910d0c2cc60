"""`make airflow`: ports from its variables, and Ctrl-C or SIGTERM stops every process it started, every time."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import psutil
import pytest

from devtools import local_airflow

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 240


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def alive(process: psutil.Process) -> bool:
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def instance_processes(home: Path, started: list[psutil.Process]) -> list[psutil.Process]:
    """The processes of this instance still alive: seen in its tree before the stop, in one of that tree's
    sessions, or carrying its Airflow home in their environment (processes that rename themselves, as
    Airflow's workers do, lose their environment from /proc; their session stays)."""
    sessions = {os.getsid(p.pid) for p in started if alive(p)} - {os.getsid(0)}
    found = {p.pid: p for p in started if alive(p)}
    for process in psutil.process_iter():
        try:
            if os.getsid(process.pid) in sessions or process.environ().get("N11_AIRFLOW_HOME") == str(home):
                found.setdefault(process.pid, process)
        except (OSError, psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return [p for p in found.values() if alive(p)]


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


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
