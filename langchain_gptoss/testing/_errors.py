"""Error bodies as vLLM and the E2E gateway write them (protocol §1.5, §2.e)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from langchain_gptoss.testing._types import BodyKind, GatewayStyle

HARMONY_ERROR = "Unexpected token 200002 while expecting start token 200006"
"""The HarmonyError text vLLM reports when gpt-oss output cannot be parsed."""

JSON_TYPE = "application/json"
TEXT_TYPE = "text/plain; charset=utf-8"
HTML_TYPE = "text/html"

_GATEWAY_MESSAGES = {
    400: "Bad Request",
    401: "Unauthorized: invalid or expired token",
    403: "Forbidden: access to this resource is denied",
    404: "Not Found: no route matches the requested path",
    405: "Method Not Allowed",
    411: "Length Required",
    413: "Request Entity Too Large",
    429: "Too Many Requests: rate limit exceeded, retry later",
}


def phrase(status: int) -> str:
    """Return the standard reason phrase of an HTTP status."""
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def vllm_error(
    message: str, type_: str, code: int, param: str | None = None
) -> dict[str, Any]:
    """Build vLLM's ``ErrorResponse`` body (HTTP status equals ``code``)."""
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


def dump(payload: Any) -> bytes:
    """Serialize like Starlette's ``JSONResponse`` (compact, raw UTF-8)."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


def gateway_error(
    status: int, style: GatewayStyle, message: str | None = None
) -> tuple[bytes, str]:
    """Return ``(body, content_type)`` of an error written by the E2E gateway."""
    text = message or _GATEWAY_MESSAGES.get(status, phrase(status))
    if style == "json":
        return dump(vllm_error(text, phrase(status), status)), JSON_TYPE
    if style == "message":
        return dump({"message": text}), JSON_TYPE
    return text.encode(), TEXT_TYPE


def html_page(status: int) -> bytes:
    """Return the error page nginx serves for an upstream failure."""
    title = f"{status} {phrase(status)}"
    return (
        f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n"
        f"<center><h1>{title}</h1></center>\r\n<hr><center>nginx</center>\r\n"
        "</body>\r\n</html>\r\n"
    ).encode()


def _default_kind(status: int) -> BodyKind:
    if status in {401, 403, 429}:
        return "message"
    if status in {502, 503, 504}:
        return "html"
    return "vllm"


def _vllm_fault(status: int, model: str) -> dict[str, Any]:
    if status == HTTPStatus.BAD_REQUEST:
        return vllm_error(
            "max_tokens must be at least 1, got -42.", "BadRequestError", 400
        )
    if status == HTTPStatus.NOT_FOUND:
        return vllm_error(f"The model `{model}` does not exist.", "NotFoundError", 404)
    if status == HTTPStatus.INTERNAL_SERVER_ERROR:
        return vllm_error(HARMONY_ERROR, phrase(status), status)
    return vllm_error(phrase(status), phrase(status), status)


def fault_body(status: int, kind: BodyKind | None, model: str) -> tuple[bytes, str]:
    """Return ``(body, content_type)`` for an injected error status."""
    kind = kind or _default_kind(status)
    if kind == "vllm":
        return dump(_vllm_fault(status, model)), JSON_TYPE
    if kind == "html":
        return html_page(status), HTML_TYPE
    return gateway_error(status, kind)


def sniff_type(body: bytes) -> str:
    """Guess the content type of a raw body override."""
    stripped = body.lstrip()
    if stripped.startswith((b"data:", b":")):
        return "text/event-stream; charset=utf-8"
    if stripped.startswith(b"<"):
        return HTML_TYPE
    try:
        json.loads(body)
    except ValueError:
        return TEXT_TYPE
    return JSON_TYPE


@dataclass(frozen=True)
class Invalid:
    """A pydantic validation error before the release words it (§2.e).

    Attributes:
        kind: The pydantic error type, e.g. ``missing`` or ``value_error``.
        loc: The location below ``body``.
        msg: The pydantic message; for ``value_error`` the validator's own text.
        value: The input pydantic echoes.
        ctx: The error context (``value_error``: filled in by the release).
        param: The parameter a model validator names (``value_error`` only).
        cut: How many parts of ``loc`` vLLM's dotted forms keep (union errors).
    """

    kind: str
    loc: tuple[str | int, ...]
    msg: str
    value: Any
    ctx: dict[str, Any] | None = None
    param: str | None = None
    cut: int | None = None


@dataclass(frozen=True)
class ApiError:
    """An error answer: HTTP status plus vLLM JSON body.

    ``invalid`` holds a validation error still to be worded for the release
    played; ``payload`` is then the oldest releases' wording. ``union`` holds
    instead the errors of every member of a union that refused the input.
    """

    status: int
    payload: dict[str, Any]
    invalid: Invalid | None = None
    union: tuple[Invalid, ...] = ()
