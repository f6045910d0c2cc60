"""The N11 client against a sandbox without throttling and with quick retries."""

from __future__ import annotations

from devtools.sandbox import N11Sandbox
from n11.client import ClientSettings, N11Client
from tests.helpers.common import TEST_KEY, TEST_SECRET

FAST = ClientSettings(requests_per_minute=60000, backoff_seconds=0.01, backoff_max_seconds=0.02, max_attempts=6,
                      read_timeout=1.0)


def client_for(sandbox: N11Sandbox, secret: str = TEST_SECRET, **settings) -> N11Client:
    options = {**FAST.__dict__, **settings}
    return N11Client(TEST_KEY, secret, sandbox.url, ClientSettings(**options))
