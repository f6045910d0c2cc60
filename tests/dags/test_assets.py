"""Successful runs emit their store's asset event, with the run's counts, into Airflow's metadata database."""

from __future__ import annotations

import pendulum
import pytest
from airflow.models.asset import AssetEvent, AssetModel
from airflow.utils.session import create_session
from sqlalchemy import select

from tests.dags.conftest import run_dag

pytestmark = pytest.mark.dags


def events(uri: str) -> list[dict]:
    with create_session() as session:
        query = select(AssetEvent.extra).join(AssetModel, AssetEvent.asset_id == AssetModel.id)
        return list(session.scalars(query.where(AssetModel.uri == uri).order_by(AssetEvent.id)))


def test_an_orders_run_emits_its_asset_event_with_the_counts(store_env):
    store_env(orders_schedule="0 0 * * *", slug="shop1")
    before = len(events("n11://shop1/orders"))

    states = run_dag("n11_shop1_orders", logical_date=pendulum.now("Europe/Istanbul").start_of("day"))

    assert states["_run"] == "success"
    emitted = events("n11://shop1/orders")[before:]
    assert len(emitted) == 1
    assert emitted[0]["windows"] == 1 and emitted[0]["pages"] >= 1


def test_a_products_run_emits_its_asset_event_and_a_dry_run_or_a_skipped_run_none(demo_shop, store_env):
    before = len(events("n11://shop1/products"))
    assert run_dag("n11_shop1_products", dry_run=True)["_run"] == "success"
    assert len(events("n11://shop1/products")) == before  # sent nothing, so a downstream DAG has nothing to do

    assert run_dag("n11_shop1_products")["_run"] == "success"
    emitted = events("n11://shop1/products")[before:]
    assert len(emitted) == 1 and emitted[0]["dry_run"] is False and emitted[0]["plan"]["sending"]

    store_env(variable='{"product_sync": false}')
    run_dag("n11_shop1_products")
    assert len(events("n11://shop1/products")) == before + 1
