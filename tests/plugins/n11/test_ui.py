"""The UI plugin's middlewares: the connection Test button of Airflow 3.3's UI works and names the connection;
the UI defaults to Istanbul time. Run here around a small app that answers as Airflow's API does (the real UI and
API: tests/ui/test_browser.py)."""

from __future__ import annotations

import json
import os

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from n11.hooks import N11Hook
from n11.ui import TEST_PATH, ConnectionTestMiddleware, UiTimezoneMiddleware
from tests.conftest import TEST_KEY, TEST_SECRET

TEMPORARY_ID = "DuPBAYM7"


def airflow_like_test(stored: dict):
    """Airflow's connection test: refuses a port that differs from the stored one, then tests the connection
    under a temporary id in a worker thread (a sync route, as Airflow's)."""

    def endpoint(request: Request) -> JSONResponse:
        import anyio.from_thread

        body = anyio.from_thread.run(request.json)
        if "port" in body and body["port"] != stored.get("port"):
            return JSONResponse({"detail": "The host or port to test differs from the stored connection."}, 400)
        fields = {**stored, **{k: v for k, v in body.items() if v != "***" and k != "connection_id"}}
        os.environ[f"AIRFLOW_CONN_{TEMPORARY_ID.upper()}"] = json.dumps(fields)
        try:
            ok, message = N11Hook(n11_conn_id=TEMPORARY_ID).test_connection()
        finally:
            os.environ.pop(f"AIRFLOW_CONN_{TEMPORARY_ID.upper()}")
        return JSONResponse({"status": ok, "message": message})

    return endpoint


@pytest.fixture
def api(sandbox):
    stored = {"conn_type": "n11", "host": sandbox.url, "login": TEST_KEY, "password": TEST_SECRET}
    app = Starlette(routes=[Route(TEST_PATH, airflow_like_test(stored), methods=["POST"])])
    return TestClient(ConnectionTestMiddleware(app))


def ui_body(**fields) -> dict:
    """What the UI's Test button posts for a stored connection with an empty port."""
    return {"connection_id": "n11_demo", "conn_type": "n11", "password": "***", "port": 0, "extra": "{}", **fields}


def test_the_uis_port_zero_no_longer_stops_the_test_of_a_stored_connection(api):
    answer = api.post(TEST_PATH, json=ui_body()).json()
    assert answer["status"] is True and "products on N11" in answer["message"]


def test_a_wrong_secret_names_the_real_connection_not_airflows_temporary_one(api):
    answer = api.post(TEST_PATH, json=ui_body(password="a-wrong-secret")).json()
    assert answer["status"] is False
    assert "connection 'n11_demo'" in answer["message"]
    assert TEMPORARY_ID not in answer["message"] and "a-wrong-secret" not in answer["message"]


def test_a_failure_of_another_connection_type_gets_the_connection_named():
    def endpoint(request: Request) -> JSONResponse:
        return JSONResponse({"status": False, "message": "unable to open database file"})

    app = Starlette(routes=[Route(TEST_PATH, endpoint, methods=["POST"])])
    answer = TestClient(ConnectionTestMiddleware(app)).post(TEST_PATH, json={"connection_id": "shop_db"}).json()
    assert answer == {"status": False, "message": "Connection 'shop_db': unable to open database file"}


def test_the_ui_page_defaults_to_istanbul_time_unless_the_user_chose_a_zone():
    page = "<html><head><title>Airflow</title></head><body></body></html>"
    app = Starlette(routes=[Route("/api/v2/version", lambda request: JSONResponse({"v": 1})),
                            Route("/{path:path}", lambda request: HTMLResponse(page))])
    client = TestClient(UiTimezoneMiddleware(app, timezone="Europe/Istanbul"))
    html = client.get("/dags/n11_demo_orders").text
    assert 'if(!localStorage.getItem("timezone"))localStorage.setItem("timezone","\\"Europe/Istanbul\\"")' in html
    assert html.index("localStorage") < html.index("</head>")
    assert client.get("/api/v2/version").json() == {"v": 1}
