"""A return claim as N11's ClaimReturnList sends it (texts) into a row of ``n11_returns``.

Strict where a wrong reading would corrupt the row (an id, a status, a day, a quantity or an amount that cannot be
read stops the load, naming the store, the claim and the field: never the buyer's data); lenient where N11 is only
sloppy (stray spaces, status casing, a comma for the decimal point, a time after the day, texts longer than their
column are cut).
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from include.tables import n11_returns

STATUSES = ("REQUESTED", "APPROVAL_WAITING", "PENDING", "PENDED", "APPROVED", "DENIED", "CANCELLED", "MANUAL_REFUND")
FINAL = ("APPROVED", "DENIED", "CANCELLED", "MANUAL_REFUND")  # N11 moves these no further: no more reading
# A status's step in a claim's life: the tie-break of the revision for two answers of the same day.
STEP = {"REQUESTED": 1, "APPROVAL_WAITING": 2, "PENDING": 3, "PENDED": 4, **dict.fromkeys(FINAL, 5)}
# N11's date fields, by the column they go to
DATES = {"requested_at": "requestDate", "pending_at": "pendingRequestDate", "pended_at": "pendedDate",
         "approved_at": "approvedDate", "denied_at": "deniedDate", "cancelled_at": "cancelledDate",
         "paid_at": "paymentDate"}
TEXTS = {"order_number": "orderNumber", "product_id": "productId", "sku_id": "skuId", "product_name": "productName",
         "reason_type": "returnReasonType", "reason_description": "returnReasonDescription", "executer": "executer",
         "sender": "sender", "cargo_company": "shipmentCompany", "cargo_tracking_number": "trackingNumber",
         "seller_cargo_company": "sellerShipmentCompany", "seller_tracking_number": "sellerTrackingNumber",
         "buyer_name": "buyerName", "buyer_email": "buyerEmail", "buyer_phone": "buyerPhone"}
PERSONAL = ("buyer_name", "buyer_email", "buyer_phone")  # never in a message
_DAY = re.compile(r"(\d{1,2})[./-](\d{1,2})[./-](\d{4})(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?")
_EPOCH = date(1970, 1, 1)


class BadClaim(ValueError):
    """A claim the shop cannot take as N11 sent it; the message names the claim and the field."""


def claim_row(slug: str, claim: dict, now: datetime) -> dict:
    """The ``n11_returns`` row of one claim (without the shop's matched line, which ``load.py`` adds)."""
    claim_id = _text(claim.get("claimReturnId"))
    if not claim_id or len(claim_id) > n11_returns.c.claim_id.type.length:
        raise BadClaim(f"a claim has claimReturnId {_shown(claim.get('claimReturnId'))}, not an id of 1 to "
                       f"{n11_returns.c.claim_id.type.length} characters")
    status = (_text(claim.get("status")) or "").upper()
    if not status:
        raise BadClaim(f"claim {claim_id} has no status")
    row: dict[str, Any] = {"store": slug, "claim_id": claim_id, "status": status[:32]}
    for column, field in TEXTS.items():
        row[column] = _cut(_text(claim.get(field)), n11_returns.c[column].type.length)
    if not row["order_number"]:
        raise BadClaim(f"claim {claim_id} has no orderNumber")
    for column, field in DATES.items():
        row[column] = _day(claim_id, field, claim.get(field))
    days = [day for day in (row[column] for column in DATES) if day is not None]
    if not days:
        raise BadClaim(f"claim {claim_id} has none of N11's dates ({', '.join(DATES.values())})")
    row["quantity"] = _quantity(claim_id, claim.get("quantity"))
    row["unit_price"] = _amount(claim_id, "unitPrice", claim.get("unitPrice"))
    row["final_price"] = _amount(claim_id, "finalPrice", claim.get("finalPrice"))
    row["last_modified"] = max(days)
    row["revision"] = revision(row["last_modified"], status)
    row["last_seen"] = row["loaded_at"] = now
    return row


def revision(last_modified: date, status: str) -> int:
    """Days since 1970 x 10 + the status's step (0 for a status N11 has not documented): a later day, or a later
    step on the same day, is newer."""
    return (last_modified - _EPOCH).days * 10 + STEP.get(status, 0)


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, dict | list):
        return None
    text = " ".join(str(value).split())
    return text or None


def _cut(text: str | None, width: int | None) -> str | None:
    return text[:width] if text and width else text


def _shown(value: Any) -> str:
    return repr(str(value)[:40]) if value is not None else "nothing"


def _day(claim_id: str, field: str, value: Any) -> date | None:
    """An Istanbul day written DD/MM/YYYY (a time after it is ignored); None when N11 left it out."""
    text = _text(value)
    if text is None:
        return None
    match = _DAY.fullmatch(text)
    try:
        if match is None:
            raise ValueError
        return date(int(match[3]), int(match[2]), int(match[1]))
    except ValueError:
        raise BadClaim(f"claim {claim_id} has {field}={_shown(value)}, not a day like 31/12/2026") from None


def _quantity(claim_id: str, value: Any) -> int | None:
    text = _text(value)
    if text is None:
        return None
    if not text.isdigit():
        raise BadClaim(f"claim {claim_id} has quantity={_shown(value)}, not a whole number")
    return int(text)


def _amount(claim_id: str, field: str, value: Any) -> Decimal | None:
    """An amount in TL: ``149.90``, or ``149,90`` with a decimal comma."""
    text = _text(value)
    if text is None:
        return None
    if "," in text and "." not in text:
        text = text.replace(",", ".")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        amount = None
    if amount is None or not amount.is_finite() or abs(amount) >= 10**12:
        raise BadClaim(f"claim {claim_id} has {field}={_shown(value)}, not an amount like 149.90")
    return amount.quantize(Decimal("0.01"))
