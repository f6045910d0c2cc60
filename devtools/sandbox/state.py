"""The in-memory N11: seller accounts with their products, packages and write tasks. No HTTP here."""

import copy
import hmac
import threading
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

from devtools.sandbox import catalog, paging, rules
from devtools.sandbox.accounts import Account, WriteTask, public, stamp
from devtools.sandbox.errors import ApiError
from devtools.sandbox.wire import ISTANBUL, task_date

CREATED, PICKING = "Created", "Picking"  # order approval moves a line from the one to the other


class SandboxState:
    """Every account the sandbox knows, plus the switches that choose between N11's observed behaviours."""

    def __init__(
        self,
        accounts: Iterable[Account] = (),
        *,
        date_shift_hours: int = 0,
        rest_auth_style: str = "403",
        queue_polls: int = 1,
        item_fail_spelling: str = "FAIL",
        repeat_page_edge: bool = False,
        page_hook: Callable[[Account, Mapping[str, str]], None] | None = None,
        order_date_filter: str = "modified",
        empty_pages: int = 0,
    ) -> None:
        """``repeat_page_edge`` repeats a row across two pages of every listing; ``page_hook(account, query)``
        runs before each shipment-package page is answered, so a test can change a package between pages;
        ``queue_polls`` is how many polls a write task stays IN_QUEUE; ``order_date_filter`` is what
        ``orderByField=true`` makes the date window filter: ``"modified"`` (lastModifiedDate, as N11's pages
        say) or ``"created"`` (it only sorts: the window filters creation dates, as without it); ``empty_pages``
        is the ``totalPages`` of an empty answer: 0, or 1 as N11 answers a queued task's details."""
        if order_date_filter not in ("modified", "created"):
            raise ValueError("order_date_filter must be 'modified' or 'created'")
        self.order_date_filter = order_date_filter
        if empty_pages not in (0, 1):
            raise ValueError("empty_pages must be 0 or 1")
        self.empty_pages = empty_pages
        if rest_auth_style not in ("403", "400"):
            raise ValueError("rest_auth_style must be '403' or '400'")
        if item_fail_spelling not in ("FAIL", "Fail"):
            raise ValueError("item_fail_spelling must be 'FAIL' or 'Fail'")
        self.date_shift_hours = date_shift_hours
        self.rest_auth_style = rest_auth_style
        self.queue_polls = queue_polls
        self.item_fail_spelling = item_fail_spelling
        self.repeat_page_edge = repeat_page_edge
        self.page_hook = page_hook
        self._accounts: dict[str, Account] = {}
        self._lock = threading.Lock()
        self._next_task_id = 1000
        for account in accounts:
            self.add(account)

    def add(self, account: Account) -> Account:
        with self._lock:
            if account.api_key in self._accounts:
                raise ValueError(f"an account with API key {account.api_key!r} exists already")
            self._accounts[account.api_key] = account
        return account

    def account(self, api_key: str) -> Account:
        with self._lock:
            return self._accounts[api_key]

    def authenticate(self, api_key: str | None, api_secret: str | None) -> Account | None:
        """The account whose key and secret both match, else None."""
        with self._lock:
            account = self._accounts.get(api_key or "")
        if account is None or not hmac.compare_digest(
            (api_secret or "").encode(), account.api_secret.encode()
        ):
            return None
        return account

    def product_query(self, account: Account, params: Mapping[str, str]) -> dict:
        """GET /ms/product-query: filtered products in n11ProductId order, as a Spring page."""
        page = paging.int_param(params, "page", 0)
        size = paging.int_param(params, "size", paging.DEFAULT_PAGE_SIZE)
        if page < 0 or not 1 <= size <= rules.MAX_PRODUCT_PAGE:
            raise ApiError(
                "ConstraintViolationException",
                f"page must be >= 0, size in 1..{rules.MAX_PRODUCT_PAGE} (page={page}, size={size})",
            )
        for name, enum, allowed in (
            ("saleStatus", "SaleStatus", rules.SALE_STATUSES),
            ("productStatus", "ProductStatus", rules.PRODUCT_STATUSES),
        ):
            if params.get(name) and params[name] not in allowed:
                raise ApiError(
                    "IllegalArgumentException", f"No enum constant com.n11.product.{enum}.{params[name]}"
                )
        # Every product belongs to the seller, so the sender filter narrows nothing here.
        wanted = {
            column: params[name]
            for name, column in (
                ("id", "n11ProductId"),
                ("productMainId", "productMainId"),
                ("stockCode", "stockCode"),
                ("saleStatus", "saleStatus"),
                ("productStatus", "status"),
            )
            if params.get(name)
        }
        with account.lock:
            rows = sorted(
                (
                    row
                    for row in account.products.values()
                    if all(str(row[column]) == value for column, value in wanted.items())
                ),
                key=lambda row: row["n11ProductId"],
            )
            content, total_pages = paging.page_of(rows, page, size, self.repeat_page_edge, self.empty_pages)
            content = copy.deepcopy(content)
        return {
            "content": content,
            "totalElements": len(rows),
            "totalPages": total_pages,
            "number": page,
            "numberOfElements": len(content),
            "size": size,
            "first": page == 0,
            "last": page >= total_pages - 1,
            "empty": not content,
        }

    def shipment_packages(self, account: Account, params: Mapping[str, str]) -> dict:
        """GET /rest/delivery/v1/shipmentPackages with N11's clamps, filters and quirks."""
        page = paging.int_param(params, "page", 0)
        size = min(paging.int_param(params, "size", paging.DEFAULT_PAGE_SIZE), rules.MAX_PACKAGE_PAGE)
        if page < 0 or size < 1:
            raise ApiError(
                "IllegalArgumentException", f"page must be >= 0 and size >= 1 (page={page}, size={size})"
            )
        window = self._window(paging.int_param(params, "startDate", None), paging.int_param(params, "endDate", None))
        by_field = params.get("orderByField", "").lower() == "true" and self.order_date_filter == "modified"
        date_key = "lastModifiedDate" if by_field else "_created"
        status = params.get("status")
        wanted_status = rules.canonical_status(status) if status else None
        sender = (params.get("sender") or "SELLER").strip().upper()
        order_number = params.get("orderNumber")
        package_ids = {part.strip() for part in params.get("packageIds", "").split(",") if part.strip()}

        def served(package: dict) -> bool:
            return (
                package["lastModifiedDate"] >= rules.FIRST_SERVED_MS
                and (window is None or window[0] <= package[date_key] < window[1])
                # the status filter compares canonical spellings; an unknown value matches nothing
                and (
                    not status
                    or (
                        wanted_status is not None
                        and wanted_status == rules.canonical_status(package["shipmentPackageStatus"])
                    )
                )
                and sender in ("ALL", package["_sender"])
                and (not order_number or package["orderNumber"] == order_number)
                and (not package_ids or str(package["id"]) in package_ids)
            )

        if self.page_hook is not None:
            self.page_hook(account, params)
        with account.lock:
            rows = sorted(
                (package for package in account.packages if served(package)),
                key=lambda package: (package["lastModifiedDate"], package["id"] or 0),
                reverse=params.get("orderByDirection", "DESC").upper() != "ASC",
            )
            content, total_pages = paging.page_of(rows, page, size, self.repeat_page_edge, self.empty_pages)
            content = [public(package) for package in content]
        return {
            "content": content,
            "totalPages": total_pages,
            "page": page,
            "size": size,
            "pageCount": len(content),
        }

    def update_order_lines(self, account: Account, body: Any) -> dict:
        """PUT /rest/order/v1/update: approve lines (Created to Picking), one result per line in ``content``.

        N11 approves packages: a line whose package is Created moves the whole package, every line of it, to
        Picking with a new ``lastModifiedDate``; a line whose package is no longer Created (a second line of
        the same package in the same call too) fails with ``Kalem <status> durumunda, onaylanamaz``, as does a
        line that is not Created itself. An unknown line, or one fulfilled from N11's warehouse, fails too.
        """
        lines = body.get("lines") if isinstance(body, dict) else None
        if not isinstance(lines, list) or not lines:
            raise ApiError("IllegalArgumentException", "lines must be a non-empty list of {lineId}")
        if not isinstance(body.get("status"), str) or body["status"].strip() != PICKING:
            raise ApiError("IllegalArgumentException", f"status must be {PICKING}, got {body.get('status')!r}")
        now_ms = int(datetime.now(ISTANBUL).timestamp() * 1000)
        content = []
        with account.lock:
            for entry in lines:
                line_id = entry.get("lineId") if isinstance(entry, dict) else None
                failure = self._approve_line(account, line_id, now_ms)
                content.append({"lineId": line_id, "status": "FAIL" if failure else "SUCCESS",
                                "reasons": [failure or "İşlem başarılı."]})
        return {"content": content}

    @staticmethod
    def _approve_line(account: Account, line_id: Any, now_ms: int) -> str | None:
        """Approve one line's package under the account's lock; N11's reason when it cannot be approved."""
        for package in account.packages:
            if rules.canonical_status(package["shipmentPackageStatus"]) == rules.UNPACKED:
                continue
            line = next((line for line in package["lines"] if str(line["orderLineId"]) == str(line_id)), None)
            if line is None:
                continue
            if package["_sender"] != "SELLER":
                return "N11 deposundan gönderilen siparişler satıcı tarafından onaylanamaz."
            package_status = rules.canonical_status(package["shipmentPackageStatus"])
            status = rules.canonical_status(line.get("orderItemLineItemStatusName")) or package_status
            shown = status if status != CREATED else package_status
            if shown != CREATED:
                return f"Kalem {shown} durumunda, onaylanamaz"
            for other in package["lines"]:
                if rules.canonical_status(other.get("orderItemLineItemStatusName")) == CREATED:
                    other["orderItemLineItemStatusName"] = PICKING
            stamp(package, PICKING, max(now_ms, package["lastModifiedDate"] + 1))
            return None
        return f"Sipariş kalemi bulunamadı: {line_id}"

    def _window(self, start: int | None, end: int | None) -> tuple[int, int] | None:
        """The [start, end) filtered on: clamped to 15 days, then moved by the simulated GMT+3 shift."""
        if start is None and end is None:
            return None
        if start is None:
            start = end - rules.MAX_WINDOW_MS
        end = start + rules.MAX_WINDOW_MS if end is None else min(end, start + rules.MAX_WINDOW_MS)
        shift = self.date_shift_hours * rules.HOUR_MS
        return start + shift, end + shift

    def submit(self, account: Account, kind: str, body: Any) -> dict:
        """POST a product write task: a receipt saying IN_QUEUE, or REJECT with the reasons."""
        skus = rules.payload_skus(body)
        with account.lock:
            locked = set(account.locked_codes)
        reasons = rules.reject_reasons(kind, skus) or rules.locked_reasons(skus, locked)
        with self._lock:
            task_id = self._next_task_id
            self._next_task_id += 1
        now = datetime.now(ISTANBUL)
        status = "REJECT" if reasons else "IN_QUEUE"
        reasons = reasons or [f"{len(skus)} sku işlenmeye alındı."]
        with account.lock:
            account.tasks[task_id] = WriteTask(task_id, kind, skus or [], status, reasons, now, now)
        kind_name = "PRODUCT_CREATE" if kind == rules.PRODUCT_CREATE else "SKU_UPDATE"
        return {"id": task_id, "type": kind_name, "status": status, "reasons": reasons}

    def task_details(self, account: Account, body: Any) -> dict:
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
                if task.polls > self.queue_polls:
                    self._process(account, task)
            items, total_pages = paging.page_of(task.items, page, size, empty_pages=self.empty_pages)
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

    def process_queued(self, account: Account, newest_first: bool = False) -> list[int]:
        """Process every queued task of the account now, as N11 does on its own time, oldest first or (with
        ``newest_first``) out of order; returns the task ids in the order processed."""
        with account.lock:
            queued = sorted((t for t in account.tasks.values() if t.status == "IN_QUEUE"), key=lambda t: t.id,
                            reverse=newest_first)
            for task in queued:
                self._process(account, task)
        return [task.id for task in queued]

    def _process(self, account: Account, task: WriteTask) -> None:
        """Run a queued task once: each SKU fails with N11's reason or is applied to its product."""
        refused = rules.locked_reasons(task.skus, account.late_locked_codes)
        if refused:
            task.status, task.reasons, task.modified = "REJECT", refused, datetime.now(ISTANBUL)
            return
        if task.kind == rules.PRODUCT_CREATE:
            self._create(account, task)
            return
        for sku in task.skus:
            product = account.products.get(sku["stockCode"])
            failure = rules.sku_failure(task.kind, product, sku)
            if failure is None:
                rules.apply_sku(task.kind, product, sku)
            task.items.append(
                {
                    "itemCode": sku["stockCode"],
                    "status": self.item_fail_spelling if failure else "SUCCESS",
                    "reasons": [failure or rules.SUCCESS_REASON],
                    "sku": copy.deepcopy(sku),
                }
            )
        task.status = "PROCESSED"
        task.modified = datetime.now(ISTANBUL)

    def _create(self, account: Account, task: WriteTask) -> None:
        """Run a queued product-create task: each SKU is created (waiting for approval) or fails with N11's reason."""
        n11_id = max((p["n11ProductId"] for p in account.products.values()), default=540_000_000)
        barcodes = {p["barcode"] for p in account.products.values() if p.get("barcode")}
        for sku in task.skus:
            failure = catalog.create_failure(account.products, barcodes, sku)
            if failure is None:
                n11_id += 1
                account.products[sku["stockCode"]] = catalog.new_product(sku, n11_id)
                barcodes.add(sku.get("barcode"))
            task.items.append({"itemCode": sku["stockCode"],
                               "status": self.item_fail_spelling if failure else "SUCCESS",
                               "reasons": [failure or rules.SUCCESS_REASON], "sku": copy.deepcopy(sku)})
        task.status = "PROCESSED"
        task.modified = datetime.now(ISTANBUL)
