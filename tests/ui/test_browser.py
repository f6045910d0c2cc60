"""The Airflow UI of `make airflow` as a data engineer meets it, in a real browser (Chromium, Playwright); then
Ctrl-C stops that instance, leaving none of its processes.

The browser tests are skipped only where no Chromium is installed (`make test` installs Debian's where apt-get is
available). Screenshots go to the test's temporary folder.
"""

from __future__ import annotations

import json
import signal

import pytest

from devtools import local_airflow
from tests.helpers.local_airflow import answers

# Its `make airflow` and page are tests/ui/conftest.py's, shared with the other modules here; the Ctrl-C stop check
# (the last test here) runs after all of them.
pytestmark = [pytest.mark.browser, pytest.mark.local_airflow, pytest.mark.xdist_group("airflow_processes")]


def test_connection(page, conn_id: str) -> dict:
    """Click the connection's Test button in the list; the API's answer."""
    page.goto(f"{page.base}/connections")
    row = page.get_by_role("row").filter(has_text=conn_id)
    with page.expect_response(lambda r: r.url.endswith("/api/v2/connections/test"), timeout=60_000) as answer:
        row.get_by_role("button", name="Test Connection").click()
    return json.loads(answer.value.text())


test_connection.__test__ = False  # a helper, not a test


def edit_connection(page, conn_id: str, field: str, value: str) -> None:
    page.goto(f"{page.base}/connections")
    page.get_by_role("row").filter(has_text=conn_id).get_by_role("button", name="Edit Connection").click()
    dialog = page.get_by_role("dialog")
    dialog.locator(f"input[name={field}]").fill(value)
    with page.expect_response(lambda r: f"/api/v2/connections/{conn_id}" in r.url and r.request.method == "PATCH"):
        dialog.get_by_role("button", name="Save").click()


def test_the_test_button_of_both_connections_succeeds_with_good_values(page, tmp_path):
    answer = test_connection(page, "n11_demo")
    assert answer == {"status": True, "message": "N11 accepted the API key and secret; the store has 300 products "
                                                 "on N11"}
    assert test_connection(page, "shop_db")["status"] is True
    page.screenshot(path=tmp_path / "connections.png")


def test_a_wrong_secret_saved_in_the_edit_form_fails_the_test_naming_the_real_connection(page, tmp_path):
    edit_connection(page, "n11_demo", "password", "a-wrong-secret")
    answer = test_connection(page, "n11_demo")
    assert answer["status"] is False
    assert "connection 'n11_demo'" in answer["message"] and "a-wrong-secret" not in answer["message"]
    toast = page.get_by_text("fix the API key/secret in connection 'n11_demo'")
    toast.wait_for()  # what the user reads: the red "Test Connection Failed" toast
    page.wait_for_timeout(500)
    page.screenshot(path=tmp_path / "wrong-secret.png")


def test_the_right_secret_saved_in_the_edit_form_passes_the_test_again(page):
    from devtools.sandbox import DEMO_API_SECRET

    edit_connection(page, "n11_demo", "password", DEMO_API_SECRET)
    assert test_connection(page, "n11_demo")["status"] is True


def test_a_bad_shop_database_path_fails_the_test_naming_the_real_connection(page):
    edit_connection(page, "shop_db", "host", "/nonexistent-folder/shop.db")
    answer = test_connection(page, "shop_db")
    assert answer["status"] is False and "'shop_db'" in answer["message"]


def test_the_ui_shows_istanbul_time_and_the_trigger_form_offers_the_run_options(page, tmp_path):
    page.goto(f"{page.base}/dags/n11_demo_products")
    page.get_by_role("button", name="Trigger").first.click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_text("dry_run").first.wait_for()
    page.screenshot(path=tmp_path / "trigger.png")
    text = dialog.inner_text()
    assert "full_resync" in text and "without sending anything to N11" in text
    assert page.get_by_text("+03:00", exact=True).is_visible()  # the menu's clock: the UI's time zone


def test_a_store_dags_details_show_the_istanbul_time_zone(page, tmp_path):
    page.goto(f"{page.base}/dags/n11_demo_orders/details")
    zone = page.get_by_role("row").filter(has_text="Timezone")
    zone.first.wait_for(timeout=30_000)
    page.screenshot(path=tmp_path / "dag-details.png", full_page=True)
    assert "Europe/Istanbul" in zone.first.inner_text()


def test_ctrl_c_stops_every_process_of_the_instance_the_browser_used(make_airflow):
    """Ctrl-C (SIGINT to the process group) after the UI was used: nothing of the instance is left. What a new user
    read when it started: the URL's login and how to dry-run the products DAG while it is paused."""
    banner = make_airflow.log.read_text()
    assert "login admin / admin" in banner and local_airflow.DRY_RUN_HINT in banner
    survivors = make_airflow.stop(signal.SIGINT)
    assert len(make_airflow.started) > 10  # make, the program, standalone, scheduler, API server, workers ...
    assert survivors == [], [p.cmdline() for p in survivors]
    assert not answers(make_airflow.health)
