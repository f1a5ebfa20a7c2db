"""HTTP error statuses and bodies -> this package's errors (pure).

TIR's gateway and vLLM answer errors in different shapes (vLLM's
`{"error": {...}}`, `{"message": ...}`, FastAPI's `{"detail": ...}`, plain text,
an nginx HTML page); this module finds the explanation in any of them.
"""

from __future__ import annotations

import json
import math
import re
import time
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any

from langchain_gptoss._json import load_json, text_of
from langchain_gptoss._redact import NO_SECRET, Redactor
from langchain_gptoss.errors import (
    GptOssAPIError,
    GptOssAuthenticationError,
    GptOssBadRequestError,
    GptOssContextOverflowError,
    GptOssNotFoundError,
    GptOssPermissionDeniedError,
    GptOssRateLimitError,
    GptOssServerError,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

_SERVER_MESSAGE_LIMIT = 500
BODY_EXCERPT = 2000
# Where an HTML error page keeps its explanation; only its start is searched.
_HTML_SEARCHED = 16_384
# Nesting deeper than any error object needs; deeper input is not explored.
_MAX_DEPTH = 8

_CONTEXT_OVERFLOW = re.compile(
    r"maximum context length|longer than the maximum model length"
    r"|max_tokens must be at least 1, got -|context_length_exceeded",
    re.IGNORECASE,
)
_HINTS = {
    401: "check the token in E2E_TIR_ACCESS_TOKEN or api_key; TIR tokens expire "
    "365 days after creation",
    403: "the token has no access to this project; check project_id",
    404: "check project_id, model and base_url",
}


def message_from_json(payload: Any, depth: int = 0) -> str | None:
    """The explanation inside a JSON error object, in any known shape."""
    if not isinstance(payload, dict) or depth > _MAX_DEPTH:
        return None
    for key in ("error", "message", "detail", "errors"):
        value = payload.get(key)
        if isinstance(value, dict):
            nested = message_from_json(value, depth + 1)
            if nested:
                return nested
        elif isinstance(value, str) and value:
            return value
        elif value:
            try:
                shown = json.dumps(value, ensure_ascii=False)
            except (ValueError, RecursionError):
                shown = "(an error object too deeply nested to show)"
            return shown[:_SERVER_MESSAGE_LIMIT]
    return None


def _html_title(text: str) -> str | None:
    """The text of the first `<title>` or `<h1>`, found with linear scans.

    A regex with a lazy `.*?` rescans to the end from every unclosed tag, which
    is quadratic in a page of them.
    """
    page = text[:_HTML_SEARCHED]
    lower = page.lower()
    for tag in ("title", "h1"):
        opening = lower.find(f"<{tag}")
        if opening < 0:
            continue
        start = lower.find(">", opening) + 1
        end = lower.find(f"</{tag}", start) if start else -1
        if end > start:
            return " ".join(page[start:end].split())[:_SERVER_MESSAGE_LIMIT]
    return None


def server_message(text: str) -> str:
    """Find the human-readable explanation in an error body of any shape."""
    stripped = text.strip()
    try:
        message = message_from_json(load_json(stripped))
    except ValueError:
        message = None
    if message:
        return message
    if stripped.startswith("<"):
        title = _html_title(stripped)
        if title:
            return title
    return stripped[:_SERVER_MESSAGE_LIMIT] or "(empty body)"


def _seconds(raw: str, scale: float = 1.0) -> float | None:
    try:
        value = float(raw) * scale
    except ValueError:
        return None
    return max(value, 0.0) if math.isfinite(value) else None


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    """Read `retry-after-ms` or `Retry-After` (seconds or an HTTP date).

    Anything that is not a finite number or a date (`nan`, `inf`, junk) counts
    as absent, so the normal backoff applies.
    """
    raw_ms = headers.get("retry-after-ms")
    if raw_ms:
        seconds = _seconds(raw_ms, 0.001)
        if seconds is not None:
            return seconds
    raw = headers.get("retry-after")
    if not raw:
        return None
    seconds = _seconds(raw)
    if seconds is not None:
        return seconds
    try:
        when = parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return max(when.timestamp() - time.time(), 0.0)


def is_context_overflow(message: str, code: object = None) -> bool:
    """Whether an error says the prompt and budget do not fit the context."""
    return code == "context_length_exceeded" or bool(_CONTEXT_OVERFLOW.search(message))


def error_from_response(
    status: int,
    headers: Mapping[str, str],
    text: str,
    redact: Redactor = NO_SECRET,
) -> GptOssAPIError:
    """Map an HTTP error status and body to the matching error class."""
    message = redact.excerpt(server_message(text), _SERVER_MESSAGE_LIMIT)
    hint = _HINTS.get(status)
    if hint:
        message = f"{message} ({hint})"
    cls: type[GptOssAPIError]
    if 400 <= status < 500 and is_context_overflow(message):  # noqa: PLR2004
        cls = GptOssContextOverflowError
    else:
        cls = _STATUS_ERRORS.get(status) or (
            GptOssServerError if status >= 500 else GptOssBadRequestError  # noqa: PLR2004
        )
    return cls(
        message,
        status_code=status,
        body=redact.excerpt(text, BODY_EXCERPT),
        retry_after=retry_after_seconds(headers),
        request_id=headers.get("x-request-id"),
    )


_STATUS_ERRORS: dict[int, type[GptOssAPIError]] = {
    401: GptOssAuthenticationError,
    403: GptOssPermissionDeniedError,
    404: GptOssNotFoundError,
    408: GptOssServerError,
    409: GptOssServerError,
    429: GptOssRateLimitError,
}


def embedded_status(error: Any) -> int:
    """The HTTP status a 200 body's (or an event's) error object stands for."""
    code = error.get("code") if isinstance(error, dict) else None
    if isinstance(code, int) and 400 <= code < 600:  # noqa: PLR2004
        return code
    if code == "context_length_exceeded":
        return 400
    return 500


def parse_json_body(
    status: int,
    headers: Mapping[str, str],
    content: bytes,
    redact: Redactor = NO_SECRET,
) -> dict[str, Any]:
    """Return a successful response's JSON object, or raise the mapped error.

    The body is decoded to text only for an error message, never on success.
    """
    if status >= 400:  # noqa: PLR2004
        raise error_from_response(status, headers, text_of(content), redact)
    try:
        payload = load_json(content)
    except ValueError:
        payload = None
    if not isinstance(payload, dict):
        text = text_of(content)
        msg = f"Expected a JSON object, got: {redact.excerpt(text, 200)!r}"
        raise GptOssAPIError(
            msg, status_code=status, body=redact.excerpt(text, BODY_EXCERPT)
        )
    if "choices" not in payload and payload.get("error"):
        raise error_from_response(
            embedded_status(payload["error"]), headers, text_of(content), redact
        )
    return payload
