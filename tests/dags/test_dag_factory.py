"""The DAG file: two DAGs per registry store, built from the registry alone, fast and fault-isolated."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import timedelta

import pendulum
import pytest
from airflow.timetables.base import DataInterval, TimeRestriction
from airflow.timetables.interval import CronDataIntervalTimetable
from airflow.timetables.trigger import CronTriggerTimetable
from croniter import CroniterBadDateError

from include.registry import parse_store
from tests.dags.conftest import ROOT, load_dag
from tests.helpers.dags import registry_of

TZ = "Europe/Istanbul"

pytestmark = pytest.mark.dags


def bag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(str(ROOT / "dags"))


def test_two_hundred_stores_make_four_hundred_dags(tmp_path, monkeypatch):
    registry_of(tmp_path, monkeypatch, 200)
    dags = bag()
    assert dags.import_errors == {}
    expected = {f"n11_store_{i:03d}_{kind}" for i in range(200) for kind in ("orders", "products")}
    assert set(dags.dag_ids) == expected


def test_a_broken_entry_leaves_the_other_stores_loaded_and_shows_itself(tmp_path, monkeypatch):
    registry_of(tmp_path, monkeypatch, 200, broken={"update_type": "kampanya"})
    dags = bag()
    assert dags.import_errors == {}
    store_dags = [d for d in dags.dag_ids if not d.startswith("n11_registry_error")]
    assert len(store_dags) == 398
    assert "n11_store_100_orders" not in dags.dag_ids
    error_dag = dags.dags["n11_registry_error_101_store_100"]
    assert "registry-error" in error_dag.tags
    for text in ("store 'store_100'", "update_type", "'kampanya'"):
        assert text in error_dag.description and text in error_dag.doc_md


def test_the_orders_dag_runs_on_real_data_intervals_in_istanbul_time(tmp_path, monkeypatch):
    registry_of(tmp_path, monkeypatch, 1)
    dag = load_dag("n11_store_000_orders")
    assert isinstance(dag.timetable, CronDataIntervalTimetable)
    assert dag.timetable.summary == "*/15 * * * *"  # the default: new orders reach the shop within minutes
    assert str(dag.timezone.name) == "Europe/Istanbul"
    assert dag.catchup is True
    assert [t.task_id for t in dag.topological_sort()][:2] == ["gate", "check_credentials"]
    assert dag.default_args["retries"] == 3
    assert dag.get_task("check_credentials").retries == 3  # refused credentials fail at once all the same
    assert {"n11", "orders", "store:store_000"} <= set(dag.tags)
    assert "| update_type | all |" in dag.doc_md


def test_a_failed_try_waits_longer_before_each_retry(tmp_path, monkeypatch):
    """Airflow 3 reads retry_exponential_backoff as the factor of each wait over the last: True is 1, no backoff."""
    registry_of(tmp_path, monkeypatch, 1)
    for dag_id in ("n11_store_000_orders", "n11_store_000_products"):
        gate = load_dag(dag_id).get_task("gate")
        assert gate.retry_delay == timedelta(minutes=1) and gate.retry_exponential_backoff == 2


def test_every_task_of_a_store_shares_its_pool(tmp_path, monkeypatch):
    registry_of(tmp_path, monkeypatch, 2)
    for kind in ("orders", "products"):
        assert {t.pool for t in load_dag(f"n11_store_001_{kind}").tasks} == {"n11_store_001"}


def test_the_products_dag_runs_one_at_a_time(tmp_path, monkeypatch):
    registry_of(tmp_path, monkeypatch, 1)
    dag = load_dag("n11_store_000_products")
    assert dag.max_active_runs == 1 and dag.catchup is False
    assert [t.task_id for t in dag.topological_sort()][:2] == ["gate", "check_credentials"]


def test_a_task_process_builds_only_its_own_dag(tmp_path, monkeypatch):
    registry_of(tmp_path, monkeypatch, 50)
    monkeypatch.setenv("_AIRFLOW_PARSING_CONTEXT_DAG_ID", "n11_store_007_products")
    assert bag().dag_ids == ["n11_store_007_products"]


def test_import_reads_no_variable_and_no_connection(tmp_path, monkeypatch):
    from airflow.sdk import BaseHook, Variable

    def forbidden(*args, **kwargs):
        raise AssertionError("the DAG file must not read Variables or connections at import")

    monkeypatch.setattr(Variable, "get", forbidden)
    monkeypatch.setattr(BaseHook, "get_connection", forbidden)
    registry_of(tmp_path, monkeypatch, 3)
    assert bag().import_errors == {}


# What a parse must not pay for: the domain code's libraries load when a task runs, not when the DAG file parses.
HEAVY = ("pandas", "numpy", "requests", "tenacity", "sqlalchemy.dialects", "n11", "include.orders", "include.products")


def test_importing_the_dag_file_loads_no_domain_library(tmp_path, monkeypatch):
    """In a fresh interpreter, after Airflow's own imports (which bring SQLAlchemy's dialects for its metadata
    database), the DAG file adds none of pandas, requests, SQLAlchemy's dialects or the domain code."""
    registry_of(tmp_path, monkeypatch, 3)
    script = (
        "import importlib.util, json, sys\n"
        "import airflow.sdk, airflow.timetables.interval, airflow.timetables.trigger, pendulum\n"
        "before = set(sys.modules)\n"
        f"spec = importlib.util.spec_from_file_location('n11_stores', {str(ROOT / 'dags' / 'n11_stores.py')!r})\n"
        "module = importlib.util.module_from_spec(spec)\n"
        "spec.loader.exec_module(module)\n"
        "print(json.dumps(sorted(set(sys.modules) - before)))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    added = json.loads(done.stdout.strip().splitlines()[-1])
    assert "include.tasks.products" in added  # the task modules themselves are loaded
    assert [name for name in added if name.startswith(HEAVY)] == []


def _lol_levels() -> list[str]:
    """A YAML alias bomb's anchors: nine levels of nine aliases (9**9 strings expanded; under 500 bytes)."""
    return ['&a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
            *(f"&a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 9))]


# Each broken entry (YAML text) with how its error must name it: the store (None: the slug itself is broken,
# so the entry's position names it) and the field or the problem.
BROKEN_ENTRIES = [
    ("{slug: feb30, name: F, start_date: 2026-02-30}", "store 'feb30'", "field 'start_date' must be"),
    ("{slug: year1, name: Y, start_date: 0001-01-01}", "store 'year1'", "field 'start_date' must be"),
    ("{slug: far, name: Y, start_date: 2101-01-01}", "store 'far'", "field 'start_date' must be"),
    (f"{{slug: {'s' * 65}, name: S, start_date: 2026-01-01}}", None, "field 'slug' must be"),
    (f"{{slug: longname, name: {'N' * 256}, start_date: 2026-01-01}}", "store 'longname'", "field 'name' must be"),
    (f"{{slug: longurl, name: U, start_date: 2026-01-01, store_url: 'https://n11.com/{'u' * 490}'}}",
     "store 'longurl'", "field 'store_url' must be"),
    ("{slug: sqlsource, name: Q, start_date: 2026-01-01, products_source: 'p; DROP TABLE n11_orders'}",
     "store 'sqlsource'", "field 'products_source' must be"),
    (f"{{slug: longsource, name: Q, start_date: 2026-01-01, products_source: {'t' * 129}}}",
     "store 'longsource'", "field 'products_source' must be"),
    ("{slug: seconds, name: C, start_date: 2026-01-01, orders_schedule: '* * * * * *'}", "store 'seconds'",
     "field 'orders_schedule' must be"),
    ("{slug: reboot, name: R, start_date: 2026-01-01, products_schedule: '@reboot'}", "store 'reboot'",
     "field 'products_schedule' must be"),
    ("{slug: bomb, start_date: 2026-01-01, name: [" + ", ".join(_lol_levels()) + "]}", "store 'bomb'",
     "field 'name' must be"),
    ("{slug: deep, name: D, start_date: 2026-01-01, notify: " + "[" * 900 + "]" * 900 + "}", "store 'deep'",
     "field 'notify' must be"),
    (f"{{slug: bigint, name: B, start_date: 2026-01-01, pool_slots: {'9' * 5000}}}", "store 'bigint'",
     "field 'pool_slots' must be"),
    ("{slug: markup, name: M, start_date: 2026-01-01, price_markup_percent: -100}", "store 'markup'",
     "field 'price_markup_percent' must be"),
    ("{slug: mail, name: M, start_date: 2026-01-01, notify: {email: [ops]}}", "store 'mail'",
     "field 'notify.email' must be"),
    ("not a mapping", None, "an entry must be a mapping"),
]


def test_one_good_store_among_every_kind_of_broken_entry_keeps_its_dags(tmp_path, monkeypatch):
    entries = ["{slug: good, name: Good, start_date: 2026-01-01}", *(entry for entry, _, _ in BROKEN_ENTRIES)]
    path = tmp_path / "stores.yaml"
    path.write_text("stores:\n" + "".join(f"  - {entry}\n" for entry in entries), encoding="utf-8")
    monkeypatch.setenv("N11_STORES_FILE", str(path))
    dags = bag()
    assert dags.import_errors == {}
    errors = sorted((d for d in dags.dags.values() if "registry-error" in d.tags), key=lambda d: d.dag_id)
    assert set(dags.dag_ids) - {d.dag_id for d in errors} == {"n11_good_orders", "n11_good_products"}
    assert len(errors) == len(BROKEN_ENTRIES)
    by_entry = {int(d.dag_id.split("_")[3]): d for d in errors}
    for index, (_, store, problem) in enumerate(BROKEN_ENTRIES, start=2):
        description = by_entry[index].description
        assert len(description) < 1000 and len(by_entry[index].doc_md) < 1200
        label = f"{store} (entry {index})" if store else f"entry {index}"
        assert f"BROKEN store registry entry: {label}: {problem}" in description, description


@pytest.mark.parametrize(("content", "problem"), [
    ("\x00 this is not YAML: [", "cannot be read"),
    ("stores: {a: 1}", "must hold a 'stores:' list"),
    ("defaults: [shop_conn_id]\nstores: [{slug: a, name: A, start_date: 2026-01-01}]", "'defaults'"),
])
def test_a_registry_file_that_cannot_be_used_becomes_one_error_dag(tmp_path, monkeypatch, content, problem):
    path = tmp_path / "stores.yaml"
    path.write_text(content, encoding="utf-8")
    monkeypatch.setenv("N11_STORES_FILE", str(path))
    dags = bag()
    assert dags.import_errors == {}
    assert dags.dag_ids == ["n11_registry_error"]
    error_dag = dags.dags["n11_registry_error"]
    assert error_dag.description.startswith(f"BROKEN store registry file: store registry {path}")
    assert problem in error_dag.description and "registry-error" in error_dag.tags


def _run_gap_seconds(timetable) -> float:
    """Seconds between the first two runs Airflow's timetable schedules from 2026-01-01."""
    timetable.validate()
    restriction = TimeRestriction(earliest=pendulum.datetime(2026, 1, 1, tz=TZ), latest=None, catchup=True)
    first = timetable.next_dagrun_info(last_automated_data_interval=None, restriction=restriction)
    second = timetable.next_dagrun_info(
        last_automated_data_interval=DataInterval(first.data_interval.start, first.run_after), restriction=restriction)
    return (second.run_after - first.run_after).total_seconds()


@pytest.mark.parametrize("schedule", ["*/15 * * * *", "* * * * *", "0 0 * * *", "30 2 * * 1-5", "0 0 L * *",
                                      "0 0 * * 5#2", "0 0 ? * *", "0 12 1 JAN MON", "@hourly", "@daily",
                                      "@weekly", "@monthly", "@quarterly", "@yearly"])
def test_every_schedule_the_registry_accepts_runs_on_airflows_timetables_a_minute_apart_or_more(schedule):
    store = parse_store({"slug": "s", "name": "S", "start_date": "2026-01-01", "orders_schedule": schedule,
                         "products_schedule": schedule})
    assert _run_gap_seconds(CronDataIntervalTimetable(store.orders_schedule, timezone=TZ)) >= 60
    assert _run_gap_seconds(CronTriggerTimetable(store.products_schedule, timezone=TZ)) >= 60


def test_what_the_registry_refuses_airflow_would_run_every_second_or_fail_to_schedule():
    """Why the registry checks schedules itself: Airflow takes a sixth cron field as seconds, and accepts a
    cron that matches no date, failing only when it schedules."""
    assert _run_gap_seconds(CronDataIntervalTimetable("* * * * * *", timezone=TZ)) == 1
    with pytest.raises(CroniterBadDateError):
        _run_gap_seconds(CronDataIntervalTimetable("0 0 31 2 *", timezone=TZ))
