"""Typed errors of the N11 client and the parsing of N11's error answers.

N11 answers errors in several envelopes (JSON with ``@type``/``message`` on ``/ms``, JSON with
``errorCode``/``errorMessage`` on ``/rest``, plain text or HTML elsewhere), so callers get one exception type
per situation a person must handle differently, each carrying N11's own message. No message ever contains
the API secret: the client never puts request headers into one.
"""

from __future__ import annotations

import json
import re

import requests


class N11Error(Exception):
    """Base of every error the client raises."""

    def __init__(self, message: str, *, status: int | None = None, n11_message: str | None = None):
        super().__init__(message)
        self.status = status
        self.n11_message = n11_message


class N11AuthError(N11Error):
    """N11 refused the API key or secret (or one of them is missing). Retrying cannot help."""


class N11OrderServiceClosed(N11AuthError):
    """The credentials work for products, but N11's order service does not answer this API user."""


class N11RequestRefused(N11Error):
    """N11 refused the request itself (bad parameter, invalid payload): N11's message says why."""


class N11Unavailable(N11Error):
    """N11 kept failing (429, 5xx, timeouts, resets) after every retry, or a write's outcome is unknown."""


class N11BadResponse(N11Error):
    """N11 answered 200 with something that is not the expected JSON (truncated, HTML, missing fields)."""


_MISSING_HEADER = "MissingRequestHeaderException"
_REST_AUTH_CODE = "SELLER_API.authenticationFailed"
_TAGS = re.compile(r"<[^>]+>")


def error_message(response: requests.Response, limit: int = 300) -> str:
    """N11's own words from an error answer, whatever its envelope."""
    text = response.text or ""
    try:
        body = json.loads(text)
    except ValueError:
        body = None
    if isinstance(body, dict):
        parts = [body.get(k) for k in ("@type", "errorCode", "exception", "error", "message", "errorMessage")]
        found = " ".join(str(p) for p in parts if p)
        if found:
            return found[:limit]
    plain = " ".join(_TAGS.sub(" ", text).split())
    return plain[:limit] or f"HTTP {response.status_code} with an empty body"


def is_auth_refusal(response: requests.Response) -> bool:
    """True when the answer means "wrong or unknown credentials" in any of N11's dialects."""
    if response.status_code in (401, 403):
        return True
    return response.status_code == 400 and _REST_AUTH_CODE in (response.text or "")


def is_missing_header(response: requests.Response) -> bool:
    return response.status_code == 500 and _MISSING_HEADER in (response.text or "")


_BAD_INPUT = ("ConstraintViolationException", "IllegalArgumentException",
              "MethodArgumentTypeMismatchException", "HttpMessageNotReadableException")


def is_refused_request(response: requests.Response) -> bool:
    """4xx, or a 500 naming a bad-input exception: N11 rejects the request itself, so a retry would fail again."""
    status, text = response.status_code, response.text or ""
    if status == 429:
        return False
    if 400 <= status < 500:
        return True
    return status == 500 and any(name in text for name in _BAD_INPUT)
