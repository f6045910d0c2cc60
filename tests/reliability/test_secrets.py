"""The API secret leaks nowhere: after a demo-like run of both DAGs through Airflow (the SOAP services' reads and
writes among it, whose bodies carry the secret to N11), it is in no task log, no
XCom value, no rendered template field, no table of the shop database and none of the captured output.
(The output is also checked for every test by the guard in tests/conftest.py.)"""

from __future__ import annotations

import os
from pathlib import Path

import pendulum
import pytest
from sqlalchemy import MetaData, select

from tests.conftest import TEST_SECRET
from tests.helpers.dags import airflow_values, run_dag, run_products
from tests.helpers.reliability import record
from tests.helpers.returns import after_sale_waiting, operations

pytestmark = pytest.mark.dags


def test_a_full_run_leaves_the_secret_in_no_log_xcom_rendered_field_shop_table_or_output(
        demo_shop, sandbox, capfd, caplog):
    today = pendulum.now("Europe/Istanbul").start_of("day")
    after_sale_waiting(sandbox, demo_shop, today.subtract(minutes=30))  # the SOAP bodies carry the secret too
    assert run_dag("n11_shop1_orders", logical_date=today)["_run"] == "success"
    assert run_products()["_run"] == "success"
    assert operations(sandbox, "ClaimReturnApprove") and operations(sandbox, "SaveLinkSellerInvoice")

    home = Path(os.environ["AIRFLOW_HOME"])
    logs = [path for path in (home / "logs").rglob("*") if path.is_file()] if (home / "logs").exists() else []
    xcoms = airflow_values(home / "airflow.db", "xcom")
    rendered = airflow_values(home / "airflow.db", "rendered_task_instance_fields")
    tables = MetaData()
    tables.reflect(demo_shop)
    with demo_shop.connect() as conn:
        shop_values = [str(v) for table in tables.sorted_tables for row in conn.execute(select(table)) for v in row]
    output = capfd.readouterr()
    texts = {"task logs": [p.read_text(errors="replace") for p in logs], "xcom": xcoms,
             "rendered fields": rendered, "shop db": shop_values, "output": [output.out, output.err, caplog.text]}

    assert xcoms and rendered and shop_values  # the scan saw what the runs wrote
    leaks = {where: sum(TEST_SECRET in text for text in found) for where, found in texts.items()}
    assert leaks == dict.fromkeys(texts, 0)
    for raw in (home / "airflow.db", Path(demo_shop.url.database)):  # deleted rows too
        assert TEST_SECRET.encode() not in raw.read_bytes()
    record("secrets scan", log_files=len(logs), xcom_values=len(xcoms), rendered_values=len(rendered),
           shop_values=len(shop_values), output_chars=sum(map(len, texts["output"])), secret_found=0)

