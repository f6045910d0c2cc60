"""How `make airflow`, `make cluster` and the benchmarks stop what they started (devtools/processes.py), on small
process trees: a SIGTERM to the program's process group leaves no process behind, and a stop reaches a process
orphaned by its parent that ignores SIGTERM, as a LocalExecutor worker does. `make airflow` itself is stopped by
Ctrl-C after the browser tests (tests/ui) and by both signals five times in a row in `make soak`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator

import psutil
import pytest

from tests.helpers.common import ROOT

# A child in its own session that starts a grandchild ignoring SIGTERM, waits until it does, and exits: the grandchild
# is an orphan of the started process group.
ORPHANING_CHILD = '''
import os, subprocess, sys, time
subprocess.Popen([sys.executable, "-c", "import pathlib, signal, sys, time; signal.signal(signal.SIGTERM, "
                  "signal.SIG_IGN); pathlib.Path(sys.argv[2]).touch(); time.sleep(600)", *sys.argv[1:]])
while not os.path.exists(sys.argv[2]):
    time.sleep(0.05)
'''
PROGRAM = '''
import subprocess, sys, time
from devtools import processes
processes.STOP_GRACE_SECONDS = 1
if sys.argv[3] == "foreground":
    processes.run_in_foreground()
group = subprocess.Popen([sys.executable, "-c", {child!r}, *sys.argv[1:3]], start_new_session=True)
try:
    group.wait() if sys.argv[3] == "direct" else time.sleep(600)
finally:
    processes.stop_all([group])
'''


def marked(mark: str) -> list[psutil.Process]:
    """The live processes carrying ``mark`` on their command line."""
    found = []
    for process in psutil.process_iter(["cmdline", "status"]):
        if mark in (process.info["cmdline"] or []) and process.info["status"] != psutil.STATUS_ZOMBIE:
            found.append(process)
    return found


@pytest.fixture
def start(tmp_path) -> Iterator[Callable[[str], tuple[subprocess.Popen, str]]]:
    """Starts the program and returns it once its orphan ignores SIGTERM; whatever a failed test leaves of it is
    killed after the test."""
    mark = f"n11-test-{uuid.uuid4().hex}"

    def started(mode: str) -> tuple[subprocess.Popen, str]:
        ready = tmp_path / "ready"
        command = [sys.executable, "-c", PROGRAM.format(child=ORPHANING_CHILD), mark, str(ready), mode]
        program = subprocess.Popen(command, cwd=ROOT, start_new_session=True,
                                   env={**os.environ, "PYTHONPATH": str(ROOT)})
        deadline = time.monotonic() + 30
        while not ready.exists():
            assert time.monotonic() < deadline, "the process tree did not start"
            time.sleep(0.05)
        return program, mark

    yield started
    for process in marked(mark):
        process.kill()


def test_a_sigterm_to_the_programs_group_stops_it_and_every_process_it_started(start):
    program, mark = start("foreground")
    os.killpg(program.pid, signal.SIGTERM)
    program.wait(timeout=30)
    assert marked(mark) == []


def test_a_stop_reaches_an_orphan_ignoring_sigterm_in_a_started_group_without_a_subreaper(start):
    program, mark = start("direct")
    assert program.wait(timeout=30) == 0
    assert marked(mark) == []
