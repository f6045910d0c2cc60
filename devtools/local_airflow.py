"""`make airflow`: a local Airflow (`airflow standalone`) on the demo setup, with the UI.

Every port comes from an environment variable, so two of these can run side by side on one machine (each with
its own Airflow home, ``N11_AIRFLOW_HOME``):

| variable | default | what listens there |
| --- | --- | --- |
| ``AIRFLOW_PORT`` | 8080 | the UI and API server (tasks reach its execution API there too) |
| ``N11_SANDBOX_PORT`` | 8711 | the N11 sandbox |
| ``AIRFLOW_WORKER_LOG_PORT`` | 8793 | the log server of the task workers (the UI reads running tasks' logs) |
| ``AIRFLOW_TRIGGER_LOG_PORT`` | 8794 | the log server of the triggerer |
| ``N11_AIRFLOW_HOME`` | ``.airflow`` | Airflow's home: metadata DB, logs, the shop DB |

The demo store's connections live in Airflow's database (so the UI shows them and the Test button works), its
Variable and pool are set, the shop database starts empty with its product table filled, and the demo store
starts yesterday (a copy of the registry in the Airflow home), so a run the user triggers is not queued behind a
month of catch-up. The UI shows Europe/Istanbul time. Ctrl-C or a SIGTERM stops every process it started.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pendulum
import yaml

from devtools.demo import HOME, ROOT, SLUG, base_env, demo_account, demo_connections, fresh_shop_db
from devtools.processes import port as env_port
from devtools.processes import run_in_foreground, stop_all
from devtools.sandbox import N11Sandbox, SandboxState
from include.registry import TIMEZONE, registry_path

PORTS = {  # variable -> default
    "AIRFLOW_PORT": 8080,
    "N11_SANDBOX_PORT": 8711,
    "AIRFLOW_WORKER_LOG_PORT": 8793,
    "AIRFLOW_TRIGGER_LOG_PORT": 8794,
}
LOGIN = ("admin", "admin")


def port(variable: str) -> int:
    return env_port(variable, PORTS[variable])


def instance_settings(home: Path, api_port: int, trigger_log_port: int) -> dict[str, str]:
    """What one local Airflow on its own ports needs: its API port (tasks call its execution API there, not the
    default port's), the triggerer's log port and the UI login (a passwords file in ``home``)."""
    passwords = home / "passwords.json"
    passwords.write_text(json.dumps({LOGIN[0]: LOGIN[1]}), encoding="utf-8")
    return {
        "N11_AIRFLOW_HOME": str(home),  # marks every process of this instance (the stop tests look for it)
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{LOGIN[0]}:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
        "AIRFLOW__CORE__TEST_CONNECTION": "Enabled",
        "AIRFLOW__API__PORT": str(api_port),
        "AIRFLOW__API__BASE_URL": f"http://localhost:{api_port}",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://localhost:{api_port}/execution/",
        "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(trigger_log_port),
    }


def ui_env() -> dict[str, str]:
    """Airflow's settings: the ports of this instance, the UI login, Istanbul time in the UI."""
    return {
        **base_env(),
        **instance_settings(HOME, port("AIRFLOW_PORT"), port("AIRFLOW_TRIGGER_LOG_PORT")),
        "N11_STORES_FILE": str(demo_registry()),
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(port("AIRFLOW_WORKER_LOG_PORT")),
        "AIRFLOW__N11__UI_TIMEZONE": os.environ.get("AIRFLOW__N11__UI_TIMEZONE", TIMEZONE),
        # The DAG's Details page shows [core] default_timezone, not the DAG's own zone (Airflow 3.3's details route
        # keeps DagModel.timezone, which is that setting): the store DAGs' zone is made the default.
        "AIRFLOW__CORE__DEFAULT_TIMEZONE": TIMEZONE,
    }


def demo_registry(home: Path | None = None, stores: int = 1) -> Path:
    """The registry with the demo store starting yesterday (Istanbul): catch-up is one day, not a month; with
    ``stores`` above 1, copies of it (``demo_2`` ...) beside it. ``N11_STORES_FILE`` names the user's own instead.

    To catch up deliberately, backfill (docs/OPERATIONS.md) or point ``N11_STORES_FILE`` at your own registry.
    """
    if os.environ.get("N11_STORES_FILE"):
        return registry_path()
    data = yaml.safe_load(registry_path().read_text(encoding="utf-8"))
    demo = next(entry for entry in data["stores"] if entry.get("slug") == SLUG)
    demo["start_date"] = pendulum.now(TIMEZONE).subtract(days=1).to_date_string()
    data["stores"] = [*data["stores"], *({**demo, "slug": demo_slug(number), "name": f"{demo['name']} {number}"}
                                         for number in range(2, stores + 1))]
    copy = (home or HOME) / "stores.yaml"
    copy.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return copy


def demo_slug(number: int) -> str:
    """The demo stores' slugs: ``demo``, ``demo_2``, ``demo_3`` ..."""
    return SLUG if number == 1 else f"{SLUG}_{number}"


def set_up(env: dict[str, str], log: Path, *steps: tuple[str, ...]) -> None:
    """`airflow db migrate`, the given CLI steps, then the stores' pools (include.cli.pools), in one process."""
    steps = (("db", "migrate"), *steps)
    with open(log, "a", encoding="utf-8") as out:
        done = subprocess.run([sys.executable, "-m", "devtools.airflow_steps", json.dumps(steps)],
                              env=env, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT, check=False)
    if done.returncode:
        raise SystemExit(f"setting up Airflow ({', '.join(' '.join(s[:2]) for s in steps)}, pools) failed: see {log}")


def prepare(env: dict[str, str], sandbox: N11Sandbox) -> None:
    """Database, connections, Variable, pool and shop products of the demo store."""
    log = HOME / "airflow-setup.log"
    log.unlink(missing_ok=True)
    connections = HOME / "connections.json"
    connections.write_text(json.dumps(demo_connections(sandbox.url)), encoding="utf-8")
    variables = HOME / "variables.json"
    variables.write_text(json.dumps({f"n11_store_{SLUG}": {"active": True, "update_type": "all"}}), encoding="utf-8")
    try:
        set_up(env, log, ("connections", "import", "--overwrite", str(connections)),
               ("variables", "import", str(variables)))
    finally:
        connections.unlink(missing_ok=True)  # holds the demo secret
    fresh_shop_db(sandbox)


# Unpausing a products DAG starts its latest scheduled run, a real push (here to the sandbox), before a dry run
# triggered with the form's "Unpause on trigger" ticked.
DRY_RUN_HINT = (f"A products dry run while n11_{SLUG}_products is paused: set the Variable n11_store_{SLUG} to "
                '{"product_sync": false} first, or unpausing pushes before it (docs/OPERATIONS.md, "A dry run")')


def main() -> int:
    HOME.mkdir(parents=True, exist_ok=True)
    run_in_foreground()  # Ctrl-C and SIGTERM end in the `finally` below
    process = None
    api_port = port("AIRFLOW_PORT")
    try:
        with N11Sandbox(SandboxState([demo_account()]), port=port("N11_SANDBOX_PORT")).start() as sandbox:
            env = ui_env()
            prepare(env, sandbox)
            log = HOME / "standalone.log"
            print(f"N11 sandbox: {sandbox.url}\nAirflow UI:  http://localhost:{api_port}  "
                  f"(login {LOGIN[0]} / {LOGIN[1]})\nAirflow home: {HOME}\n"
                  f"DAGs: n11_{SLUG}_orders, n11_{SLUG}_products (paused: unpause them in the UI)\n"
                  f"{DRY_RUN_HINT}\n"
                  f"Airflow's output: {log}; Ctrl-C stops Airflow and the sandbox.", flush=True)
            with open(log, "w", encoding="utf-8") as out:
                # Its own process group, so that one signal reaches the scheduler, the API server and the rest.
                process = subprocess.Popen([sys.executable, "-m", "airflow", "standalone"], env=env, stdout=out,
                                           stderr=subprocess.STDOUT, start_new_session=True)
                return process.wait()
    except KeyboardInterrupt:
        return 130
    finally:
        stop_all([process] if process is not None else [])


if __name__ == "__main__":
    sys.exit(main())
