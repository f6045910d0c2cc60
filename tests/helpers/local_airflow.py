"""`make airflow` as a test starts it: on free ports in its own home, in the background (SIGINT ignored, as a
script starting it with ``&`` leaves it), its own session; stopped by a signal to its process group, as Ctrl-C or
a ``kill`` of the job does, after which no process of the instance may be left."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from pathlib import Path

import psutil

from devtools.processes import STOP_GRACE_SECONDS, answers, free_port  # noqa: F401 (answers: the tests' import)
from tests.helpers.common import ROOT

START_TIMEOUT = 240


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


class MakeAirflow:
    """One `make airflow` in ``folder``: ``start`` returns once its API answers, ``stop`` signals its process
    group and returns the processes of the instance still alive afterwards (none, when it stops as it should)."""

    def __init__(self, folder: Path, name: str = "make") -> None:
        from devtools import local_airflow

        self.home, self.log = folder / "airflow-home", folder / f"{name}.log"
        self.env = {**os.environ, "N11_AIRFLOW_HOME": str(self.home),
                    **{variable: str(free_port()) for variable in local_airflow.PORTS}}
        self.env.pop("N11_STORES_FILE", None)  # the demo's registry
        self.base = f"http://localhost:{self.env['AIRFLOW_PORT']}"
        self.health = f"{self.base}/api/v2/monitor/health"
        self.make: subprocess.Popen | None = None
        self.started: list[psutil.Process] = []

    def start(self) -> MakeAirflow:
        with open(self.log, "w") as out:
            self.make = subprocess.Popen(["make", "--no-print-directory", "airflow"], cwd=ROOT, env=self.env,
                                         stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
                                         preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
        deadline = time.monotonic() + START_TIMEOUT
        while not answers(self.health):
            assert self.make.poll() is None, self.log.read_text()
            assert time.monotonic() < deadline, f"`make airflow` did not answer within {START_TIMEOUT} s"
            time.sleep(1)
        return self

    def running(self) -> bool:
        return self.make is not None and self.make.poll() is None

    def stop(self, sig: signal.Signals = signal.SIGTERM) -> list[psutil.Process]:
        """What Ctrl-C (SIGINT) or a `kill` of the job (SIGTERM) does: the signal to the whole process group."""
        self.started = [psutil.Process(self.make.pid), *psutil.Process(self.make.pid).children(recursive=True)]
        os.killpg(self.make.pid, sig)
        self.make.wait(timeout=STOP_GRACE_SECONDS + 60)
        return instance_processes(self.home, self.started)

    def kill(self) -> None:
        """After a failed test: whatever is left of the instance goes."""
        if self.make is None:
            return
        with_children = [psutil.Process(self.make.pid), *psutil.Process(self.make.pid).children(recursive=True)] \
            if self.running() else []
        for process in instance_processes(self.home, with_children or self.started):
            with contextlib.suppress(psutil.NoSuchProcess):
                process.kill()
