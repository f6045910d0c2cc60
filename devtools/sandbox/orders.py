"""The order side of N11's REST API: the shipment-package listing with its clamps and quirks, approval, and the
split by quantity that cancels what the seller cannot supply."""

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


def split_package_by_quantity(state: SandboxState, account: Account, query: Mapping[str, str], body: Any) -> dict:
    """POST /rest/delivery/v1/splitPackageByQuantity: split one Picking package by quantity, cancelling items.

    Each ``splitPackages`` entry becomes a Picking child, the items named nowhere one more, the ``cancelledItems``
    an UnSupplied package; every child has a new package id, cargo tracking number and line ids, and the parent
    turns Unpacked (``Account.split_quantities``). Refused with N11's words (HTTP 400): a package not in Picking
    ("Created statülü siparişler bölünemez"), lines of more than one order or package, a cancel without a split
    ("yalnızca iptal yapılamaz"), more items of a line than were ordered, an unknown line or cancel reason.
    """
    split, cancelled = _split_request(body)
    with account.lock:
        package = _package_to_split(account, [*(line_id for group in split for line_id in group), *cancelled])
        for line in package["lines"]:
            line_id = str(line["orderLineId"])
            asked = sum(group.get(line_id, 0) for group in split) + cancelled.get(line_id, 0)
            if asked > line["quantity"]:
                raise ApiError("IllegalArgumentException", f"{line_id} numaralı kalem için istenen miktar ({asked}) "
                                                           f"sipariş edilen miktarı ({line['quantity']}) aşamaz.")
        now_ms = int(datetime.now(ISTANBUL).timestamp() * 1000)
        children = account.split_quantities(package, split, cancelled, max(now_ms, package["lastModifiedDate"] + 1))
        answer: dict[str, Any] = {"code": 200, "message": "success"}
        if account.split_items_listed:
            answer["splitPackageOrderItems"] = [
                {"orderNumber": child["orderNumber"], "packageId": child["id"], "orderLineId": line["orderLineId"],
                 "stockCode": line["stockCode"], "quantity": line["quantity"]}
                for child in children if child["shipmentPackageStatus"] == PICKING for line in child["lines"]]
    return answer


def _split_request(body: Any) -> tuple[list[dict[str, int]], dict[str, int]]:
    """The new packages (order line id -> items) and the cancelled items (order line id -> items) of a split body."""
    if not isinstance(body, dict):
        raise ApiError("IllegalArgumentException", "İstek gövdesi bir JSON nesnesi olmalıdır.")
    packages, items = body.get("splitPackages") or [], body.get("cancelledItems") or []
    if not isinstance(packages, list) or not isinstance(items, list):
        raise ApiError("IllegalArgumentException", "splitPackages ve cancelledItems birer liste olmalıdır.")
    split = [_quantities(entry.get("packageDetails") if isinstance(entry, dict) else None, "quantities")
             for entry in packages]
    cancelled = _quantities(items, "quantity") if items else {}
    for item in items:
        if item.get("cancelReasonId") not in rules.CANCEL_REASONS:
            raise ApiError("IllegalArgumentException", f"Geçersiz iptal nedeni: {item.get('cancelReasonId')!r}")
    if not split:
        raise ApiError("IllegalArgumentException", "Paket bölünmeden yalnızca iptal yapılamaz." if cancelled
                       else "splitPackages en az bir paket içermelidir.")
    return split, cancelled


def _quantities(entries: Any, field: str) -> dict[str, int]:
    """order line id -> items of a non-empty list of {orderLineId, <field>}, items at least 1, repeats added up."""
    if not isinstance(entries, list) or not entries:
        raise ApiError("IllegalArgumentException", "Her paket en az bir kalem içermelidir (packageDetails).")
    found: dict[str, int] = {}
    for entry in entries:
        line_id = entry.get("orderLineId") if isinstance(entry, dict) else None
        items = entry.get(field) if isinstance(entry, dict) else None
        if line_id is None or not isinstance(items, int) or isinstance(items, bool) or items < 1:
            raise ApiError("IllegalArgumentException", f"Her kalem orderLineId ve 1 veya daha büyük bir {field} "
                                                       f"içermelidir: {entry!r}")
        found[str(line_id)] = found.get(str(line_id), 0) + items
    return found


def _package_to_split(account: Account, line_ids: list[str]) -> dict:
    """The one package holding every named line (a split parent only when no child does), in Picking; N11's
    refusal otherwise."""
    holders = {}
    for line_id in line_ids:
        listing = [package for package in account.packages
                   if any(str(line["orderLineId"]) == line_id for line in package["lines"])]
        holder = min(listing, key=lambda package: bool(package.get("_parent")), default=None)  # a child first
        if holder is None:
            raise ApiError("IllegalArgumentException", f"Sipariş kalemi bulunamadı: {line_id}")
        holders[id(holder)] = holder
    if len({package["orderNumber"] for package in holders.values()}) > 1:
        raise ApiError("IllegalArgumentException", "Bir istekte yalnızca bir siparişin paketi bölünebilir.")
    if len(holders) > 1:
        raise ApiError("IllegalArgumentException", "Bir istekte yalnızca bir paket bölünebilir.")
    [package] = holders.values()
    status = rules.canonical_status(package["shipmentPackageStatus"])
    if status != PICKING:
        raise ApiError("IllegalArgumentException", f"{status} statülü siparişler bölünemez")
    return package
