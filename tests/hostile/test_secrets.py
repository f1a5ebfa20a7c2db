"""A. The token never shows in an error, its causes, their frames, logs or warnings.

Each server echoes the request's Authorization line back in some shape; the error
the package raises, everything chained to it, the locals of every frame its
traceback passed through, every log record (all loggers, DEBUG) and every warning
must hold no 8-character piece of the token. Two tokens: `tir-` + 40 hex digits,
and a JWT-like one with `/`, `+` and `.`.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest

from tests.hostile.server import (
    chunk,
    delta_event,
    json_response,
    reset,
    response,
    sse_event,
    sse_head,
    sse_response,
    text_response,
)
from tests.hostile.support import TOKENS, make_model, own_records, run_call
from tests.leaks import assert_no_leak

if TYPE_CHECKING:
    from collections.abc import Callable

    from tests.hostile.server import Connection, HostileServer, Request


def echo(request: Request) -> str:
    """The Authorization line, as a server that reflects headers would show it."""
    return f"Authorization: {request.authorization}"


# ------------------------------------------------------------------ the servers


def no_choices(conn: Connection, request: Request) -> None:
    conn.send(
        json_response(
            200, {"id": "cmpl-1", "object": "chat.completion", "echo": echo(request)}
        )
    )


def bad_choices(conn: Connection, request: Request) -> None:
    body = {
        "id": "cmpl-1",
        "choices": [{"index": 0, "message": echo(request), "finish_reason": "stop"}],
    }
    conn.send(json_response(200, body))


def bad_event_shape(conn: Connection, request: Request) -> None:
    conn.send(sse_response([{"id": "cmpl-1", "choices": echo(request)}]))


def non_json_event(conn: Connection, request: Request) -> None:
    conn.send(sse_response([f"upstream: {echo(request)}"]))


def non_json_200(conn: Connection, request: Request) -> None:
    conn.send(text_response(200, f"Welcome back!\n{echo(request)}\n"))


def error_status(status: int, kind: str) -> Callable[[Connection, Request], None]:
    """An error `status` whose body (JSON, text or HTML) echoes the token."""

    def handler(conn: Connection, request: Request) -> None:
        line = echo(request)
        headers = [("Retry-After", "0")] if status >= 500 else []
        if kind == "json":
            error = {
                "message": f"rejected: {line}",
                "type": "Error",
                "param": None,
                "code": status,
            }
            conn.send(json_response(status, {"error": error}, headers))
        elif kind == "text":
            conn.send(
                text_response(status, f"{status} rejected\n{line}\n", headers=headers)
            )
        else:
            page = (
                f"<html><head><title>{status} {line}</title></head><body>"
                f"<h1>{status} {line}</h1><pre>{line}</pre><hr>nginx</body></html>"
            )
            conn.send(
                text_response(status, page, content_type="text/html", headers=headers)
            )

    return handler


def error_event(*, after_first_chunk: bool) -> Callable[[Connection, Request], None]:
    def handler(conn: Connection, request: Request) -> None:
        error = {
            "error": {
                "message": f"upstream failed: {echo(request)}",
                "type": "InternalServerError",
                "code": 500,
            }
        }
        events: list[Any] = (
            [delta_event({"content": "Hello"})] if after_first_chunk else []
        )
        conn.send(sse_response([*events, error]))

    return handler


def straddling(cut: int, status: int) -> Callable[[Connection, Request], None]:
    """A plain-text body with the token across character `cut` of the body."""

    def handler(conn: Connection, request: Request) -> None:
        token = request.token
        start = cut - len(token) // 2
        body = "x" * start + token + "y" * (cut + 500)
        assert body.index(token) < cut < body.index(token) + len(token)
        headers = [("Retry-After", "0")] if status >= 500 else []
        conn.send(text_response(status, body, headers=headers))

    return handler


def escaped(status: int) -> Callable[[Connection, Request], None]:
    """The token JSON-escaped (`\\/` for `/`) inside a JSON body."""

    def handler(conn: Connection, request: Request) -> None:
        token = request.token.replace("/", "\\/")
        if status == 200:
            text = (
                '{"id": "cmpl-1", "object": "chat.completion", "note": "token '
                + token
                + '"}'
            )
        else:
            text = (
                '{"error": {"message": "token '
                + token
                + ' is invalid", "type": "BadRequestError", "code": 400}}'
            )
        assert request.token not in text
        conn.send(response(status, text.encode()))

    return handler


def partial(kind: str) -> Callable[[Connection, Request], None]:
    """Only the first 14 characters of the token."""

    def handler(conn: Connection, request: Request) -> None:
        shown = request.token[:14]
        if kind == "json":
            error = {
                "message": f"token {shown}... has expired",
                "type": "Unauthorized",
                "code": 401,
            }
            conn.send(json_response(401, {"error": error}))
        else:
            conn.send(
                text_response(200, f"session for {shown}... expired, log in again")
            )

    return handler


def reset_mid_stream(conn: Connection, _request: Request) -> None:
    """The stream starts, then the connection resets (the error comes from httpx).

    The answer itself does not carry the token: text already handed to the caller
    stays in LangChain's own frames, which no client can clean.
    """
    conn.send(sse_head())
    conn.send(chunk(sse_event(delta_event({"content": "Hello"}))))
    conn.reset()


@dataclass(frozen=True)
class Case:
    script: Callable[[Connection, Request], None]
    hows: tuple[str, ...] = ("invoke", "stream")
    settings: dict[str, Any] = field(default_factory=dict)
    tokens: tuple[str, ...] = ("hex", "jwt")


CASES: dict[str, Case] = {
    "i-200-no-choices": Case(no_choices),
    "ii-200-bad-choices": Case(bad_choices),
    "iii-event-bad-shape": Case(bad_event_shape, ("stream",)),
    "iii-event-not-json": Case(non_json_event, ("stream",)),
    "iv-200-not-json": Case(non_json_200),
    **{
        f"v-{status}-{kind}": Case(
            error_status(status, kind),
            settings={"max_retries": 1} if status >= 500 else {},
        )
        for status in (401, 400, 500)
        for kind in ("json", "text", "html")
    },
    "vi-error-event-first": Case(
        error_event(after_first_chunk=False), ("stream",), {"max_retries": 1}
    ),
    "vi-error-event-mid": Case(
        error_event(after_first_chunk=True), ("stream",), {"max_retries": 1}
    ),
    **{
        f"vii-cut-{cut}-status-{status}": Case(straddling(cut, status))
        for cut in (200, 500, 2000)
        for status in (200, 500)
    },
    "viii-escaped-200": Case(escaped(200), tokens=("jwt",)),
    "viii-escaped-400": Case(escaped(400), tokens=("jwt",)),
    "ix-partial-401-json": Case(partial("json")),
    "ix-partial-200-text": Case(partial("text")),
    "reset-after-request": Case(reset, settings={"max_retries": 1}),
    "reset-mid-stream": Case(reset_mid_stream, ("stream",)),
}

PARAMS = [
    pytest.param(name, kind, how, id=f"{name}-{kind}-{how}")
    for name, case in CASES.items()
    for kind in case.tokens
    for how in case.hows
]


@pytest.mark.parametrize(("name", "kind", "how"), PARAMS)
def test_token_never_leaks(
    name: str,
    kind: str,
    how: str,
    mode: str,
    serve: Callable[..., HostileServer],
    caplog: pytest.LogCaptureFixture,
) -> None:
    case = CASES[name]
    token = TOKENS[kind]
    server = serve(case.script)
    model = make_model(server, token, **case.settings)
    caplog.set_level(logging.DEBUG)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        outcome = run_call(model, mode, how)
    error = outcome.typed()
    assert server.requests, "the server saw no request"
    assert server.requests[0].token == token
    assert_no_leak(
        error, token, records=own_records(caplog.records, outcome), warnings=caught
    )


# ------------------------------------------------------------- the checker itself
