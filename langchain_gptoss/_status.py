"""HTTP error statuses and bodies -> this package's errors (pure).

TIR's gateway and vLLM answer errors in different shapes (vLLM's
`{"error": {...}}`, `{"message": ...}`, FastAPI's `{"detail": ...}`, plain text,
an nginx HTML page); this module finds the explanation in any of them.
"""

from __future__ import annotations

import json
import re
import time
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any

from pydantic_core import from_json

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
_BODY_LIMIT = 2000

_CONTEXT_OVERFLOW = re.compile(
    r"maximum context length|longer than the maximum model length"
    r"|max_tokens must be at least 1, got -",
    re.IGNORECASE,
)
_HTML_TITLE = re.compile(
    r"<(?:title|h1)[^>]*>(.*?)</(?:title|h1)>", re.IGNORECASE | re.DOTALL
)
_HINTS = {
    401: "check the token in E2E_TIR_ACCESS_TOKEN or api_key; TIR tokens expire "
    "365 days after creation",
    403: "the token has no access to this project; check project_id",
    404: "check project_id, model and base_url",
}


def redact(text: str, secret: str) -> str:
    """Remove every occurrence of `secret` from `text`."""
    return text.replace(secret, "***") if secret and secret in text else text


def message_from_json(payload: Any) -> str | None:
    """The explanation inside a JSON error object, in any known shape."""
    if not isinstance(payload, dict):
        return None
    for key in ("error", "message", "detail", "errors"):
        value = payload.get(key)
        if isinstance(value, dict):
            nested = message_from_json(value)
            if nested:
                return nested
        elif isinstance(value, str) and value:
            return value
        elif value:
            return json.dumps(value, ensure_ascii=False)[:_SERVER_MESSAGE_LIMIT]
    return None


def server_message(text: str) -> str:
    """Find the human-readable explanation in an error body of any shape."""
    stripped = text.strip()
    try:
        message = message_from_json(json.loads(stripped))
    except ValueError:
        message = None
    if message:
        return message
    if stripped.startswith("<"):
        title = _HTML_TITLE.search(stripped)
        if title:
            return " ".join(title.group(1).split())
    return stripped[:_SERVER_MESSAGE_LIMIT] or "(empty body)"


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    """Read `retry-after-ms` or `Retry-After` (seconds or an HTTP date)."""
    raw_ms = headers.get("retry-after-ms")
    if raw_ms:
        try:
            return max(float(raw_ms) / 1000.0, 0.0)
        except ValueError:
            pass
    raw = headers.get("retry-after")
    if not raw:
        return None
    try:
        return max(float(raw), 0.0)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    return max(when.timestamp() - time.time(), 0.0)


def error_from_response(
    status: int, headers: Mapping[str, str], text: str, secret: str = ""
) -> GptOssAPIError:
    """Map an HTTP error status and body to the matching error class."""
    message = redact(server_message(text), secret)
    hint = _HINTS.get(status)
    if hint:
        message = f"{message} ({hint})"
    cls: type[GptOssAPIError]
    if status == 400 and _CONTEXT_OVERFLOW.search(message):  # noqa: PLR2004
        cls = GptOssContextOverflowError
    else:
        cls = _STATUS_ERRORS.get(status) or (
            GptOssServerError if status >= 500 else GptOssBadRequestError  # noqa: PLR2004
        )
    return cls(
        message,
        status_code=status,
        body=redact(text[:_BODY_LIMIT], secret),
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


def load_json(data: str | bytes) -> Any:
    """Parse JSON with pydantic-core's parser, three times as fast as `json`.

    It refuses escaped lone surrogates, which `json` accepts, so a refusal falls
    back to `json`; either raises `ValueError` on malformed input.
    """
    try:
        return from_json(data)
    except ValueError:
        return json.loads(data)


def parse_json_body(
    status: int, headers: Mapping[str, str], content: bytes, secret: str = ""
) -> dict[str, Any]:
    """Return a successful response's JSON object, or raise the mapped error.

    The body is decoded to text only for an error message, never on success.
    """
    if status >= 400:  # noqa: PLR2004
        raise error_from_response(status, headers, _text(content), secret)
    try:
        payload = load_json(content)
    except ValueError:
        payload = None
    if not isinstance(payload, dict):
        text = _text(content)
        msg = f"Expected a JSON object, got: {redact(text[:200], secret)!r}"
        raise GptOssAPIError(msg, status_code=status, body=redact(text, secret))
    if "choices" not in payload and payload.get("error"):
        error = payload["error"]
        code = error.get("code") if isinstance(error, dict) else None
        raise error_from_response(
            code if isinstance(code, int) else 500, headers, _text(content), secret
        )
    return payload


def _text(content: bytes) -> str:
    return content.decode("utf-8", errors="replace")
