"""The ``n11_stores`` table: each store's effective settings and last credential check, for the shop's
website (the N11 logo linking to ``store_url``) and back office."""

from __future__ import annotations

from sqlalchemy import Engine, update

from include.clock import utcnow
from include.settings import StoreConfig
from include.tables import n11_stores
from include.upsert import upsert

API_OK = "ok"
API_AUTH_FAILED = "auth_failed"
API_ORDER_SERVICE_CLOSED = "order_service_closed"
API_UNREACHABLE = "unreachable"


def record_settings(engine: Engine, store: StoreConfig) -> None:
    """Write the store's effective settings; the last credential check is kept as it was."""
    row = {
        "store": store.slug, "name": store.name, "store_url": store.store_url, "active": store.active,
        "order_sync": store.order_sync, "product_sync": store.product_sync, "update_type": store.update_type,
        "settings_updated_at": utcnow(),
    }
    with engine.begin() as conn:
        upsert(conn, n11_stores, [row])


def record_api_status(engine: Engine, slug: str, status: str, message: str) -> None:
    """Write the outcome of a credential check (``record_settings`` has created the row)."""
    with engine.begin() as conn:
        conn.execute(update(n11_stores).where(n11_stores.c.store == slug)
                     .values(api_status=status, api_message=message[:500], api_checked_at=utcnow()))
