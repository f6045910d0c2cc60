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
    # The stores page (include/ui/stores_page.py): a FastAPI app in the API server, shown in the UI's navigation.
    external_views = [{"name": "N11 stores", "href": "n11/stores", "url_route": "n11-stores", "destination": "nav",
                       "nav_top_level": True}]

    @property
    def fastapi_apps(self) -> list[dict]:
        """Imported where Airflow mounts the apps (the API server), not by every task that loads the plugins."""
        from include.ui.stores_page import URL_PREFIX, app

        return [{"app": app, "url_prefix": URL_PREFIX, "name": "n11 stores page"}]
