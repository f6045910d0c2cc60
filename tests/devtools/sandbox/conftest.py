"""Fixtures for the sandbox tests: sandboxes over fixed demo data, HTTP helpers that keep decimals exact."""

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import requests

from devtools.sandbox import (
    DEMO_API_KEY,
    DEMO_API_SECRET,
    Account,
    N11Sandbox,
    SandboxState,
    generate_account,
    wire,
)

DEMO_END = datetime(2025, 6, 1, tzinfo=UTC)
CREDENTIALS = {"appkey": DEMO_API_KEY, "appsecret": DEMO_API_SECRET}


class Api:
    """Requests to one sandbox with fixed headers; bodies go out through wire.dumps to keep exact decimals."""

    def __init__(self, sandbox: N11Sandbox, headers: dict[str, str]) -> None:
        self.sandbox = sandbox
        self.session = requests.Session()
        self.session.headers.update(headers)

    def get(self, path: str, **params: Any) -> requests.Response:
        return self.session.get(self.sandbox.url + path, params=params, timeout=10)

    def post(self, path: str, body: Any) -> requests.Response:
        data = body if isinstance(body, str | bytes) else wire.dumps(body)
        return self.session.post(
            self.sandbox.url + path, data=data, headers={"Content-Type": "application/json"}, timeout=10
        )


@pytest.fixture(scope="session")
def demo_end() -> datetime:
    return DEMO_END


@pytest.fixture
def start_sandbox() -> Iterator[Callable[..., N11Sandbox]]:
    """Start sandboxes over a fresh demo account (or a given one) with SandboxState options; stop after."""
    started: list[N11Sandbox] = []

    def start(account: Account | None = None, **options: Any) -> N11Sandbox:
        account = account or generate_account(seed=7, end=DEMO_END)
        started.append(N11Sandbox(SandboxState([account], **options)).start())
        return started[-1]

    yield start
    for sandbox in started:
        sandbox.stop()


@pytest.fixture
def sandbox(start_sandbox: Callable[..., N11Sandbox]) -> N11Sandbox:
    return start_sandbox()


@pytest.fixture
def account(sandbox: N11Sandbox) -> Account:
    return sandbox.state.account(DEMO_API_KEY)


@pytest.fixture
def connect() -> Callable[..., Api]:
    """An Api on any sandbox, with the demo credentials unless headers are given."""
    return lambda sandbox, headers=CREDENTIALS: Api(sandbox, headers)


@pytest.fixture
def api(sandbox: N11Sandbox) -> Api:
    return Api(sandbox, CREDENTIALS)


@pytest.fixture
def api_for(sandbox: N11Sandbox) -> Callable[..., Api]:
    """An Api with exactly the given headers, e.g. api_for(appkey="demo-appkey") to leave out the secret."""
    return lambda **headers: Api(sandbox, headers)
