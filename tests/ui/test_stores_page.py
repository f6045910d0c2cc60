"""The stores page as a data engineer meets it in the UI of `make airflow` (Chromium): linked from Airflow's
navigation, behind Airflow's login, one row per store with its switches, API check, last runs with their counts,
refused SKUs linking to their run, open order actions and last alert; never a secret.

The demo store's runs are made through Airflow's REST API (a products run and an orders run marked finished with
their counts as the collect_results and send_order_actions XComs, as the tasks return them) and its shop rows by
the project's own writers: the page is checked on known values, without waiting for a scheduler."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from dataclasses import replace
from datetime import datetime
from urllib.parse import quote

import pytest
from sqlalchemy import create_engine, insert

from devtools.sandbox import DEMO_API_SECRET
from include.registry import load_registry
from include.shop_db import create_tables
from include.store_status import API_OK, record_api_status, record_settings
from include.tables import n11_notifications, n11_order_actions, n11_product_sync_errors

pytestmark = [pytest.mark.browser, pytest.mark.local_airflow, pytest.mark.xdist_group("airflow_processes")]
PRODUCTS = "n11_demo_products"
RUN_ID = "manual__stores_page_check"
COUNTS = {"succeeded": 296, "failed": 3, "rejected": 1, "no_result": 0}
ORDERS = "n11_demo_orders"
NOTHING = {"refused": 0, "sent": 0, "accepted": 0, "failed": 0, "unknown": 0}
ORDER_ACTIONS = {"approvals": {**NOTHING, "refused": 1}, "cancels": NOTHING,
                 "invoices": {**NOTHING, "sent": 1, "unknown": 1}}


def api(base: str, token: str | None, method: str, path: str, body: dict | None = None) -> dict:
    request = urllib.request.Request(f"{base}{path}", method=method, data=json.dumps(body).encode() if body else None,
                                     headers={"Content-Type": "application/json",
                                              **({"Authorization": f"Bearer {token}"} if token else {})})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read() or b"{}")


@pytest.fixture(scope="module")
def seeded(make_airflow, airflow_ui) -> str:
    """The demo store with a finished products run, N11 refusing two SKUs of it, an open approval and an alert."""
    base = airflow_ui
    token = api(base, None, "POST", "/auth/token", {"username": "admin", "password": "admin"})["access_token"]
    deadline = time.monotonic() + 120
    while True:  # the DAG processor has parsed the demo's DAGs
        try:
            api(base, token, "GET", f"/api/v2/dags/{PRODUCTS}")
            break
        except urllib.error.HTTPError:
            assert time.monotonic() < deadline, f"{PRODUCTS} was not parsed within 120 s"
            time.sleep(2)
    shop_path = make_airflow.home / "shop.db"
    # test_browser.py's last connection test leaves shop_db pointing at a missing folder
    api(base, token, "PATCH", "/api/v2/connections/shop_db",
        {"connection_id": "shop_db", "conn_type": "sqlite", "host": str(shop_path)})
    api(base, token, "POST", f"/api/v2/dags/{PRODUCTS}/dagRuns", {"dag_run_id": RUN_ID, "logical_date": None})
    api(base, token, "POST", f"/api/v2/dags/{PRODUCTS}/dagRuns/{RUN_ID}/taskInstances/collect_results/xcomEntries",
        {"key": "return_value", "value": COUNTS})
    api(base, token, "PATCH", f"/api/v2/dags/{PRODUCTS}/dagRuns/{RUN_ID}",
        {"state": "success", "note": "- store 'demo' products: succeeded 296, failed 3, rejected 1"})
    api(base, token, "POST", f"/api/v2/dags/{ORDERS}/dagRuns", {"dag_run_id": RUN_ID, "logical_date": None})
    api(base, token, "POST", f"/api/v2/dags/{ORDERS}/dagRuns/{RUN_ID}/taskInstances/send_order_actions/xcomEntries",
        {"key": "return_value", "value": ORDER_ACTIONS})
    api(base, token, "PATCH", f"/api/v2/dags/{ORDERS}/dagRuns/{RUN_ID}", {"state": "success"})
    [demo] = [store for store in load_registry(make_airflow.home / "stores.yaml").stores if store.slug == "demo"]
    engine = create_engine(f"sqlite:///{shop_path}")
    create_tables(engine)  # as the store's first run does
    record_settings(engine, replace(demo, product_sync=False))  # as the Variable switched it
    record_api_status(engine, "demo", API_OK, "N11 accepted the API key and secret")
    with engine.begin() as conn:
        conn.execute(insert(n11_product_sync_errors), [
            {"store": "demo", "stock_code": code, "task_id": "9001", "run_id": RUN_ID, "kind": "fail",
             "endpoint": "price_stock", "groups": "price", "reasons": json.dumps([reason]),
             "recorded_at": datetime(2026, 12, 1, 9, 0)}
            for code, reason in (("DEMO-0007", "Fiyat 0.01 TL altında olamaz"), ("DEMO-0011", "Ürün onay bekliyor"))])
        conn.execute(insert(n11_order_actions), [{"store": "demo", "order_line_id": "123", "action": "approve",
                                                  "requested_at": datetime(2026, 12, 1, 8, 0)}])
        conn.execute(insert(n11_notifications), [{"store": "demo", "problem": "n11_demo_orders.load_orders",
                                                  "notified_at": datetime(2026, 12, 1, 10, 0)}])
    engine.dispose()
    return base


@pytest.fixture(scope="module")
def stores_page(page, seeded):
    """The stores page, reached as a person does: the navigation's "N11 stores" link."""
    page.goto(f"{page.base}/")
    page.get_by_role("link", name="N11 stores").click()
    page.wait_for_url("**/plugin/n11-stores**")
    frame = page.frame_locator("iframe[title='N11 stores']")
    frame.get_by_role("heading", name="N11 stores").wait_for(timeout=30_000)
    return frame


def cell(frame, column: str) -> str:
    headers = frame.locator("thead th").all_inner_texts()
    return frame.locator("tr[data-store=demo] td").nth(headers.index(column)).inner_text()


def test_the_navigation_opens_the_stores_page_inside_airflow_with_the_demo_store(page, stores_page, make_airflow,
                                                                                tmp_path):
    [demo] = [store for store in load_registry(make_airflow.home / "stores.yaml").stores if store.slug == "demo"]
    assert cell(stores_page, "Store") == f"{demo.name}\ndemo"
    page.screenshot(path=tmp_path / "stores-page.png", full_page=True)


def test_the_store_shows_active_with_orders_on_and_products_off_as_the_last_run_recorded(stores_page):
    assert cell(stores_page, "Status") == "active"
    assert cell(stores_page, "Orders") == "on"
    assert cell(stores_page, "Products").startswith("off")


def test_the_api_status_shows_with_when_it_was_checked(stores_page):
    api_cell = cell(stores_page, "API")
    assert api_cell.startswith("ok") and "checked 20" in api_cell


def test_the_last_products_run_shows_its_state_counts_and_refused_skus(stores_page):
    products = cell(stores_page, "Last products run")
    assert products.startswith("success")
    assert "SKUs: succeeded 296, failed 3, rejected 1, no result 0" in products
    assert "refused SKUs: 2" in products and "Fiyat 0.01 TL altında olamaz" in products


def test_the_last_orders_run_shows_a_send_refused_before_it_went_and_one_whose_outcome_is_unknown(stores_page):
    orders = cell(stores_page, "Last orders run")
    assert orders.startswith("success")
    assert "approvals: sent 0, accepted 0, failed 0, outcome unknown 0, refused without sending 1" in orders
    assert "invoice links: sent 1, accepted 0, failed 0, outcome unknown 1, refused without sending 0" in orders
    assert "cancels" not in orders


def test_the_open_order_action_and_the_last_alert_show_in_istanbul_time(stores_page):
    assert cell(stores_page, "Open order actions") == "1\noldest requested 2026-12-01 11:00"
    assert cell(stores_page, "Last alert") == "n11_demo_orders.load_orders\n2026-12-01 13:00"


def test_the_page_shows_no_secret(stores_page):
    assert DEMO_API_SECRET not in stores_page.locator("body").inner_html()


def test_a_refused_sku_links_to_its_run_and_the_link_opens_airflows_run_page(page, stores_page, tmp_path):
    link = stores_page.get_by_role("link", name="DEMO-0007")
    assert link.get_attribute("href") == f"/dags/{PRODUCTS}/runs/{quote(RUN_ID, safe='')}"
    link.click()
    page.wait_for_url(f"**/dags/{PRODUCTS}/runs/{RUN_ID}**", timeout=30_000)
    page.get_by_text(RUN_ID).first.wait_for()
    page.screenshot(path=tmp_path / "run-from-stores-page.png")


def test_without_the_airflow_login_the_page_sends_to_the_login(airflow_ui):
    request = urllib.request.Request(f"{airflow_ui}/n11/stores")
    opener = urllib.request.build_opener(type("NoRedirect", (urllib.request.HTTPRedirectHandler,),
                                              {"redirect_request": lambda *args: None}))
    with pytest.raises(urllib.error.HTTPError) as refused:
        opener.open(request, timeout=30)
    assert refused.value.code == 307 and "/auth/login" in refused.value.headers["Location"]
