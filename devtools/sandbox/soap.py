"""The SOAP side of the sandbox's N11 (``/ws/...``): envelopes in and out, authentication inside the body, and
the ReturnService and SellerInvoiceService operations the integration uses.

As on N11, a refusal is an HTTP 200 whose ``result`` says ``failure`` with an ``errorCode`` and ``errorMessage``
(a wrong key or secret is ``SELLER_API.authenticationFailed``); a request that is no SOAP envelope, or names an
operation the service does not have, is a SOAP fault with HTTP 500. No WSDL is served.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from xml.etree.ElementTree import Element, ParseError
from xml.sax.saxutils import escape

import defusedxml.ElementTree as safe_xml
from defusedxml import DefusedXmlException

from devtools.sandbox import claims, paging
from devtools.sandbox.accounts import Account
from devtools.sandbox.claims import ClaimFailure
from devtools.sandbox.errors import ApiError
from devtools.sandbox.state import SandboxState

CONTENT_TYPE = "text/xml;charset=UTF-8"
ENVELOPE = "http://schemas.xmlsoap.org/soap/envelope/"
SCHEMAS = "http://www.n11.com/ws/schemas"
AUTH_FAILED = ("SELLER_API.authenticationFailed", "Kimlik doğrulama başarısız oldu: appKey veya appSecret hatalı.")

Fields = list[tuple[str, Any]]  # element name -> text or nested Fields


@dataclass(frozen=True)
class SoapRequest:
    """One SOAP request as the sandbox read it: its operation, its fields (nested dicts of texts) and the
    credentials from its ``auth`` element."""

    operation: str
    fields: dict
    api_key: str | None
    api_secret: str | None

    def logged(self) -> dict:
        """What the request log keeps: the operation and its fields, never the secret."""
        return {"operation": self.operation, **self.fields}


class SoapFault(Exception):
    """A request the service cannot read: answered with a SOAP fault and HTTP 500."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def read_request(raw: bytes) -> SoapRequest | None:
    """The request in a SOAP envelope, or None when the body is not one (or declares a DTD or entities)."""
    try:
        root = safe_xml.fromstring(raw, forbid_dtd=True)
    except (DefusedXmlException, ParseError, ValueError, RecursionError):
        return None
    body = next((child for child in root if _local(child.tag) == "Body"), None)
    if _local(root.tag) != "Envelope" or body is None or len(body) == 0:
        return None
    operation = _local(body[0].tag).removesuffix("Request")
    try:
        fields = _data(body[0])
    except RecursionError:
        return None
    fields = fields if isinstance(fields, dict) else {}
    auth = fields.pop("auth", None)
    auth = auth if isinstance(auth, dict) else {}
    return SoapRequest(operation, fields, auth.get("appKey"), auth.get("appSecret"))


def respond(state: SandboxState, service: Any, request: SoapRequest | None) -> tuple[int, bytes]:
    """The status and body N11 answers a SOAP request with: a fault, a failure result, or the answer."""
    if request is None:
        return 500, _fault("SOAP-ENV:Client", "Could not read the request: not a SOAP envelope")
    account = state.authenticate(request.api_key, request.api_secret)
    if account is None:
        return 200, _answer(request.operation, _result("failure", *AUTH_FAILED))
    try:
        fields = service(state, account, {}, request)
    except SoapFault as fault:
        return 500, _fault(fault.code, fault.message)
    except ClaimFailure as failure:
        return 200, _answer(request.operation, _result("failure", failure.code, failure.message))
    return 200, _answer(request.operation, [*_result("success"), *fields])


def return_service(state: SandboxState, account: Account, query: Mapping[str, str], request: SoapRequest) -> Fields:
    """POST /ws/returnService/: ClaimReturnList, ClaimReturnDenyReasonTypes, ClaimReturnApprove, ClaimReturnDeny."""
    fields = request.fields
    if request.operation == "ClaimReturnList":
        search = fields.get("searchData") if isinstance(fields.get("searchData"), dict) else {}
        rows = claims.listed(account, search, state.claim_period_filter)
        pages = fields.get("pagingData") if isinstance(fields.get("pagingData"), dict) else {}
        try:
            page = paging.int_param(pages, "currentPage", 0)
        except ApiError:
            raise ClaimFailure("validation.currentPage.invalid", "currentPage bir sayı olmalıdır.") from None
        content, total_pages = paging.page_of(rows, max(page, 0), claims.PAGE_SIZE)
        return [("claimReturnList", [("claimReturn", claims.wire(claim)) for claim in content]),
                ("pagingData", [("currentPage", page), ("pageSize", claims.PAGE_SIZE), ("totalCount", len(rows)),
                                ("pageCount", total_pages)])]
    if request.operation == "ClaimReturnDenyReasonTypes":
        return _reason_list(state.soap_list_shape)
    if request.operation == "ClaimReturnApprove":
        claims.decide(account, fields.get("claimReturnId"), "APPROVED")
        return []
    if request.operation == "ClaimReturnDeny":
        claims.decide(account, fields.get("claimReturnId"), "DENIED", fields.get("denyReasonId"),
                      fields.get("denyReasonNote"))
        return []
    raise _no_endpoint(request)


def invoice_service(state: SandboxState, account: Account, query: Mapping[str, str],
                    request: SoapRequest) -> Fields:
    """POST /ws/SellerInvoiceService: SaveLinkSellerInvoice."""
    if request.operation != "SaveLinkSellerInvoice":
        raise _no_endpoint(request)
    claims.save_invoice_link(account, request.fields)
    return []


def _reason_list(shape: str) -> Fields:
    """The deny reasons as production sends them (the list element repeated once per reason) or as the WSDL
    describes them (one list element holding a ``denyReasonTypeData`` per reason)."""
    reasons = [[("id", reason_id), ("value", text)] for reason_id, text in claims.DENY_REASONS]
    if shape == "wsdl":
        return [("denyReasonTypeDataList", [("denyReasonTypeData", reason) for reason in reasons])]
    return [("denyReasonTypeDataList", reason) for reason in reasons]


def _no_endpoint(request: SoapRequest) -> SoapFault:
    return SoapFault("SOAP-ENV:Client", f"No endpoint mapping found for {request.operation}Request")


def _result(status: str, code: str | None = None, message: str | None = None) -> Fields:
    found = [("status", status)] + ([("errorCode", code), ("errorMessage", message),
                                     ("errorCategory", "SELLER_API")] if code else [])
    return [("result", found)]


def _answer(operation: str, fields: Fields) -> bytes:
    return _envelope(f'<ns3:{operation}Response xmlns:ns3="{SCHEMAS}">{_elements(fields)}</ns3:{operation}Response>')


def _fault(code: str, message: str) -> bytes:
    return _envelope(f"<SOAP-ENV:Fault><faultcode>{escape(code)}</faultcode><faultstring xml:lang=\"en\">"
                     f"{escape(message)}</faultstring></SOAP-ENV:Fault>")


def _envelope(body: str) -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8"?><SOAP-ENV:Envelope xmlns:SOAP-ENV="{ENVELOPE}">'
            f"<SOAP-ENV:Header/><SOAP-ENV:Body>{body}</SOAP-ENV:Body></SOAP-ENV:Envelope>").encode()


def _elements(fields: Fields) -> str:
    return "".join(f"<{name}>{_elements(value) if isinstance(value, list) else escape(str(value))}</{name}>"
                   for name, value in fields)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _data(element: Element) -> Any:
    """An element's text, or its children as a dict by local name (the requests here repeat no element)."""
    if len(element) == 0:
        return (element.text or "").strip() or None
    return {_local(child.tag): _data(child) for child in element}
