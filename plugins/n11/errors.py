"""Typed errors of the N11 client and the parsing of N11's error answers.

N11 answers errors in several envelopes (JSON with ``@type``/``message`` on ``/ms``, JSON with
``errorCode``/``errorMessage`` on ``/rest``, plain text or HTML elsewhere), so callers get one exception type
per situation a person must handle differently, each carrying N11's own message. No message ever contains
the API secret: a hostile or broken server may echo the request headers, so the client passes every text it
quotes from an answer through ``scrub`` before it becomes part of a message.
"""

from __future__ import annotations

import json
import re
from urllib.parse import quote, quote_plus


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
    """N11 answered with something that is not the expected JSON (truncated, HTML, missing fields, a redirect)."""


class N11PagingError(N11BadResponse):
    """N11's pages contradict themselves or never end: reading on would cost calls without end."""


_MISSING_HEADER = "MissingRequestHeaderException"
_REST_AUTH_CODE = "SELLER_API.authenticationFailed"
_TAGS = re.compile(r"<[^>]+>")


SCRUBBED = "[secret removed]"
WITHHELD = "[answer left out: it quotes the API secret]"
_NOT_ALNUM = re.compile(r"[\W_]+")


def scrub(text: str, secret: str) -> str:
    """The text without the secret: its plain, JSON-escaped and URL-encoded spellings are cut out, and a text
    still holding the secret's letters and digits in a row (escaped once more, quoted by repr) is left out."""
    if not secret:
        return text
    spellings = {secret, json.dumps(secret)[1:-1], json.dumps(secret, ensure_ascii=False)[1:-1],
                 quote(secret, safe=""), quote_plus(secret, safe="")}
    for spelling in sorted(spellings, key=len, reverse=True):
        text = text.replace(spelling, SCRUBBED)
    skeleton = _NOT_ALNUM.sub("", secret)
    if len(skeleton) >= 8 and skeleton in _NOT_ALNUM.sub("", text):
        return WITHHELD
    return text


def error_message(status: int, text: str, secret: str, limit: int = 300) -> str:
    """N11's own words from an error answer, whatever its envelope; scrubbed of the secret before and after
    unwrapping the envelope (which unescapes one level), and only then cut to ``limit``."""
    text = scrub(text, secret)
    try:
        body = json.loads(text)
    except (ValueError, RecursionError):
        body = None
    if isinstance(body, dict):
        parts = [body.get(k) for k in ("@type", "errorCode", "exception", "error", "message", "errorMessage")]
        found = scrub(" ".join(str(p) for p in parts if p), secret)
        if found:
            return found[:limit]
    plain = " ".join(_TAGS.sub(" ", text).split())
    return plain[:limit] or f"HTTP {status} with an empty body"


def is_auth_refusal(status: int, text: str) -> bool:
    """True when the answer means "wrong or unknown credentials" in any of N11's dialects."""
    if status in (401, 403):
        return True
    return status == 400 and _REST_AUTH_CODE in text


def is_missing_header(status: int, text: str) -> bool:
    return status == 500 and _MISSING_HEADER in text


_BAD_INPUT = ("ConstraintViolationException", "IllegalArgumentException",
              "MethodArgumentTypeMismatchException", "HttpMessageNotReadableException")


def is_refused_request(status: int, text: str) -> bool:
    """4xx, or a 500 naming a bad-input exception: N11 rejects the request itself, so a retry would fail again."""
    if status == 429:
        return False
    if 400 <= status < 500:
        return True
    return status == 500 and any(name in text for name in _BAD_INPUT)
