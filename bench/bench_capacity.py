"""What one machine sustains: N stores' orders runs under the real scheduler, beside a minimal four-task DAG.

At the default schedules every store's orders run falls due at the same moment (every quarter hour), so the question
is how many stores' runs one machine clears within two minutes (orders then stay fresh within one interval plus two
minutes). Each variant starts a local cluster (devtools/cluster.py: PostgreSQL metadata, the sandbox, N demo stores),
waits for the DAGs to be parsed, unpauses every orders DAG at once (each has one interval due: a day of orders) and
watches the burst. Printed per variant: task tries per minute, CPU-seconds per orders run (every Airflow process,
scheduler and API server included, during the burst), runs done within two minutes, and the largest N the
throughput clears within two minutes; beside the same burst of a minimal DAG of four empty tasks (Airflow's own floor
per run) measured in the same run.

Bounded: ``CAPACITY_STORES`` stores (20) once per variant, three variants (ours and the minimal DAG on
LocalExecutor, ours on two Celery workers), each burst cut at 10 minutes: about ten minutes in all. Products runs are
left out (they fall due once an hour, at :30).
"""

from __future__ import annotations

import os
import tempfile
import time
from datetime import datetime
from pathlib import Path

import psutil

from devtools.cluster import AdminApi, Cluster
from devtools.local_airflow import demo_slug

STORES = int(os.environ.get("CAPACITY_STORES") or 20)
FRESH_SECONDS = 120
BURST_LIMIT = 600
CORES = os.cpu_count() or 1
MINIMAL_DAGS = '''
import pendulum
from airflow.sdk import DAG, task

@task
def step():
    return None

for number in range(1, {stores} + 1):
    with DAG(f"minimal_{{number}}", schedule="0 0 * * *", catchup=True,
             start_date=pendulum.yesterday("Europe/Istanbul")) as dag:
        step.override(task_id="a")() >> step.override(task_id="b")() >> step.override(task_id="c")() \\
            >> step.override(task_id="d")()
    globals()[dag.dag_id] = dag
'''


def cpu_seconds(cluster: Cluster) -> float:
    """CPU time of every process of the cluster and of the children they have reaped."""
    total = 0.0
    for process in cluster.processes.values():
        try:
            tree = [psutil.Process(process.pid), *psutil.Process(process.pid).children(recursive=True)]
        except psutil.NoSuchProcess:
            continue
        for member in tree:
            try:
                times = member.cpu_times()
            except psutil.NoSuchProcess:
                continue
            total += times.user + times.system + times.children_user + times.children_system
    return total


def burst(name: str, dag_ids: list[str], settings: dict[str, str], workers: int) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        home = Path(folder)
        if not dag_ids[0].startswith("n11_"):
            (home / "dags").mkdir()
            (home / "dags" / "minimal.py").write_text(MINIMAL_DAGS.format(stores=STORES), encoding="utf-8")
            settings = {**settings, "AIRFLOW__CORE__DAGS_FOLDER": str(home / "dags")}
        cluster = Cluster(home, stores=STORES, workers=workers, settings=settings)
        try:
            cluster.start()
            api = AdminApi(cluster.url)
            cluster.wait_for("the DAGs to be parsed", lambda: set(dag_ids) <= {
                dag["dag_id"] for dag in api.get("/dags", limit=1000)["dags"]}, timeout=BURST_LIMIT)
            deadline = time.monotonic() + BURST_LIMIT
            cpu_before, due = cpu_seconds(cluster), datetime.now().astimezone()
            for dag_id in dag_ids:
                api.unpause(dag_id)
            ends: dict[str, datetime] = {}
            while len(ends) < len(dag_ids) and time.monotonic() < deadline:
                for dag_id in set(dag_ids) - set(ends):
                    run = api.run(dag_id)
                    if run and run["state"] in ("success", "failed"):
                        ends[dag_id] = datetime.fromisoformat(run["end_date"])
                time.sleep(2)
            cpu = cpu_seconds(cluster) - cpu_before
            tries = sum(ti["try_number"] for dag_id in ends
                        for ti in api.get(f"/dags/{dag_id}/dagRuns/{api.run(dag_id)['dag_run_id']}/taskInstances")
                        ["task_instances"])
            failed = sum(api.run(dag_id)["state"] != "success" for dag_id in ends)
        finally:
            cluster.stop()
    if not ends:
        raise RuntimeError(f"{name}: no run finished within {BURST_LIMIT} s")
    minutes = max((end - due).total_seconds() for end in ends.values()) / 60
    fresh = sum((end - due).total_seconds() <= FRESH_SECONDS for end in ends.values())
    return {"name": name, "runs": len(ends), "failed": failed, "minutes": minutes, "tries_per_minute": tries / minutes,
            "cpu_per_run": cpu / len(ends), "fresh": fresh,
            "largest_fresh": int(len(ends) / minutes * FRESH_SECONDS / 60)}


def main() -> None:
    local = {"AIRFLOW__CORE__EXECUTOR": "LocalExecutor"}
    orders = [f"n11_{demo_slug(number)}_orders" for number in range(1, STORES + 1)]
    minimal = [f"minimal_{number}" for number in range(1, STORES + 1)]
    results = [burst("minimal 4-task DAG, LocalExecutor", minimal, local, workers=0),
               burst("orders DAG, LocalExecutor", orders, local, workers=0),
               burst("orders DAG, CeleryExecutor, 2 workers", orders, {}, workers=2)]
    print(f"{STORES} runs due at once on {CORES} cores; fresh = done within {FRESH_SECONDS} s of falling due")
    print(f"{'variant':<40} {'runs':>4} {'failed':>6} {'burst min':>9} {'tries/min':>9} {'CPU s/run':>9} "
          f"{'fresh':>5} {'largest N fresh':>15}")
    for r in results:
        print(f"{r['name']:<40} {r['runs']:>4} {r['failed']:>6} {r['minutes']:>9.2f} {r['tries_per_minute']:>9.1f} "
              f"{r['cpu_per_run']:>9.2f} {r['fresh']:>5} {r['largest_fresh']:>15}")
    floor, ours = results[0], results[1]
    print(f"orders run CPU / minimal run CPU (LocalExecutor): {ours['cpu_per_run'] / floor['cpu_per_run']:.2f} "
          f"(target 1.3 or less); stores per core at the default schedules: {ours['largest_fresh'] / CORES:.0f}")


if __name__ == "__main__":
    main()
