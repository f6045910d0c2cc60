"""`make airflow`: a local Airflow (`airflow standalone`) on the demo setup, with the UI.

The N11 sandbox serves on a fixed port (``N11_SANDBOX_PORT``, default 8711) for as long as Airflow runs;
the demo store's connections live in Airflow's database (so the UI shows them and the N11 connection's Test
button works), its Variable and pool are set, and the shop database starts empty with its product table
filled. Ctrl-C stops it all.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

from devtools.demo import HOME, airflow, base_env, demo_account, demo_connections, fresh_shop_db
from devtools.sandbox import N11Sandbox, SandboxState

SANDBOX_PORT = int(os.environ.get("N11_SANDBOX_PORT", "8711"))
UI_PORT = int(os.environ.get("AIRFLOW_PORT", "8080"))
LOGIN = ("admin", "admin")


def ui_env() -> dict[str, str]:
    passwords = HOME / "passwords.json"
    passwords.write_text(json.dumps({LOGIN[0]: LOGIN[1]}), encoding="utf-8")
    return {
        **base_env(),
        "AIRFLOW__CORE__TEST_CONNECTION": "Enabled",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{LOGIN[0]}:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
        "AIRFLOW__API__PORT": str(UI_PORT),
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
    }


def prepare(env: dict[str, str], sandbox: N11Sandbox) -> None:
    """Database, connections, Variable, pool and shop products of the demo store."""
    steps = [("db", "migrate")]
    for conn_id, fields in demo_connections(sandbox.url).items():
        steps += [("connections", "delete", conn_id),
                  ("connections", "add", conn_id, "--conn-json", json.dumps(fields))]
    steps += [("variables", "set", "n11_store_demo", '{"active": true, "update_type": "all"}')]
    (HOME / "airflow-setup.log").unlink(missing_ok=True)
    for step in steps:
        airflow(env, *step, log=HOME / "airflow-setup.log")
    subprocess.run([sys.executable, "-m", "include.tasks.pools"], env=env, check=True, stdout=subprocess.DEVNULL)
    fresh_shop_db(sandbox)


def main() -> int:
    HOME.mkdir(exist_ok=True)
    with N11Sandbox(SandboxState([demo_account()]), port=SANDBOX_PORT).start() as sandbox:
        env = ui_env()
        prepare(env, sandbox)
        log = HOME / "standalone.log"
        print(f"N11 sandbox: {sandbox.url}\nAirflow UI:  http://localhost:{UI_PORT}  (login {LOGIN[0]} / {LOGIN[1]})\n"
              f"DAGs: n11_demo_orders, n11_demo_products (paused: unpause them in the UI)\n"
              f"Airflow's output: {log}; Ctrl-C stops Airflow and the sandbox.", flush=True)
        with open(log, "w", encoding="utf-8") as out:
            # Its own process group: standalone starts a scheduler, an API server and more, which must all stop
            # with it, whether this process gets Ctrl-C or a SIGTERM.
            process = subprocess.Popen([sys.executable, "-m", "airflow", "standalone"], env=env, stdout=out,
                                       stderr=subprocess.STDOUT, start_new_session=True)
            signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
            try:
                return process.wait()
            except KeyboardInterrupt:
                return 130
            finally:
                stop_group(process)


def stop_group(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


if __name__ == "__main__":
    sys.exit(main())
