# The two commands of the README: `make demo` (the main job on embedded defaults) and `make test`.
# Both install into .venv first when requirements changed or nothing is installed yet.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export AIRFLOW__CORE__LOAD_EXAMPLES := False

.PHONY: install demo airflow cluster test test-quick test-cluster soak lint bench services browser redis clean

install: $(VENV)/.installed

# uv installs the pinned set (constraints.txt, the same packages pip would) in a third of pip's time: 9 s instead of
# 33 s for a fresh .venv here, which `make test` on a clean clone pays every time. Unlike pip it compiles no bytecode
# unless asked: without it every process the suite starts (xdist workers, Airflow's, each task's) compiles Airflow
# from source again where PYTHONDONTWRITEBYTECODE is set, as on this machine (13 s more here, saved several times).
# The .venv has no pip of its own (seeding one costs 5 s): the system's pip puts uv there, `.venv/bin/uv pip` does the rest.
UV := uv==0.13.10
UV_INSTALL = $(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python

$(VENV)/.installed: requirements.txt constraints.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv --without-pip $(VENV)
	$(PYTHON) -m pip --python $(BIN)/python install --quiet $(UV)
	$(UV_INSTALL) -r requirements.txt -c constraints.txt
	$(UV_INSTALL) --no-deps -e .
	touch $@

demo: install
	$(BIN)/python -m devtools.demo

# A local Airflow with the UI on the demo setup (sandbox, SQLite); prints the URL and login. Its ports and home:
# AIRFLOW_PORT (8080), N11_SANDBOX_PORT (8711), AIRFLOW_WORKER_LOG_PORT (8793), AIRFLOW_TRIGGER_LOG_PORT (8794),
# N11_AIRFLOW_HOME (.airflow), e.g. `AIRFLOW_PORT=8090 N11_SANDBOX_PORT=8721 ... make airflow` beside another.
airflow: install
	$(BIN)/python -m devtools.local_airflow

# docker-compose.yaml's layout without Docker: Redis, PostgreSQL (metadata and shop databases on 127.0.0.1:5432),
# api-server, scheduler, dag-processor, triggerer and CLUSTER_WORKERS Celery workers on CLUSTER_STORES demo stores;
# prints the URL and login. Ports: free ones unless CLUSTER_AIRFLOW_PORT ... say otherwise (devtools/cluster.py).
CLUSTER_WORKERS ?= 2
export CLUSTER_WORKERS
cluster: install services redis
	$(BIN)/python -m devtools.cluster

lint: install
	$(BIN)/ruff check .

# PostgreSQL and MariaDB must be up: the suite runs the shop database on SQLite, PostgreSQL and MariaDB.
services:
	scripts/start-services.sh

# Chromium for the browser test of the UI (tests/ui/), from Debian's packages when missing.
browser:
	scripts/install-browser.sh

# redis-server for `make cluster` and its test, from Debian's packages when missing (its own instance is started).
redis:
	scripts/install-redis.sh

# The whole suite on TEST_WORKERS pytest-xdist workers: 4 on this 2-core machine, as many tests wait on something
# (database fsyncs on PostgreSQL and MariaDB, the sandbox's HTTP, Airflow's own processes). Measured on the suite:
# 2 workers 343 s, 3 about 320 s, 4 286 s, 6 304 s. The tests that start Airflow's processes (`make airflow` for the
# browser and its stop checks, the scheduler e2e) share one worker (xdist_group "airflow_processes": two Airflows at
# once cost more CPU than they save), the dag.test() runs another (tests/conftest.py); they start first, every other
# test goes to whichever worker is free. The cluster e2e runs with `make test-cluster`.
TEST_WORKERS ?= 4
PYTEST_XDIST = -n $(TEST_WORKERS) --dist loadgroup
# The tests' own modules and the project's are compiled once, not by every process (Python ignores an empty value).
test test-quick test-cluster soak: export PYTHONDONTWRITEBYTECODE :=

test: install lint services browser
	$(BIN)/pytest $(PYTEST_XDIST)

# The inner loop: the code without Airflow running it (no dag.test() run, no end-to-end run, no Airflow process, no
# browser, no slow test); the shop database on SQLite. `make test` runs everything.
test-quick: install services
	N11_TEST_DATABASES=sqlite $(BIN)/pytest $(PYTEST_XDIST) \
		-m "not soak and not cluster and not dags and not scheduler and not local_airflow and not browser and not slow"

# The soak check left out of `make test`: `make airflow` stopped five times in a row by Ctrl-C or SIGTERM.
soak: install
	$(BIN)/pytest -m soak

# `make cluster` for real, left out of `make test` (the suite's five minutes): CeleryExecutor with two workers on ten
# stores, a worker SIGKILLed mid-task and its task retried on the other (tests/e2e/test_cluster.py, about 95 s).
test-cluster: install services redis
	$(BIN)/pytest -m cluster

bench: install services redis
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .airflow .pytest_cache .ruff_cache
