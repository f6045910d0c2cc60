"""The assets the store DAGs update: a shop's own DAGs can be scheduled on them (docs/OPERATIONS.md)."""

from __future__ import annotations

from airflow.sdk import Asset, AssetAlias


def store_asset(slug: str, kind: str) -> Asset:
    """The asset a successful run of the store updates: `n11://<slug>/orders` or `n11://<slug>/products`."""
    return Asset(f"n11://{slug}/{kind}", group="n11")


def products_alias(slug: str) -> AssetAlias:
    """The products results task's outlet. Airflow records an event for every success of a task whose outlet is an
    asset; through an alias the task itself decides: a dry run, which sent nothing, adds none."""
    return AssetAlias(f"n11_{slug}_products", group="n11")
