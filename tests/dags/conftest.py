"""Running the store DAGs through Airflow (``dag.test()``) against the sandbox and a shop database: the helpers and
fixtures (``store_env``, ``demo_shop``, ``logged``) are in tests/helpers/dags.py, imported here for this
directory's modules."""

from __future__ import annotations

from tests.helpers.dags import ROOT, load_dag, run_dag, write_registry  # noqa: F401 (imported from here)
