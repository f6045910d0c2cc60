"""The stores page (``/n11/stores``, linked from Airflow's navigation by ``include.ui.plugin``): every store of the
registry with its switches, API check, last runs, refused SKUs, open order actions and last alert.

It is a FastAPI app Airflow mounts in its API server, behind Airflow's own login: the user comes from Airflow's
session cookie (``GetUserDep``, what Airflow's routes use; no login redirects to Airflow's login page), and only
the stores whose DAGs the user may read are listed. Airflow's metadata is read with its ORM in the API server's
session (``SessionDep``); each shop database once per page, whatever number of stores share it.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime
from urllib.parse import urlsplit

from airflow.api_fastapi.app import get_auth_manager
from airflow.api_fastapi.common.db.common import SessionDep
from airflow.api_fastapi.core_api.security import GetUserDep
from airflow.configuration import conf
from airflow.exceptions import AirflowNotFoundException
from airflow.models.connection import Connection
from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from include.registry import TIMEZONE, load_registry_or_error
from include.settings import StoreConfig
from include.shop_db import engine_for
from include.store_overview import read_stores
from include.ui.last_runs import last_runs
from include.ui.stores_html import StoreRow, render_page

log = logging.getLogger(__name__)
URL_PREFIX = "/n11"
PATH = "/stores"

app = FastAPI(title="n11-airflow stores page", docs_url=None, redoc_url=None, openapi_url=None)


def shop_engine(conn_id: str) -> Engine:
    """The shop database of an Airflow connection, looked up as Airflow's server looks connections up."""
    return engine_for(Connection.get_connection_from_secrets(conn_id))


def store_rows(session: Session, stores: list[StoreConfig]) -> list[StoreRow]:
    """Every store's row: its DAGs' last runs, then one read per shop database for all stores sharing it."""
    runs = last_runs(session, [dag_id for store in stores for dag_id in (store.orders_dag_id, store.products_dag_id)])
    rows = [StoreRow(store, None, orders=runs.get(store.orders_dag_id), products=runs.get(store.products_dag_id))
            for store in stores]
    by_conn: dict[str, list[StoreRow]] = defaultdict(list)
    for row in rows:
        by_conn[row.store.shop_conn_id].append(row)
    for conn_id, shared in by_conn.items():
        products_runs = {row.store.slug: row.products.run_id for row in shared if row.products}
        try:
            views = read_stores(shop_engine(conn_id), [row.store.slug for row in shared], products_runs)
        except (AirflowNotFoundException, SQLAlchemyError, ValueError) as exc:  # the other databases still show
            log.warning("stores page: shop database %r could not be read: %s", conn_id, exc)
            problem = ("is not defined (Admin > Connections)" if isinstance(exc, AirflowNotFoundException)
                       else f"could not be read ({type(exc).__name__}; see the API server's log)")
            for row in shared:
                row.shop_error = f"shop database connection {conn_id!r} {problem}"
            continue
        for row in shared:
            row.shop = views[row.store.slug]
    return rows


def page_html(session: Session, readable: Callable[[StoreConfig], bool]) -> str:
    """The page for the stores ``readable`` lets through, the registry's problems above them."""
    registry = load_registry_or_error()
    rows = store_rows(session, [store for store in registry.stores if readable(store)])
    base_path = urlsplit(conf.get("api", "base_url", fallback="/")).path.rstrip("/")
    return render_page(rows, [error.message for error in registry.errors],
                       conf.get("n11", "ui_timezone", fallback=TIMEZONE), base_path, datetime.now(UTC))


@app.get(PATH, response_class=HTMLResponse)
def stores_page(user: GetUserDep, session: SessionDep) -> HTMLResponse:
    dag_ids = get_auth_manager().get_authorized_dag_ids(user=user, method="GET", session=session)
    html = page_html(session, lambda store: store.orders_dag_id in dag_ids or store.products_dag_id in dag_ids)
    return HTMLResponse(html)


@app.exception_handler(HTTPException)
async def to_login(request: Request, exc: HTTPException) -> Response:
    """Not logged in (or the session expired): Airflow's login page, coming back here afterwards."""
    if exc.status_code in (401, 403):
        return RedirectResponse(get_auth_manager().get_url_login(next_url=str(request.url)))
    return HTMLResponse(str(exc.detail), status_code=exc.status_code)
