"""The order side of N11's REST API: the shipment-package listing with its clamps and quirks, and approval."""

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from devtools.sandbox import paging, rules
from devtools.sandbox.accounts import Account, public, stamp
from devtools.sandbox.errors import ApiError
from devtools.sandbox.state import SandboxState
from devtools.sandbox.wire import ISTANBUL

CREATED, PICKING = "Created", "Picking"  # order approval moves a line from the one to the other


def shipment_packages(state: SandboxState, account: Account, query: Mapping[str, str], body: Any) -> dict:
    """GET /rest/delivery/v1/shipmentPackages with N11's clamps, filters and quirks."""
    page = paging.int_param(query, "page", 0)
    size = min(paging.int_param(query, "size", paging.DEFAULT_PAGE_SIZE), rules.MAX_PACKAGE_PAGE)
    if page < 0 or size < 1:
        raise ApiError(
            "IllegalArgumentException", f"page must be >= 0 and size >= 1 (page={page}, size={size})"
        )
    start, end = paging.int_param(query, "startDate", None), paging.int_param(query, "endDate", None)
    window = _window(start, end, state.date_shift_hours)
    by_field = query.get("orderByField", "").lower() == "true" and state.order_date_filter == "modified"
    date_key = "lastModifiedDate" if by_field else "_created"
    status = query.get("status")
    wanted_status = rules.canonical_status(status) if status else None
    sender = (query.get("sender") or "SELLER").strip().upper()
    order_number = query.get("orderNumber")
    package_ids = {part.strip() for part in query.get("packageIds", "").split(",") if part.strip()}

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

    if state.page_hook is not None:
        state.page_hook(account, query)
    with account.lock:
        rows = sorted(
            (package for package in account.packages if served(package)),
            key=lambda package: (package["lastModifiedDate"], package["id"] or 0),
            reverse=query.get("orderByDirection", "DESC").upper() != "ASC",
        )
        content, total_pages = paging.page_of(rows, page, size, state.repeat_page_edge, state.empty_pages)
        content = [public(package) for package in content]
    return {
        "content": content,
        "totalPages": total_pages,
        "page": page,
        "size": size,
        "pageCount": len(content),
    }


def _window(start: int | None, end: int | None, shift_hours: int) -> tuple[int, int] | None:
    """The [start, end) filtered on: clamped to 15 days, then moved by the simulated GMT+3 shift."""
    if start is None and end is None:
        return None
    if start is None:
        start = end - rules.MAX_WINDOW_MS
    end = start + rules.MAX_WINDOW_MS if end is None else min(end, start + rules.MAX_WINDOW_MS)
    shift = shift_hours * rules.HOUR_MS
    return start + shift, end + shift


def update_order_lines(state: SandboxState, account: Account, query: Mapping[str, str], body: Any) -> dict:
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
            failure = _approve_line(account, line_id, now_ms)
            content.append({"lineId": line_id, "status": "FAIL" if failure else "SUCCESS",
                            "reasons": [failure or "İşlem başarılı."]})
    return {"content": content}


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
