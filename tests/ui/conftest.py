"""One `make airflow` for every browser test of tests/ui (its slowest fixture: the instance starts once), a
logged-in Chromium page on it, and the Ctrl-C stop check of that instance last."""

from __future__ import annotations

import shutil
import signal
from collections.abc import Iterator

import pytest

from tests.helpers.local_airflow import MakeAirflow

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
STOP_TEST = "test_ctrl_c_stops_every_process_of_the_instance_the_browser_used"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The stop check ends the instance: it runs right after the last other test of this folder."""
    here = str(__file__).rsplit("/", 1)[0] + "/"
    stop = [item for item in items if item.name == STOP_TEST]
    if not stop:
        return
    rest = [item for item in items if item.name != STOP_TEST]
    last = max((i for i, item in enumerate(rest) if str(item.path).startswith(here)), default=len(rest) - 1)
    items[:] = [*rest[:last + 1], *stop, *rest[last + 1:]]


@pytest.fixture(scope="package")
def make_airflow(tmp_path_factory) -> Iterator[MakeAirflow]:
    """`make airflow` on free ports in its own home, started in the background as a script does."""
    airflow = MakeAirflow(tmp_path_factory.mktemp("ui"))
    try:
        yield airflow.start()
    finally:
        if airflow.running():
            airflow.stop(signal.SIGTERM)
        airflow.kill()


@pytest.fixture(scope="package")
def airflow_ui(make_airflow) -> str:
    """The UI's base URL."""
    if CHROMIUM is None:
        pytest.skip("no Chromium installed")
    return make_airflow.base


@pytest.fixture(scope="package")
def page(airflow_ui):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.goto(f"{airflow_ui}/")
        page.fill("input[name=username]", "admin")
        page.fill("input[name=password]", "admin")
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{airflow_ui}/", timeout=30_000)
        page.base = airflow_ui
        yield page
        browser.close()
