"""Return claims and invoice links of the sandbox's N11: claims generated from an account's delivered orders (one
claim per returned line, its buyer the order's), listed and filtered as ``ClaimReturnList`` does, approved and
denied as the seller asks, moved as N11 moves them (``move``, for tests); invoice links recorded per order."""

import random
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from devtools.sandbox import rules, vocabulary
from devtools.sandbox.wire import ISTANBUL

STATUSES = ("REQUESTED", "APPROVAL_WAITING", "PENDING", "PENDED", "APPROVED", "DENIED", "CANCELLED",
            "MANUAL_REFUND")
OPEN = STATUSES[:4]  # the seller may still approve or deny
# the date field N11 sets when a claim reaches a status
DATED = {"PENDING": "pendingRequestDate", "PENDED": "pendedDate", "APPROVED": "approvedDate", "DENIED": "deniedDate",
         "CANCELLED": "cancelledDate", "MANUAL_REFUND": "paymentDate"}
DATE_FIELDS = ("requestDate", *DATED.values())
SEARCH_TYPES = ("BUYEREMAIL", "RECIPIENTS", "BUYERNAME", "ORDERID", "PRODUCTID")
CLAIM_SHARE = 0.25  # of the lines of delivered packages
PAGE_SIZE = 20
MAX_INVOICE_URL = 2048
RETURN_REASONS = (
    ("Ürün hasarlı / kusurlu geldi", "Kutusu ezik geldi, ürünün bir köşesi kırık."),
    ("Yanlış ürün gönderildi", "Siyah sipariş ettim, lacivert geldi."),
    ("Ürün beklentimi karşılamadı", "Fotoğraflardakinden daha küçük ve ince."),
    ("Beden / ölçü uymadı", "Bir beden büyük almam gerekiyormuş."),
    ("Ürün açıklamadaki gibi değil", "Açıklamada yazan özellik üründe yok."),
    ("Vazgeçtim", None),
)
DENY_REASONS = (
    ("1", "Ürün kullanılmış / hasar görmüş olarak geri gönderildi"),
    ("2", "Ürün eksik parça veya aksesuar ile gönderildi"),
    ("3", "İade edilen ürün gönderilen ürün değil"),
    ("4", "Yasal iade süresi geçmiş"),
    ("5", "Hijyen kuralları gereği iade alınamaz"),
    ("6", "Diğer"),
)


class ClaimFailure(Exception):
    """N11 refuses the request: ``result.status = failure`` with this code and (Turkish) message, HTTP 200."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def today() -> date:
    return datetime.now(ISTANBUL).date()


def add_claims(account: Any, rng: random.Random, end_ms: int) -> None:
    """Claims for about ``CLAIM_SHARE`` of the delivered lines, requested up to three days after delivery (none
    after ``end_ms``), in the statuses their age makes likely; the buyer's contact is the order's."""
    end_day = _day(end_ms)
    next_id = 48_000_000 + rng.randrange(1_000_000)
    for package in sorted(account.packages, key=lambda p: (p["lastModifiedDate"], p["orderNumber"])):
        if rules.canonical_status(package["shipmentPackageStatus"]) != "Delivered" or package.get("_parent"):
            continue
        for line in package["lines"]:
            if rng.random() >= CLAIM_SHARE:
                continue
            requested = _day(package["lastModifiedDate"]) + timedelta(days=rng.randint(0, 3))
            if requested > end_day:
                continue
            next_id += rng.randint(1, 40)
            claim = _claim(rng, package, line, str(next_id), requested)
            for status in _path(rng, (end_day - requested).days):
                moment = min(claim["_updated"] + timedelta(days=rng.randint(0, 2)), end_day)
                move(claim, status, moment)
            account.claims[claim["claimReturnId"]] = claim


def file_claim(account: Any, order_number: str, requested: date, seed: int = 0) -> dict:
    """A buyer's claim on the first line of an order's live package, requested that day, as N11 records it: tests
    play the buyer with it."""
    with account.lock:
        package = next(p for p in account.package(order_number) if not p.get("_parent") and p["lines"])
        claim_id = str(max(map(int, account.claims), default=49_000_000) + 1)  # after every id the account has
        claim = _claim(random.Random(seed), package, package["lines"][0], claim_id, requested)
        account.claims[claim["claimReturnId"]] = claim
        return claim


def _claim(rng: random.Random, package: dict, line: dict, claim_id: str, requested: date) -> dict:
    quantity = rng.randint(1, line["quantity"])
    reason, description = rng.choice(RETURN_REASONS)
    billing = package["billingAddress"] or {}
    tracking = str(rng.randrange(10**11, 10**12))
    return {
        "claimReturnId": claim_id, "status": "REQUESTED", "executer": rng.choices(("BUYER", "N11"), (9, 1))[0],
        "sender": package["_sender"], "returnReasonType": reason, "returnReasonDescription": description,
        "orderNumber": package["orderNumber"], "shipmentMethod": str(package.get("shipmentMethod") or 1),
        "campaignNumber": str(rng.randrange(10**9, 10**10)), "requestDate": requested,
        "shipmentCompany": rng.choice(vocabulary.CARRIERS), "trackingNumber": tracking,
        "deliveryFeeType": rng.choice(("BUYER", "SELLER")),
        "productId": str(line["productId"]), "skuId": str(line["productId"] * 10 + rng.randint(1, 9)),
        "productName": line["productName"],
        "attributesNames": ", ".join(f"{a['name']}: {a['value']}" for a in line.get("variantAttributes") or []),
        "quantity": quantity, "unitPrice": line["price"],
        "finalPrice": (line["sellerInvoiceAmount"] * quantity / line["quantity"]).quantize(rules.CENT),
        "buyerName": package.get("customerfullName") or billing.get("fullName"),
        "buyerEmail": package.get("customerEmail"), "buyerPhone": billing.get("gsm"),
        "approvalRemainingTime": "3 gün",
        "_updated": requested,
    }


def _path(rng: random.Random, age_days: int) -> tuple[str, ...]:
    """The statuses a claim of this age passed through after REQUESTED."""
    if age_days < 2:
        return rng.choices(((), ("APPROVAL_WAITING",)), (50, 50))[0]
    if age_days < 7:
        return rng.choices(((), ("APPROVAL_WAITING",), ("APPROVAL_WAITING", "PENDING"), ("APPROVAL_WAITING",
                           "APPROVED"), ("APPROVAL_WAITING", "DENIED")), (10, 40, 10, 30, 10))[0]
    return rng.choices((("APPROVAL_WAITING", "APPROVED"), ("APPROVAL_WAITING", "DENIED"), ("CANCELLED",),
                        ("APPROVAL_WAITING", "PENDING", "PENDED"), ("APPROVAL_WAITING", "MANUAL_REFUND")),
                       (60, 15, 10, 10, 5))[0]


def move(claim: dict, status: str, day: date) -> None:
    """Move a claim to a status on a day, as N11 does: its status, the status's date field, its last change.
    Tests call it to play N11 (a claim approved or denied in N11's panel, a refund paid)."""
    if status not in STATUSES:
        raise ValueError(f"{status!r} is not one of {STATUSES}")
    claim["status"] = status
    if status in DATED:
        claim[DATED[status]] = day
    if status in ("APPROVED", "DENIED", "CANCELLED", "MANUAL_REFUND"):
        claim["approvalRemainingTime"] = None
    if status == "DENIED":  # the product goes back to the buyer
        claim["sellerShipmentCompany"] = claim["shipmentCompany"]
        claim["sellerTrackingNumber"] = str(int(claim["trackingNumber"]) + 7)
    claim["_updated"] = max(claim["_updated"], day)


def listed(account: Any, search: Mapping[str, Any], period_filter: str) -> list[dict]:
    """The claims ``searchData`` selects, oldest request first: a status (``REQUESTED`` when left out or unknown,
    or ``ALL``), a sender (``SELLER`` by default), a period of Istanbul days (``DD/MM/YYYY``, both ends included)
    on the request date or, with ``period_filter="updated"``, the last change, and a search by order, product,
    buyer name or e-mail."""
    status = str(search.get("status") or "").strip().upper()
    status = status if status in (*STATUSES, "ALL") else "REQUESTED"
    sender = str(search.get("sender") or "SELLER").strip().upper()
    period = search.get("period") if isinstance(search.get("period"), dict) else {}
    start, end = _period_day(period, "startDate"), _period_day(period, "endDate")
    kind, query = str(search.get("searchInfoType") or "").upper(), str(search.get("searchQuery") or "").strip()
    if kind and kind not in SEARCH_TYPES:
        raise ClaimFailure("validation.searchInfoType.invalid", f"Geçersiz arama tipi: {kind}")
    date_key = "_updated" if period_filter == "updated" else "requestDate"

    def chosen(claim: dict) -> bool:
        return ((status == "ALL" or claim["status"] == status) and sender in ("ALL", claim["sender"])
                and (start is None or claim[date_key] >= start) and (end is None or claim[date_key] <= end)
                and (not kind or not query or _found(claim, kind, query)))

    with account.lock:
        return sorted((dict(claim) for claim in account.claims.values() if chosen(claim)),
                      key=lambda claim: (claim["requestDate"], int(claim["claimReturnId"])))


def _found(claim: dict, kind: str, query: str) -> bool:
    field = {"ORDERID": "orderNumber", "PRODUCTID": "productId", "BUYERNAME": "buyerName",
             "BUYEREMAIL": "buyerEmail", "RECIPIENTS": "buyerName"}[kind]
    value = str(claim.get(field) or "")
    return value == query if kind in ("ORDERID", "PRODUCTID") else query.casefold() in value.casefold()


def _period_day(period: Mapping[str, Any], name: str) -> date | None:
    raw = period.get(name)
    if not raw:
        return None
    try:
        return datetime.strptime(str(raw).strip(), "%d/%m/%Y").date()
    except ValueError:
        raise ClaimFailure("validation.period.invalid",
                           f"{name} gg/aa/yyyy biçiminde olmalıdır: {raw}") from None


def decide(account: Any, claim_id: Any, status: str, reason_id: Any = None, note: Any = None) -> None:
    """Approve (``APPROVED``) or deny (``DENIED``, with one of ``DENY_REASONS``) an open claim today."""
    with account.lock:
        claim = account.claims.get(str(claim_id or "").strip())
        if claim is None:
            raise ClaimFailure("claimReturn.notFound", f"İade talebi bulunamadı: {claim_id}")
        if status == "DENIED" and str(reason_id or "").strip() not in dict(DENY_REASONS):
            raise ClaimFailure("claimReturn.denyReason.invalid", f"Geçersiz red nedeni: {reason_id}")
        if claim["status"] not in OPEN:
            verb = "onaylanamaz" if status == "APPROVED" else "reddedilemez"
            raise ClaimFailure("claimReturn.status.invalid", f"İade talebi {claim['status']} durumunda, {verb}.")
        move(claim, status, today())
        if status == "DENIED":
            claim["_deny"] = {"reason": str(reason_id).strip(), "note": note}


def save_invoice_link(account: Any, fields: Mapping[str, Any]) -> None:
    """Record an order's invoice link: an https URL of at most 2048 characters, for an order of the account."""
    number, url = str(fields.get("orderNumber") or "").strip(), str(fields.get("url") or "")
    if not url.lower().startswith("https://") or len(url) > MAX_INVOICE_URL:
        raise ClaimFailure("sellerInvoice.url.invalid",
                           f"Fatura linki https ile başlamalı ve en fazla {MAX_INVOICE_URL} karakter olmalıdır.")
    with account.lock:
        if not any(package["orderNumber"] == number for package in account.packages):
            raise ClaimFailure("sellerInvoice.order.notFound", f"Sipariş bulunamadı: {number}")
        account.invoice_links[number] = {"url": url, "invoiceNumber": fields.get("invoiceNumber"),
                                         "invoiceDateTime": fields.get("invoiceDateTime")}


def _day(ms: int) -> date:
    return datetime.fromtimestamp(ms / 1000, ISTANBUL).date()


def wire(claim: dict) -> list[tuple[str, Any]]:
    """A claim's fields as N11 sends them (dates as DD/MM/YYYY), empty ones left out."""
    fields = []
    for name, value in claim.items():
        if name.startswith("_") or value is None or value == "":
            continue
        if isinstance(value, date):
            value = value.strftime("%d/%m/%Y")
        elif isinstance(value, Decimal):
            value = f"{value:f}"
        fields.append((name, str(value)))
    return fields
