"""The test account's credentials, the shop databases under test, and an Airflow-style connection.

Importing this sets nothing and imports no Airflow (tests/conftest.py imports it before it sets ``AIRFLOW_HOME``).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# A secret no output may ever show: pytest_runtest_makereport fails any test whose output contains it.
TEST_SECRET = "s3cr3t-NEVER-PRINT-7f3a9c"
TEST_KEY = "test-appkey"
DATABASES = os.environ.get("N11_TEST_DATABASES", "sqlite,postgres,mariadb").split(",")


@dataclass
class Conn:
    """An Airflow-style connection (the attributes ``include.shop_db`` reads)."""

    conn_id: str
    conn_type: str
    host: str | None = None
    login: str | None = None
    password: str | None = None
    port: int | None = None
    schema: str | None = None
    extra_json: str | None = None

    def env(self) -> dict[str, str]:
        """The environment variable that defines this connection for Airflow."""
        fields = {k: v for k, v in asdict(self).items() if k not in ("conn_id", "extra_json") and v is not None}
        if self.extra_json:
            fields["extra"] = self.extra_json
        return {f"AIRFLOW_CONN_{self.conn_id.upper()}": json.dumps(fields)}


def make_state(**options):
    """A sandbox state of one small test account (key TEST_KEY, secret TEST_SECRET) with SandboxState options."""
    from devtools.sandbox import SandboxState, generate_account

    account = generate_account(seed=7, api_key=TEST_KEY, api_secret=TEST_SECRET, products=60, days=3,
                               packages_per_day=5)
    return SandboxState([account], **options)
