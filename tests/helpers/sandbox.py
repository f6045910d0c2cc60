"""Talking to the sandbox as a client does in the sandbox's own tests: write tasks submitted and polled until they
leave the queue; how a split package shares out its parent's items; sandboxes started for a test and stopped
after it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from devtools.sandbox import Account, N11Sandbox, SandboxState, wire
from devtools.sandbox.rules import canonical_status

DETAILS = "/ms/product/task-details/page-query"


def payload(*skus: dict) -> dict:
    return {"payload": {"integrator": "n11-airflow-tests", "skus": list(skus)}}


def submit(api, path: str, *skus: dict) -> dict:
    answer = api.post(path, payload(*skus))
    assert answer.status_code == 200
    return wire.loads(answer.content)


def poll(api, task_id: int, page: int = 0, size: int = 1000) -> dict:
    answer = api.post(DETAILS, {"taskId": task_id, "pageable": {"page": page, "size": size}})
    assert answer.status_code == 200
    return wire.loads(answer.content)


def finished(api, task_id: int) -> dict:
    """Poll until the task leaves the queue (the default sandbox queues for one poll)."""
    for _ in range(5):
        details = poll(api, task_id)
        if details["status"] != "IN_QUEUE":
            return details
    raise AssertionError(f"task {task_id} never left the queue")


def split_children(account, parent: dict) -> list[dict]:
    """The packages a split made of ``parent``: its order's packages created at the split."""
    split_ms = parent["lastModifiedDate"]
    return [
        p for p in account.package(parent["orderNumber"]) if p is not parent and p["_created"] == split_ms
    ]


def check_split(account, parent: dict) -> str:
    """A split leaves each item once among the children: by product, the parent's lines shared out; by
    quantity, the same items under new line ids, the cancelled ones in an UnSupplied sibling. Returns which."""
    children = split_children(account, parent)
    assert len(children) == 2 and all(child["id"] > parent["id"] for child in children)
    parent_ids = sorted(line["orderLineId"] for line in parent["lines"])
    child_lines = [line for child in children for line in child["lines"]]
    if sorted(line["orderLineId"] for line in child_lines) == parent_ids:
        return "by product"
    assert not set(parent_ids) & {line["orderLineId"] for line in child_lines}
    items = Counter()
    for line in child_lines:
        items[line["stockCode"]] += line["quantity"]
    assert items == Counter({line["stockCode"]: line["quantity"] for line in parent["lines"]})
    assert "UnSupplied" in {canonical_status(child["shipmentPackageStatus"]) for child in children}
    return "by quantity"


@contextmanager
def sandboxes(make_account: Callable[[], Account], **defaults) -> Iterator[Callable[..., N11Sandbox]]:
    """``start(account=None, **options)`` starts a sandbox over the account (``make_account()`` unless given) with
    SandboxState options (``defaults`` where not given); every one started is stopped when the block ends."""
    started: list[N11Sandbox] = []

    def start(account: Account | None = None, **options) -> N11Sandbox:
        started.append(N11Sandbox(SandboxState([account or make_account()], **{**defaults, **options})).start())
        return started[-1]

    try:
        yield start
    finally:
        for sandbox in started:
            sandbox.stop()
