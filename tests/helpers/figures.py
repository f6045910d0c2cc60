"""The figures the reliability tests measure (``record``): printed at the end of the session (lines starting
``reliability``) and written to ``$AIRFLOW_HOME/reliability-figures.json``. Under xdist every worker sends its
figures to the controller, which prints and writes them all. Registered by tests/conftest.py."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

FIGURES: dict[str, dict] = {}


def record(name: str, **figures: float) -> None:
    FIGURES[name] = figures
    _write()


def _write() -> None:
    path = Path(os.environ["AIRFLOW_HOME"]) / "reliability-figures.json"
    path.write_text(json.dumps(FIGURES, indent=2))


def pytest_sessionfinish(session) -> None:
    if hasattr(session.config, "workeroutput"):  # an xdist worker: hand the figures to the controller
        session.config.workeroutput["reliability_figures"] = json.dumps(FIGURES)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error) -> None:
    figures = json.loads(getattr(node, "workeroutput", {}).get("reliability_figures", "{}"))
    if figures:
        FIGURES.update(figures)
        _write()


def pytest_terminal_summary(terminalreporter) -> None:
    for name, figures in sorted(FIGURES.items()):
        terminalreporter.write_line(f"reliability {name}: " + ", ".join(f"{k}={v}" for k, v in figures.items()))
