# The two commands of the README: `make demo` (the main job on embedded defaults) and `make test`.
# Both install into .venv first when requirements changed or nothing is installed yet.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export AIRFLOW__CORE__LOAD_EXAMPLES := False

.PHONY: install demo airflow test lint bench services clean

install: $(VENV)/.installed

$(VENV)/.installed: requirements.txt constraints.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt -c constraints.txt
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

demo: install
	$(BIN)/python -m devtools.demo

# A local Airflow with the UI on the demo setup (sandbox, SQLite); prints the URL and login.
airflow: install
	$(BIN)/python -m devtools.local_airflow

lint: install
	$(BIN)/ruff check .

# PostgreSQL and MariaDB must be up: the suite runs the shop database on SQLite, PostgreSQL and MariaDB.
services:
	scripts/start-services.sh

test: install lint services
	$(BIN)/pytest

bench: install services
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .airflow .pytest_cache .ruff_cache
