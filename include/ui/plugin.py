"""The Airflow plugin of the stores page (entry point ``airflow.plugins``): the page in the API server, its link in
the UI's navigation. The page's code is imported only where Airflow mounts the apps (the API server), not by every
task process that loads the plugins."""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin


class StoresPagePlugin(AirflowPlugin):
    name = "n11_stores_page"
    external_views = [{"name": "N11 stores", "href": "n11/stores", "url_route": "n11-stores", "destination": "nav",
                       "nav_top_level": True}]

    @property
    def fastapi_apps(self) -> list[dict]:
        from include.ui.stores_page import URL_PREFIX, app

        return [{"app": app, "url_prefix": URL_PREFIX, "name": "n11 stores page"}]
