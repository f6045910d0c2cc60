"""Helpers of the reliability suite: Airflow-like task retries, retry bounds read from the sandbox log, figures.

Each test records what it measured with ``record``; the figures are printed at the end of the session and
written to ``$AIRFLOW_HOME/reliability-figures.json`` (docs/RELIABILITY.md quotes them).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from itertools import groupby
from pathlib import Path
from typing import TypeVar

from devtools.sandbox.server import RequestRecord
from n11.client import ClientSettings

T = TypeVar("T")
FIGURES: dict[str, dict] = {}

# Fast retries, and a read timeout that a "slow" fault (SLOW_SECONDS) overruns.
FAULTY = ClientSettings(requests_per_minute=600_000, connect_timeout=1.0, read_timeout=0.1, max_attempts=4,
                        max_retry_seconds=3.0, backoff_seconds=0.001, backoff_max_seconds=0.004)
SLOW_SECONDS = 0.15
TASK_RETRIES = 5  # what a DAG task gets from Airflow (3 in dags/n11_stores.py; more here to bound luck)


def record(name: str, **figures: float) -> None:
    FIGURES[name] = figures
    path = Path(os.environ["AIRFLOW_HOME"]) / "reliability-figures.json"
    path.write_text(json.dumps(FIGURES, indent=2))


def pytest_terminal_summary(terminalreporter) -> None:
    for name, figures in FIGURES.items():
        terminalreporter.write_line(f"reliability {name}: " + ", ".join(f"{k}={v}" for k, v in figures.items()))


class Retried:
    """Runs a step as Airflow runs a task with retries: again on ``errors`` until it succeeds; counts tries."""

    def __init__(self, *errors: type[Exception]) -> None:
        self.errors = errors
        self.tries = 0
        self.failed = 0

    def __call__(self, step: Callable[[], T]) -> T:
        for attempt in range(TASK_RETRIES + 1):
            self.tries += 1
            try:
                return step()
            except self.errors:
                self.failed += 1
                if attempt == TASK_RETRIES:
                    raise
        raise AssertionError("unreachable")


def longest_repeat(records: list[RequestRecord]) -> int:
    """The most consecutive requests for the same thing (method, path, query, body): one call's attempts."""
    keys = [(r.method, r.path, sorted(r.query.items()), json.dumps(r.body, sort_keys=True, default=str))
            for r in records]
    return max((len(list(group)) for _, group in groupby(keys)), default=0)


def bound_seconds(settings: ClientSettings) -> float:
    """The longest one call can take: every attempt timing out, plus the backoffs between them."""
    attempt = settings.connect_timeout + settings.read_timeout
    return min(settings.max_attempts * attempt + settings.max_attempts * settings.backoff_max_seconds,
               settings.max_retry_seconds + attempt)


class Stopwatch:
    def __enter__(self) -> Stopwatch:
        self.start = time.monotonic()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.monotonic() - self.start
