"""Buyers' personal data stays in the shop tables: after an orders run through Airflow that loads the sandbox's
orders and a return claim (its buyer's name, e-mail and phone), and one that fails on a bad package, no phone, TC
or tax id, e-mail, name or address line of any buyer appears in a task log, an XCom value, a rendered template
field, or the captured output (the error included); the shop database holds them (the scan's positive control)."""

from __future__ import annotations

import os
from pathlib import Path

import pendulum
import pytest
from sqlalchemy import MetaData, create_engine, select

from include.shop_db import url_for
from tests.conftest import TEST_KEY
from tests.helpers.dags import airflow_values, run_dag
from tests.helpers.reliability import record
from tests.helpers.returns import after_sale_waiting
from tests.helpers.returns import personal_values as claimants

pytestmark = pytest.mark.dags
ADDRESS_FIELDS = ("fullName", "address", "gsm", "tcId", "taxId")


def personal_values(packages: list[dict]) -> set[str]:
    """Every buyer's e-mail, name, address line, phone and TC/tax id in the packages."""
    found = set()
    for package in packages:
        found |= {package["customerEmail"], package["customerfullName"]}
        for address in (package["billingAddress"], package["shippingAddress"]):
            found |= {address[field] for field in ADDRESS_FIELDS}
    return {str(value) for value in found if value}


def test_personal_data_reaches_the_shop_tables_and_no_log_xcom_rendered_field_message_or_output(
        store_env, sandbox, capfd, caplog):
    shop = store_env(orders_schedule="0 0 * * *")
    today = pendulum.now("Europe/Istanbul").start_of("day")
    account = sandbox.state.account(TEST_KEY)
    after_sale_waiting(sandbox, create_engine(url_for(shop)), today.subtract(hours=1))  # a claim: its buyer's contact
    assert run_dag("n11_shop1_orders", logical_date=today)["_run"] == "success"
    loaded = account.expected_orders(0, 2**62)
    recent = int(today.subtract(hours=2).timestamp() * 1000)
    bad = next(p for p in account.packages if p["lastModifiedDate"] >= recent
               and not p.get("_parent"))
    bad["_shown"] = {"shipmentPackageStatus": "Returned"}  # N11 sends a status it does not document
    assert run_dag("n11_shop1_orders", logical_date=today.add(days=1))["load_orders"] == "failed"

    engine = create_engine(url_for(shop))
    tables = MetaData()
    tables.reflect(engine)
    with engine.connect() as conn:
        shop_values = {str(v) for table in tables.sorted_tables for row in conn.execute(select(table)) for v in row}
    engine.dispose()
    home = Path(os.environ["AIRFLOW_HOME"])
    logs = [path for path in (home / "logs").rglob("*") if path.is_file()] if (home / "logs").exists() else []
    output = capfd.readouterr()
    texts = {"task logs": [p.read_text(errors="replace") for p in logs],
             "xcom": airflow_values(home / "airflow.db", "xcom"),
             "rendered fields": airflow_values(home / "airflow.db", "rendered_task_instance_fields"),
             "output and messages": [output.out, output.err, caplog.text]}
    assert "is not an N11 status" in output.out + caplog.text  # the failure's message was scanned too

    personal = personal_values(loaded) | claimants(account)
    stored = personal & shop_values
    assert len(stored) > 10 and claimants(account) <= stored  # the shop got them, the claim's buyer too
    leaks = {where: sorted(value for value in stored if any(value in text for text in found))
             for where, found in texts.items()}
    assert leaks == dict.fromkeys(texts, [])
    record("personal data scan", values=len(stored), log_files=len(logs), xcom_values=len(texts["xcom"]),
           found=0)
