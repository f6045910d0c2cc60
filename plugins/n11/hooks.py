"""Airflow hook for N11: turns an ``n11`` connection into an ``N11Client``.

The connection keeps the API key in ``login``, the API secret in ``password`` and the API base URL in ``host``
(default ``https://api.n11.com``; plain ``http://`` only to this machine, as for the sandbox); the extra may tune
the client with any field of ``ClientSettings`` (``requests_per_minute``, ``read_timeout``, ``call_timeout``,
``max_attempts``, ``max_retry_seconds``, ``max_pages``, ``max_requests_per_window``, ...).
The connection form's Test button runs ``test_connection``: the "API test" button shop admins know.
"""

from __future__ import annotations

import copy
from functools import cached_property
from typing import Any

from airflow.sdk.bases.hook import BaseHook

from n11.client import DEFAULT_BASE_URL, ClientSettings, N11Client
from n11.errors import N11AuthError, N11Error, scrub
from n11.provider import UI_FIELD_BEHAVIOUR
from n11.ui import tested_connection_id


class N11Hook(BaseHook):
    """Interact with N11's seller API through an Airflow connection of type ``n11``."""

    conn_name_attr = "n11_conn_id"
    default_conn_name = "n11_default"
    conn_type = "n11"
    hook_name = "N11"

    def __init__(self, n11_conn_id: str = default_conn_name, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.n11_conn_id = n11_conn_id

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        """Relabel login/password as N11's API key/secret and hide what N11 does not use."""
        behaviour = copy.deepcopy(UI_FIELD_BEHAVIOUR)
        return {"hidden_fields": behaviour.pop("hidden-fields"), **behaviour}

    @cached_property
    def client(self) -> N11Client:
        conn = self.get_connection(self.n11_conn_id)
        host = (conn.host or "").strip() or DEFAULT_BASE_URL
        if "://" not in host:
            host = f"https://{host}"
        try:
            return N11Client(conn.login or "", conn.password or "", host, ClientSettings.from_extra(conn.extra_dejson))
        except ValueError as exc:
            raise ValueError(f"connection {tested_connection_id(self.n11_conn_id)!r}: "
                             f"{scrub(str(exc), conn.password or '')}") from None

    def get_conn(self) -> N11Client:
        return self.client

    def test_connection(self) -> tuple[bool, str]:
        """Check the key and secret with N11's smallest authenticated call; a failure names the connection.

        The UI's Test button runs this under a temporary connection id; the message names the real one.
        """
        conn_id = tested_connection_id(self.n11_conn_id)
        try:
            count = self.client.check_credentials()
        except ValueError as exc:
            return False, str(exc)
        except N11AuthError as exc:
            return False, f"{exc} - fix the API key/secret in connection {conn_id!r}"
        except N11Error as exc:
            return False, f"{exc} - check the API base URL of connection {conn_id!r}, or try again later"
        return True, f"N11 accepted the API key and secret; the store has {count} products on N11"
