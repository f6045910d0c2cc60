"""`python -m devtools.sandbox` serves the demo account, prints its URL and key (never the secret), under either
reading of N11's order date filter."""

import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from devtools.sandbox import DEMO_API_KEY, DEMO_API_SECRET

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize("reading", ["modified", "created"])
def test_serves_the_demo_account_until_terminated(reading):
    process = subprocess.Popen(
        [sys.executable, "-m", "devtools.sandbox", "--port", "0", "--seed", "1", "--order-date-filter", reading],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        banner = process.stdout.readline()
        url = re.search(r"http://127\.0\.0\.1:\d+", banner).group(0)
        answer = requests.get(
            f"{url}/ms/product-query",
            params={"size": 1},
            headers={"appkey": DEMO_API_KEY, "appsecret": DEMO_API_SECRET},
            timeout=10,
        )
        assert answer.status_code == 200 and answer.json()["totalElements"] == 300
        assert DEMO_API_KEY in banner and DEMO_API_SECRET not in banner
        assert f"orderByField filters {'creation' if reading == 'created' else 'last modification'}" in banner
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
