"""The Airflow plugin of n11-airflow (entry point ``airflow.plugins``): installs ``n11.ui``'s middlewares."""

from __future__ import annotations

from airflow.configuration import conf
from airflow.plugins_manager import AirflowPlugin

from n11.ui import ConnectionTestMiddleware, UiTimezoneMiddleware

DEFAULT_UI_TIMEZONE = "Europe/Istanbul"


class N11UIPlugin(AirflowPlugin):
    name = "n11_ui"
    fastapi_root_middlewares = [
        {"name": "n11 connection test", "middleware": ConnectionTestMiddleware},
        {"name": "n11 UI time zone", "middleware": UiTimezoneMiddleware,
         "kwargs": {"timezone": conf.get("n11", "ui_timezone", fallback=DEFAULT_UI_TIMEZONE)}},
    ]
