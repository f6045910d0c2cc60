"""Client of N11's SOAP services (``/ws/...``): return claims and invoice links, which N11 has not moved to REST.

Why the envelopes are built by hand over ``requests`` and not with zeep, the field's SOAP client: zeep builds its
calls from the WSDL, and N11's WSDLs still list operations N11 has closed; fetching one on every run would add a
call that can fail and let an outside document steer the client, and the project's sandbox serves none. The five
operations used here are small fixed envelopes: each text is escaped (an ``&`` in an invoice URL goes as
``&amp;``), and an answer is parsed into plain dicts, which is also lighter than zeep's typed objects (a 20-claim
page, 20 KB, parses in about a millisecond: tests/plugins/n11/test_soap.py).

The credentials travel inside the XML body here, so every call goes through the same ``Transport`` as the REST
client (``transport.py``): only to the configured host over https (plain http only to this machine), no redirect
followed, the same rate limiter, retries and deadlines. ``N11SoapClient.beside(rest_client)`` shares the REST
client's transport, so both count against one rate. Reads are retried on 429, 5xx, timeouts, resets and cut or
unreadable answers; writes are sent again only when N11 certainly did not take them (429, 503, a connection that
never opened, ``maxCallLimit.reached``), any other failure without an answer raises ``N11Unavailable``.

Answers are read strictly: at most ``MAX_ANSWER_BYTES``, parsed by defusedxml with no DTD allowed (so no entity
expansion and no external entity), at most ``MAX_DEPTH`` levels deep. N11 answers failures with HTTP 200 and
``result.status = failure``: that is an error naming N11's ``errorCode`` and ``errorMessage`` (an authentication
failure is ``N11AuthError``). A SOAP fault, an HTML page or a cut answer is an error naming the service and the
operation. No message quotes the secret: every text taken from an answer is scrubbed.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, NoReturn
from xml.etree.ElementTree import Element, ParseError
from xml.sax.saxutils import escape

import defusedxml.ElementTree as safe_xml
import requests
from defusedxml import DefusedXmlException

from n11.client import N11Client
from n11.errors import (
    N11AuthError,
    N11BadResponse,
    N11PagingError,
    N11RequestRefused,
    N11Unavailable,
    error_message,
)
from n11.paging import Page, Paginator
from n11.provider import DEFAULT_BASE_URL
from n11.transport import ClientSettings, Retryable, Transport, retry_after

RETURN_SERVICE = "/ws/returnService/"
INVOICE_SERVICE = "/ws/SellerInvoiceService"
SCHEMAS = "http://www.n11.com/ws/schemas"
ENVELOPE = "http://schemas.xmlsoap.org/soap/envelope/"
CLAIMS_PAGE_SIZE = 20  # N11's, fixed: the request cannot ask for another
MAX_ANSWER_BYTES = 4 * 1024 * 1024  # a page of 20 claims is about 30 KB
MAX_DEPTH = 32  # N11's answers nest 6 levels
MAX_INVOICE_URL = 2048
AUTH_FAILED = "SELLER_API.authenticationFailed"
THROTTLED = "maxCallLimit.reached"
SUCCESS, FAILURE = "success", "failure"
DAY = "%d/%m/%Y"  # N11's SOAP dates: Istanbul days


@dataclass(frozen=True)
class Operation:
    """One SOAP operation: its service, path and name, and whether sending it twice is harmless."""

    service: str
    path: str
    name: str
    idempotent: bool = True

    @property
    def label(self) -> str:
        return f"{self.service}.{self.name}"


CLAIM_RETURN_LIST = Operation("ReturnService", RETURN_SERVICE, "ClaimReturnList")
DENY_REASON_TYPES = Operation("ReturnService", RETURN_SERVICE, "ClaimReturnDenyReasonTypes")
CLAIM_RETURN_APPROVE = Operation("ReturnService", RETURN_SERVICE, "ClaimReturnApprove", idempotent=False)
CLAIM_RETURN_DENY = Operation("ReturnService", RETURN_SERVICE, "ClaimReturnDeny", idempotent=False)
SAVE_INVOICE_LINK = Operation("SellerInvoiceService", INVOICE_SERVICE, "SaveLinkSellerInvoice", idempotent=False)

Fields = list[tuple[str, Any]]  # element name -> text, or nested Fields; None leaves the element out


class N11SoapClient:
    """N11's ReturnService and SellerInvoiceService over one ``Transport``."""

    def __init__(self, transport: Transport):
        self.transport = transport

    @classmethod
    def connect(cls, api_key: str, api_secret: str, base_url: str = DEFAULT_BASE_URL,
                settings: ClientSettings | None = None) -> N11SoapClient:
        """A client with a transport of its own."""
        return cls(Transport(api_key, api_secret, base_url, settings))

    @classmethod
    def beside(cls, client: N11Client) -> N11SoapClient:
        """A client sharing the REST client's transport (its rate, its pool share); closed with it."""
        return cls(client.transport)

    def __repr__(self) -> str:
        return f"N11SoapClient(base_url={self.transport.base_url!r}, api_key={self.transport.api_key!r})"

    def close(self) -> None:
        self.transport.close()

    # --- ReturnService -----------------------------------------------------------------------------------

    def claim_returns(self, start: date, end: date, *, order_number: str | None = None) -> Iterator[list[dict]]:
        """Yield the return claims of the Istanbul days [start, end] page by page (20 a page, every status and
        sender), or only those of one order. A claim is a dict of N11's field names to their texts."""
        search: Fields = [("status", "ALL"),
                          ("searchInfoType", "ORDERID" if order_number else None), ("searchQuery", order_number),
                          ("period", [("startDate", start.strftime(DAY)), ("endDate", end.strftime(DAY))]),
                          ("sender", "ALL")]

        def fetch(number: int) -> Page:
            answer = self._call(CLAIM_RETURN_LIST, [("searchData", search),
                                                    ("pagingData", [("currentPage", number)])])
            return self._claims_page(number, answer)

        for page in Paginator(CLAIM_RETURN_LIST.label, fetch, self.transport.settings.max_pages):
            if page.content:
                yield page.content

    def deny_reasons(self) -> list[dict]:
        """N11's reasons for denying a claim, ``[{"id": str, "value": str}]``, whichever of its two list shapes N11
        answers: the WSDL's (``denyReasonTypeDataList`` holding ``denyReasonTypeData`` elements) or production's
        (``denyReasonTypeDataList`` repeated once per reason)."""
        answer = self._call(DENY_REASON_TYPES, [])
        reasons = []
        for entry in _many(answer.get("denyReasonTypeDataList")):
            if not isinstance(entry, dict):
                continue  # an empty list element
            items = [entry] if "id" in entry else [item for value in entry.values() for item in _many(value)]
            for item in items:
                if not isinstance(item, dict) or not item.get("id") or item.get("value") is None:
                    raise N11BadResponse(f"N11 {DENY_REASON_TYPES.label} answered a reason without an id or a "
                                         f"text: {self._excerpt(item)}")
                reasons.append({"id": str(item["id"]), "value": str(item["value"])})
        return reasons

    def approve_claim(self, claim_id: str) -> None:
        """Approve a return claim. Not idempotent: an unknown outcome raises ``N11Unavailable`` or
        ``N11BadResponse`` and must be looked up, not sent again."""
        self._call(CLAIM_RETURN_APPROVE, [("claimReturnId", claim_id)])

    def deny_claim(self, claim_id: str, reason_id: str, note: str | None = None) -> None:
        """Deny a return claim with one of ``deny_reasons``' ids; as ``approve_claim`` for unknown outcomes."""
        self._call(CLAIM_RETURN_DENY, [("claimReturnId", claim_id), ("denyReasonId", reason_id),
                                       ("denyReasonNote", note or "")])

    # --- SellerInvoiceService ----------------------------------------------------------------------------

    def save_invoice_link(self, order_number: str, url: str, invoice_number: str | None = None,
                          invoice_time: datetime | None = None) -> None:
        """Give N11 the invoice link of an order (``invoice_number`` and ``invoice_time`` are for micro-export
        orders; the time goes as epoch milliseconds, a format no N11 source confirms)."""
        problem = invoice_url_problem(url)
        if problem:
            raise ValueError(f"invoice link of order {order_number}: {problem}")
        millis = str(int(invoice_time.timestamp() * 1000)) if invoice_time else None
        self._call(SAVE_INVOICE_LINK, [("url", url), ("orderNumber", order_number),
                                       ("invoiceNumber", invoice_number), ("invoiceDateTime", millis)])

    # --- the exchange --------------------------------------------------------------------------------------

    def _call(self, op: Operation, fields: Fields) -> dict:
        """Send one operation and return its answer as dicts, once N11 said ``success``."""
        body = _envelope(op.name, [("auth", [("appKey", self.transport.api_key),
                                             ("appSecret", self.transport.secret)]), *fields])
        headers = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '""', "Accept": "text/xml"}
        return self.transport.send("POST", op.path, lambda response: self._read(op, response), label=op.label,
                                   data=body, headers=headers, idempotent=op.idempotent, max_bytes=MAX_ANSWER_BYTES)

    def _read(self, op: Operation, response: requests.Response) -> dict:
        status = response.status_code
        if status in (401, 403):
            raise N11AuthError(f"N11 refused the API key or secret on {op.label} (HTTP {status}: "
                               f"{self._quote(response)})", status=status, n11_message=self._quote(response))
        if status in (429, 503):  # refused before any work: safe to send again, even a write
            raise Retryable(f"HTTP {status}: {self._quote(response)}", retry_after(response))
        body = self._body(op, response)
        if body is None:
            what = f"HTTP {status} with an answer that is not SOAP: {self._quote(response)!r}"
            if 400 <= status < 500:
                raise N11RequestRefused(f"N11 refused {op.label} ({what})", status=status)
            self._unusable(op, status, what)
        fault = body.get("Fault")
        if fault is not None:
            if "client" in str(fault.get("faultcode") if isinstance(fault, dict) else "").lower():
                raise N11RequestRefused(f"N11 refused {op.label} (HTTP {status}): SOAP fault {self._fault(body)}",
                                        status=status, n11_message=self._fault(body))
            self._unusable(op, status, f"HTTP {status} with SOAP fault {self._fault(body)}")
        if status >= 300:
            self._unusable(op, status, f"HTTP {status} with a SOAP answer")
        answer = body.get(f"{op.name}Response")
        if not isinstance(answer, dict):  # its elements named, not quoted: an answer may hold a buyer's contact
            raise N11BadResponse(f"N11 answered {op.label} without a {op.name}Response (its body holds "
                                 f"{', '.join(sorted(body)[:5]) or 'nothing'})", status=status)
        self._check_result(op, answer)
        return answer

    def _body(self, op: Operation, response: requests.Response) -> dict | None:
        """The SOAP body as dicts; None when the answer is not a SOAP envelope (an HTML page, a cut answer)."""
        try:
            root = safe_xml.fromstring(response.content, forbid_dtd=True)
        except DefusedXmlException as exc:
            raise N11BadResponse(f"N11 answered {op.label} with XML that declares a DTD or entities "
                                 f"({type(exc).__name__}); it is refused unread", status=response.status_code) from None
        except (ParseError, ValueError):
            return None
        if _local(root.tag) != "Envelope" or root.tag[1:].split("}")[0] != ENVELOPE:
            return None
        body = next((child for child in root if _local(child.tag) == "Body"), None)
        if body is None:
            return None
        return _data(body, op, 0) or {}

    def _unusable(self, op: Operation, status: int, what: str) -> NoReturn:
        """An answer without a result: a read tries again; a write's outcome is unknown."""
        if op.idempotent:
            raise Retryable(what, final=N11BadResponse if status < 500 else N11Unavailable)
        raise N11Unavailable(f"N11 {op.label}: {what}; N11 may or may not have taken the request, so it is not "
                             "sent again blindly", status=status)

    def _check_result(self, op: Operation, answer: dict) -> None:
        result = answer.get("result")
        outcome = str(result.get("status") or "").strip().lower() if isinstance(result, dict) else ""
        if outcome == SUCCESS:
            return
        if outcome != FAILURE:
            raise N11BadResponse(f"N11 answered {op.label} without a result status of success or failure: "
                                 f"{self._excerpt(answer.get('result'))}")
        code = self.transport.clean(str(result.get("errorCode") or "")).strip()
        message = self.transport.clean(str(result.get("errorMessage") or "")).strip()
        said = f"{code or 'no errorCode'}: {message or 'no errorMessage'}"[:300]
        if code == AUTH_FAILED or "authentication" in code.lower():
            raise N11AuthError(f"N11 refused the API key or secret on {op.label} ({said})", n11_message=said)
        if code == THROTTLED:  # N11 refused to work: as a 429
            raise Retryable(f"N11 answered {said}")
        raise N11RequestRefused(f"N11 refused {op.label}: {said}", n11_message=said)

    def _claims_page(self, number: int, answer: dict) -> Page:
        """One ClaimReturnList answer as a ``Page`` (the ``Paginator`` refuses pages that contradict themselves);
        a page that is not the one asked for is refused here."""
        label = CLAIM_RETURN_LIST.label
        listed = answer.get("claimReturnList")
        claims = _many(listed.get("claimReturn")) if isinstance(listed, dict) else []
        if not all(isinstance(claim, dict) for claim in claims):  # not quoted: a claim holds the buyer's contact
            raise N11BadResponse(f"N11 answered {label} page {number} with a claimReturn that has no fields")
        paging = answer.get("pagingData") if isinstance(answer.get("pagingData"), dict) else {}
        current = self._count(paging, "currentPage", number)
        if current is not None and current != number:
            raise N11PagingError(f"N11's answer to {label} page {number} says it is page {current}; its pages "
                                 "cannot be trusted, so the read stops")
        return Page(label, number, claims, total_pages=self._count(paging, "pageCount", number),
                    total_elements=self._count(paging, "totalCount", number),
                    size=self._count(paging, "pageSize", number) or CLAIMS_PAGE_SIZE)

    def _count(self, paging: dict, key: str, number: int) -> int | None:
        value = paging.get(key)
        if value is None:
            return None
        if not (isinstance(value, str) and value.isdigit()):
            raise N11BadResponse(f"N11 answered {CLAIM_RETURN_LIST.label} page {number} with {key}="
                                 f"{self.transport.clean(repr(value))[:50]}, not a whole number of at least 0")
        return int(value)

    def _fault(self, body: dict | None) -> str:
        fault = (body or {}).get("Fault")
        if not isinstance(fault, dict):
            return "(no fault)"
        text = " ".join(str(fault.get(key)) for key in ("faultcode", "faultstring") if fault.get(key))
        return self.transport.clean(text)[:300] or "(an empty fault)"

    def _quote(self, response: requests.Response) -> str:
        return error_message(response.status_code, response.text or "", self.transport.secret, 120)

    def _excerpt(self, value: Any) -> str:
        return repr(self.transport.clean(str(value))[:200])


def invoice_url_problem(url: str) -> str | None:
    """Why N11 would not take this invoice link (None: it may): https, with a host, at most 2048 characters."""
    if len(url) > MAX_INVOICE_URL:
        return f"the URL has {len(url)} characters; N11 takes at most {MAX_INVOICE_URL}"
    scheme, _, rest = url.partition("://")
    if scheme.lower() != "https" or not rest or rest.startswith("/"):
        return "the URL is not an https:// address; N11 takes only https links"
    if any(character.isspace() or ord(character) < 32 for character in url):
        return "the URL contains spaces or control characters"
    return None


def _envelope(operation: str, fields: Fields) -> bytes:
    return (f'<soapenv:Envelope xmlns:soapenv="{ENVELOPE}" xmlns:sch="{SCHEMAS}"><soapenv:Header/>'
            f"<soapenv:Body><sch:{operation}Request>{_elements(fields)}</sch:{operation}Request>"
            "</soapenv:Body></soapenv:Envelope>").encode()


def _elements(fields: Fields) -> str:
    return "".join(f"<{name}>{_elements(value) if isinstance(value, list) else escape(str(value))}</{name}>"
                   for name, value in fields if value is not None)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _data(element: Element, op: Operation, depth: int) -> Any:
    """An element as plain data: its text when it has no children, else a dict of its children by local name
    (a name seen twice becomes a list)."""
    if depth > MAX_DEPTH:
        raise N11BadResponse(f"N11 answered {op.label} with XML nested more than {MAX_DEPTH} levels deep")
    if len(element) == 0:
        text = (element.text or "").strip()
        return text or None
    found: dict[str, Any] = {}
    for child in element:
        name, value = _local(child.tag), _data(child, op, depth + 1)
        if name not in found:
            found[name] = value
        elif isinstance(found[name], _Repeated):
            found[name].append(value)
        else:
            found[name] = _Repeated([found[name], value])
    return found


class _Repeated(list):
    """The values of an element name repeated among its siblings (a plain list never comes from one element)."""


def _many(value: Any) -> list:
    """An element that may come once or repeated, as a list (empty when absent)."""
    if value is None:
        return []
    return list(value) if isinstance(value, _Repeated) else [value]
