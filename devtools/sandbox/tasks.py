"""N11's asynchronous product writes (/ms/product/tasks/*, /ms/product/task-details): a write is only a receipt;
N11 processes the task on its own time, and the client learns each SKU's fate by polling the task's details."""

import copy
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from devtools.sandbox import catalog, paging, rules
from devtools.sandbox.accounts import Account, WriteTask
from devtools.sandbox.errors import ApiError
from devtools.sandbox.wire import ISTANBUL, task_date

if TYPE_CHECKING:  # for hints only: state.py imports this module, as SandboxState runs the queued tasks
    from devtools.sandbox.state import SandboxState


def submit(kind: str, state: "SandboxState", account: Account, query: Mapping[str, str], body: Any) -> dict:
    """POST a product write task of a kind: a receipt saying IN_QUEUE, or REJECT with the reasons."""
    skus = rules.payload_skus(body)
    with account.lock:
        locked = set(account.locked_codes)
    reasons = rules.reject_reasons(kind, skus) or rules.locked_reasons(skus, locked)
    task_id = state.new_task_id()
    now = datetime.now(ISTANBUL)
    status = "REJECT" if reasons else "IN_QUEUE"
    reasons = reasons or [f"{len(skus)} sku işlenmeye alındı."]
    with account.lock:
        account.tasks[task_id] = WriteTask(task_id, kind, skus or [], status, reasons, now, now)
    kind_name = "PRODUCT_CREATE" if kind == rules.PRODUCT_CREATE else "SKU_UPDATE"
    return {"id": task_id, "type": kind_name, "status": status, "reasons": reasons}


def task_details(state: "SandboxState", account: Account, query: Mapping[str, str], body: Any) -> dict:
    """POST /ms/product/task-details/page-query: IN_QUEUE for the first polls, then per-SKU results."""
    body = body if isinstance(body, dict) else {}
    pageable = body.get("pageable") if isinstance(body.get("pageable"), dict) else {}
    task_id = paging.int_param(body, "taskId", None)
    page = paging.int_param(pageable, "page", 0)
    size = paging.int_param(pageable, "size", rules.MAX_SKUS)
    if page < 0 or size < 1:
        raise ApiError(
            "ConstraintViolationException", f"page must be >= 0 and size >= 1 (page={page}, size={size})"
        )
    with account.lock:
        task = account.tasks.get(task_id)
        if task is None:
            raise ApiError("TaskNotFoundException", f"Task bulunamadı: {task_id}")
        if task.status == "IN_QUEUE":
            task.polls += 1
            if task.polls > state.queue_polls:
                state._process(account, task)  # the state runs every task (a test may wrap it)
        items, total_pages = paging.page_of(task.items, page, size, empty_pages=state.empty_pages)
        items = copy.deepcopy(items)
        return {
            "taskId": task.id,
            "status": task.status,
            "reasons": list(task.reasons) if task.status == "REJECT" else [],
            "skus": {
                "content": items,
                "totalElements": len(task.items),
                "totalPages": total_pages,
                "last": page >= total_pages - 1,
                "number": page,
                "size": size,
            },
            "createdDate": task_date(task.created),
            "modifiedDate": task_date(task.modified),
        }


def process(account: Account, task: WriteTask, fail_spelling: str) -> None:
    """Run a queued task once, under the account's lock: N11 refuses it whole for a SKU it holds locked, or
    results each SKU, ``fail_spelling`` being how its items spell a failure."""
    refused = rules.locked_reasons(task.skus, account.late_locked_codes)
    if refused:
        task.status, task.reasons, task.modified = "REJECT", refused, datetime.now(ISTANBUL)
        return
    run = _create if task.kind == rules.PRODUCT_CREATE else _update
    for sku, failure in run(account, task):
        task.items.append({"itemCode": sku["stockCode"], "status": fail_spelling if failure else "SUCCESS",
                           "reasons": [failure or rules.SUCCESS_REASON], "sku": copy.deepcopy(sku)})
    task.status = "PROCESSED"
    task.modified = datetime.now(ISTANBUL)


def _update(account: Account, task: WriteTask) -> Iterator[tuple[dict, str | None]]:
    """Apply an update task SKU by SKU to the products, yielding each with N11's reason to fail it (None when
    applied)."""
    for sku in task.skus:
        product = account.products.get(sku["stockCode"])
        failure = rules.sku_failure(task.kind, product, sku)
        if failure is None:
            rules.apply_sku(task.kind, product, sku)
        yield sku, failure


def _create(account: Account, task: WriteTask) -> Iterator[tuple[dict, str | None]]:
    """Create a product-create task's products SKU by SKU (waiting for approval), yielding each SKU with N11's
    reason to fail it (None when created)."""
    n11_id = max((p["n11ProductId"] for p in account.products.values()), default=540_000_000)
    barcodes = {p["barcode"] for p in account.products.values() if p.get("barcode")}
    for sku in task.skus:
        failure = catalog.create_failure(account.products, barcodes, sku)
        if failure is None:
            n11_id += 1
            account.products[sku["stockCode"]] = catalog.new_product(sku, n11_id)
            barcodes.add(sku.get("barcode"))
        yield sku, failure
