"""`make cluster` for real: CeleryExecutor with two workers, Redis and PostgreSQL, ten demo stores. Products runs, then
orders runs, succeed on both workers; a worker SIGKILLed while it runs a store's `load_orders` costs that task one try,
which Airflow retries on the other worker with nothing lost or doubled in the shop database; the worker comes back.

The heartbeat timeout is 20 s here (120 s in the compose file), so a dead worker is found within a test, and Airflow's
``[core] max_task_retry_delay`` caps the retry's wait at 5 s (the DAG's 1 to 2 min in production): what is tested is
where the retry runs and what it leaves, not how long Airflow waits. Marked ``scheduler`` and ``cluster``; it prints
its phases.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from datetime import datetime, timedelta

import pytest
from sqlalchemy import create_engine, select

from devtools.cluster import AdminApi, Cluster
from include.tables import n11_orders

pytestmark = [pytest.mark.scheduler, pytest.mark.cluster, pytest.mark.xdist_group("cluster"),
              pytest.mark.skipif(not (shutil.which("redis-server") or os.path.exists("/usr/bin/redis-server")),
                                 reason="no redis-server (scripts/install-redis.sh)")]

HEARTBEAT_TIMEOUT = 20
SETTINGS = {"AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": str(HEARTBEAT_TIMEOUT),
            "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": "2",
            "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "1",
            "AIRFLOW__WORKERS__MIN_HEARTBEAT_INTERVAL": "2",
            "AIRFLOW__CORE__MAX_TASK_RETRY_DELAY": "5"}
VICTIM = "demo_2"  # its load_orders is running when its worker is killed
RUNS = [f"n11_{slug}_{kind}" for slug, kind in (("demo", "orders"), ("demo", "products"), (VICTIM, "orders"),
                                                 ("demo_3", "products"))]
TIMEOUT = 300


def running_load_orders(api: AdminApi, dag_id: str) -> dict | None:
    run = api.run(dag_id)
    if run is None:
        return None
    ti = api.get(f"/dags/{dag_id}/dagRuns/{run['dag_run_id']}/taskInstances/load_orders")
    return ti if ti["state"] == "running" and ti["hostname"] else None


def test_runs_spread_over_two_workers_and_a_dead_workers_task_is_retried_on_the_other(tmp_path):
    started = time.monotonic()
    phases: dict[str, float] = {}
    cluster = Cluster(tmp_path, stores=10, workers=2, settings=SETTINGS)
    hold = threading.Event()
    try:
        cluster.start()
        phases["cluster up"] = time.monotonic() - started
        victim_key = cluster.credentials(VICTIM)[0]
        # the victim's order windows (not its credential check) wait for the test: load_orders runs when the worker dies
        cluster.sandbox.state.page_hook = lambda account, query: (account.api_key == victim_key
                                                           and "startDate" in query and hold.wait(120))
        api = AdminApi(cluster.url)
        cluster.wait_for("the DAGs to be parsed",
                         lambda: api.get("/dags", dag_id_pattern="n11_")["total_entries"] >= 20, timeout=TIMEOUT)
        # One products run each first, to the end: a push killed mid-send is not sent again blindly (its run fails
        # and the next run's scan sends what still differs: tests/reliability/test_crashes.py), so the kill below
        # must find only orders tasks, which a retry repeats safely. Then one catch-up orders run (yesterday) each.
        products = [dag_id for dag_id in RUNS if dag_id.endswith("_products")]
        for dag_id in products:
            api.unpause(dag_id)
        cluster.wait_for("the products runs to finish", lambda: all(
            (run := api.run(dag_id)) and run["state"] in ("success", "failed") for dag_id in products), timeout=TIMEOUT)
        for dag_id in RUNS:
            if dag_id not in products:
                api.unpause(dag_id)

        victim_dag = f"n11_{VICTIM}_orders"
        doomed = cluster.wait_for("the victim's load_orders to run", lambda: running_load_orders(api, victim_dag),
                                  timeout=TIMEOUT)
        dead = int(doomed["hostname"].removeprefix("worker-"))
        killed_at = datetime.now().astimezone()
        cluster.kill_worker(dead)
        phases["worker killed"] = time.monotonic() - started
        hold.set()

        cluster.wait_for("every run to finish", lambda: all(
            (run := api.run(dag_id)) and run["state"] in ("success", "failed") for dag_id in RUNS), timeout=TIMEOUT)
        phases["runs finished"] = time.monotonic() - started
        cluster.start_worker(dead)
        cluster.wait_for("the restarted worker to answer", lambda: cluster.worker_ready(dead), timeout=120)
        phases["worker back"] = time.monotonic() - started

        tries = {dag_id: api.tries(dag_id, api.run(dag_id)["dag_run_id"]) for dag_id in RUNS}
        assert {dag_id: api.run(dag_id)["state"] for dag_id in RUNS} == dict.fromkeys(RUNS, "success")
        # Every try the dead worker held failed, and its retry ran on the other worker; the victim's load_orders is
        # among them (another store's task may have been running there too). Every other try succeeded at once.
        key = {dag_id: {(t["task_id"], t["try_number"]): t for t in tries[dag_id]} for dag_id in RUNS}
        held = [(dag_id, t) for dag_id in RUNS for t in tries[dag_id]
                if t["hostname"] == doomed["hostname"] and t["state"] == "failed"]
        assert ("load_orders", victim_dag) in {(t["task_id"], dag_id) for dag_id, t in held}
        retries = [key[dag_id][(t["task_id"], t["try_number"] + 1)] for dag_id, t in held]
        assert {(t["state"], t["hostname"]) for t in retries} == {("success", cluster.worker_name(3 - dead))}
        lost = [key[victim_dag][("load_orders", 1)], key[victim_dag][("load_orders", 2)]]
        involved = {id(t) for _, t in held} | {id(t) for t in retries}
        others = [t for dag_id in RUNS for t in tries[dag_id] if id(t) not in involved]
        assert {(t["state"], t["try_number"]) for t in others} == {("success", 1)}  # the products waits included
        assert {t["hostname"] for t in others} == {"worker-1", "worker-2"}

        detected = datetime.fromisoformat(lost[0]["end_date"]) - killed_at
        retried = datetime.fromisoformat(lost[1]["start_date"]) - killed_at
        print(f"phases (s from start): {', '.join(f'{k} {v:.0f}' for k, v in phases.items())}; dead worker found "
              f"after {detected.total_seconds():.0f} s (heartbeat timeout {HEARTBEAT_TIMEOUT} s), its task retried "
              f"after {retried.total_seconds():.0f} s (retry wait capped at 5 s)")
        # the timeout counts from the last heartbeat, up to one heartbeat interval (2 s here) before the kill
        assert timedelta(seconds=HEARTBEAT_TIMEOUT - 5) <= detected < timedelta(seconds=HEARTBEAT_TIMEOUT + 30)

        run = api.run(victim_dag)
        account = cluster.sandbox.state.account(victim_key)
        start, end = (datetime.fromisoformat(run[key]) for key in ("data_interval_start", "data_interval_end"))
        wanted = account.expected_orders(int(start.timestamp() * 1000), int(end.timestamp() * 1000))
        padded = account.expected_orders(int((start - timedelta(hours=3)).timestamp() * 1000),
                                         int(end.timestamp() * 1000 + 3 * 3600 * 1000))
        engine = create_engine(cluster.shop_url)
        with engine.connect() as conn:
            loaded = list(conn.scalars(select(n11_orders.c.order_number).where(n11_orders.c.store == VICTIM)))
        engine.dispose()
        assert wanted
        assert {p["orderNumber"] for p in wanted} <= set(loaded) <= {p["orderNumber"] for p in padded}
    finally:
        hold.set()
        cluster.stop()
        print(f"cluster test: {time.monotonic() - started:.0f} s wall")
