"""The assets the store DAGs update: a shop's own DAGs can be scheduled on them (docs/OPERATIONS.md)."""

from __future__ import annotations

from airflow.sdk import Asset


def store_asset(slug: str, kind: str) -> Asset:
    """The asset a successful run of the store updates: `n11://<slug>/orders` or `n11://<slug>/products`."""
    return Asset(f"n11://{slug}/{kind}", group="n11")
