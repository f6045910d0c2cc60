"""N11Hook: the connection form's Test button is the "API test" button shop admins know."""

from __future__ import annotations

import json

import pytest

from n11.hooks import N11Hook
from tests.conftest import TEST_KEY, TEST_SECRET
from tests.helpers.hostile import Answer, HostileServer


@pytest.fixture
def connection(monkeypatch, sandbox):
    def define(secret: str = TEST_SECRET, extra: dict | None = None, host: str | None = None) -> N11Hook:
        fields = {"conn_type": "n11", "host": host or sandbox.url, "login": TEST_KEY, "password": secret,
                  "extra": json.dumps(extra or {})}
        monkeypatch.setenv("AIRFLOW_CONN_N11_TEST", json.dumps(fields))
        return N11Hook(n11_conn_id="n11_test")

    return define


def test_good_credentials_pass_the_test_button(connection, sandbox):
    ok, message = connection().test_connection()
    assert ok is True
    assert f"{len(sandbox.state.account(TEST_KEY).products)} products" in message


def test_a_wrong_secret_fails_with_a_message_a_person_can_act_on(connection):
    ok, message = connection(secret="not-the-secret").test_connection()
    assert ok is False
    assert "refused the API key or secret" in message and "'n11_test'" in message
    assert "not-the-secret" not in message


def test_a_bad_extra_names_the_connection_and_the_field(connection):
    ok, message = connection(extra={"requests_per_minute": "fast"}).test_connection()
    assert ok is False
    assert "'n11_test'" in message and "requests_per_minute" in message


def test_plain_http_to_another_host_fails_the_test_naming_the_connection(connection):
    ok, message = connection(host="http://203.0.113.5").test_connection()  # refused before any connection
    assert ok is False
    assert message.startswith("connection 'n11_test': the N11 API base URL 'http://203.0.113.5' is refused")


def test_a_server_echoing_the_headers_fails_the_test_without_the_secret(connection):
    echo = HostileServer(lambda request: Answer(502, f"proxy error; request was {request.headers}".encode()))
    with echo:
        ok, message = connection(host=echo.url, extra={"max_attempts": 1}).test_connection()
    assert ok is False
    assert "HTTP 502" in message and "'n11_test'" in message and "appkey" in message
    assert TEST_SECRET not in message


def test_the_extra_tunes_the_client(connection):
    client = connection(extra={"requests_per_minute": 120, "max_attempts": 2}).get_conn()
    assert client.settings.requests_per_minute == 120 and client.settings.max_attempts == 2


def test_the_form_shows_api_key_and_secret_and_hides_the_rest():
    behaviour = N11Hook.get_ui_field_behaviour()
    assert behaviour["relabeling"]["login"] == "API Key"
    assert behaviour["relabeling"]["password"] == "API Secret"
    assert set(behaviour["hidden_fields"]) == {"schema", "port"}


def test_the_airflow_ui_gets_the_same_form_from_the_provider_info():
    from airflow.api_fastapi.core_api.services.ui.connections import HookMetaService
    from airflow.providers_manager import ProvidersManager

    behaviour = ProvidersManager().field_behaviours["n11"]
    assert behaviour == N11Hook.get_ui_field_behaviour()
    fields = HookMetaService._make_standard_fields(behaviour)
    assert fields.login.title == "API Key" and fields.password.title == "API Secret"
    assert fields.port.hidden and fields.url_schema.hidden


def test_the_connection_type_is_registered_with_airflow():
    from airflow.providers_manager import ProvidersManager
    from airflow.sdk.providers_manager_runtime import ProvidersManagerTaskRuntime

    assert "n11-airflow" in ProvidersManager().providers
    assert ProvidersManagerTaskRuntime().hooks["n11"].hook_class_name == "n11.hooks.N11Hook"
