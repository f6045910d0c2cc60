"""What the local Airflows (`make airflow`, `make cluster`) share to run as one foreground program: free ports, and
Ctrl-C, SIGTERM or the parent's exit stopping every process they started, orphans included."""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterable

import psutil

STOP_GRACE_SECONDS = 20
_PR_SET_CHILD_SUBREAPER = 36


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def answers(url: str) -> bool:
    """Whether ``url`` answers 200 (a health check)."""
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def port(variable: str, default: int) -> int:
    """The port an environment variable names, else ``default``."""
    return int(os.environ.get(variable) or default)


def run_in_foreground() -> None:
    """Ctrl-C and SIGTERM both end in the caller's ``finally``, whatever runs at that moment (SIGINT is set
    explicitly: a shell script that starts us in the background leaves it ignored, and Python keeps that); orphaned
    descendants become our children, and the parent's exit stops us too."""
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    _become_subreaper()
    _stop_when_parent_gone()


def _become_subreaper() -> None:
    """Orphaned descendants (a scheduler's task processes whose parent died first) become our children,
    so stopping can still find them: on Linux; elsewhere the process tree at stop time is all we see."""
    if sys.platform == "linux":
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def _stop_when_parent_gone() -> None:
    """A SIGTERM to `make` alone does not reach us: stop too when our parent goes away."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, daemon=True).start()


def stop_all(groups: Iterable[subprocess.Popen]) -> None:
    """SIGTERM to each process group started (``start_new_session``) and every descendant of ours, then SIGKILL
    whatever is left after the grace: in those groups too, where a process orphaned by its parent (a LocalExecutor
    worker, which ignores SIGTERM) is no longer our descendant unless we are its subreaper."""
    groups = list(groups)
    me = psutil.Process()
    for process in groups:
        if process.poll() is None:
            _signal_group(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE_SECONDS
    while True:
        children = me.children(recursive=True)
        occupied = [process.pid for process in groups if _signal_group(process.pid, 0)]
        if not children and not occupied:
            break
        sig = signal.SIGKILL if time.monotonic() > deadline else signal.SIGTERM
        for child in children:
            with contextlib.suppress(psutil.NoSuchProcess):
                child.send_signal(sig)
        if sig == signal.SIGKILL:
            for pgid in occupied:
                _signal_group(pgid, sig)
        psutil.wait_procs(children, timeout=1)
        if not children:
            time.sleep(0.2)
    for process in groups:
        process.wait()


def _signal_group(pgid: int, sig: int) -> bool:
    """Send ``sig`` to a process group (0: only look); whether any process of it was there."""
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        return False
    return True
