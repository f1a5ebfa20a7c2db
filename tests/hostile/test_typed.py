"""D. Every failure is typed: a GptOssError (and ModelError), never a raw one.

Never `RecursionError` (deeply nested JSON), `httpx.DecodingError` (bad gzip),
`ValueError` (a `Retry-After` that is not a number) or `zlib.error`.
"""

from __future__ import annotations

import functools
import itertools
import json
import math
import operator
import os
from typing import TYPE_CHECKING, Any

import pytest

from langchain_gptoss import GptOssRateLimitError
from tests.hostile.server import (
    completion,
    delta_event,
    json_response,
    response,
    sse_body,
    sse_response,
)
from tests.hostile.support import make_model, run_call

if TYPE_CHECKING:
    from collections.abc import Callable

    from tests.hostile.server import Connection, HostileServer, Request

NESTED = "[" * 100_000
GARBAGE = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03" + os.urandom(
    2000
)  # gzip magic, then noise


def nested_200(conn: Connection, _request: Request) -> None:
    conn.send(response(200, NESTED.encode()))


def nested_error(conn: Connection, _request: Request) -> None:
    conn.send(response(500, NESTED.encode()))


def nested_event(conn: Connection, _request: Request) -> None:
    conn.send(sse_response([NESTED]))


def encoded(
    label: str, body: Callable[[bool], bytes]
) -> Callable[[Connection, Request], None]:
    """A 200 labelled `Content-Encoding: label` whose body is `body(stream)`."""

    def handler(conn: Connection, request: Request) -> None:
        stream = request.wants_stream
        kind = "text/event-stream" if stream else "application/json"
        conn.send(response(200, body(stream), content_type=kind, encoding=label))

    return handler


def plain(stream: bool) -> bytes:
    if stream:
        return sse_body([delta_event({"content": "Hello"}), delta_event({}, "stop")])
    return json.dumps(completion()).encode()


CASES: dict[str, tuple[Callable[[Connection, Request], None], tuple[str, ...]]] = {
    "nested-json-200-body": (nested_200, ("invoke",)),
    "nested-json-error-body": (nested_error, ("invoke", "stream")),
    "nested-json-event": (nested_event, ("stream",)),
    "corrupt-gzip": (encoded("gzip", lambda _s: GARBAGE), ("invoke", "stream")),
    "says-gzip-is-plain": (encoded("gzip", plain), ("invoke", "stream")),
    "unknown-encoding": (
        encoded("br-unknown", lambda _s: os.urandom(3000)),
        ("invoke", "stream"),
    ),
}


@pytest.mark.parametrize(
    ("name", "how"),
    [pytest.param(n, h, id=f"{n}-{h}") for n, (_, hows) in CASES.items() for h in hows],
)
def test_failure_is_typed(
    name: str, how: str, mode: str, serve: Callable[..., HostileServer]
) -> None:
    server = serve(CASES[name][0])
    outcome = run_call(make_model(server), mode, how)
    outcome.typed()
    assert len(server.requests) == 1


# ------------------------------------------------------------ nested tool arguments


def nested_tool_call(conn: Connection, request: Request) -> None:
    call = {
        "id": "chatcmpl-tool-1",
        "type": "function",
        "index": 0,
        "function": {"name": "lookup", "arguments": NESTED},
    }
    if request.wants_stream:
        opener = {**call, "function": {"name": "lookup", "arguments": ""}}
        events: list[Any] = [
            delta_event({"role": "assistant", "content": ""}),
            delta_event({"tool_calls": [opener]}),
            delta_event(
                {"tool_calls": [{"index": 0, "function": {"arguments": NESTED}}]}
            ),
            delta_event({}, "tool_calls"),
        ]
        conn.send(sse_response(events))
    else:
        body = completion(None, tool_calls=[call], finish_reason="tool_calls")
        conn.send(json_response(200, body))


@pytest.mark.parametrize("how", ["invoke", "stream"])
def test_deeply_nested_tool_arguments(
    how: str, mode: str, serve: Callable[..., HostileServer]
) -> None:
    # Either the call comes back as an invalid tool call, or the whole answer
    # fails with a GptOssError; never a RecursionError.
    server = serve(nested_tool_call)
    outcome = run_call(make_model(server), mode, how)
    if outcome.error is not None:
        outcome.typed()
        return
    message: Any = outcome.result
    if how == "stream":
        message = functools.reduce(operator.add, outcome.result)
    assert not message.tool_calls
    assert [c["name"] for c in message.invalid_tool_calls] == ["lookup"]


# ------------------------------------------------------------------ Retry-After

ODD_RETRY_AFTER = ["nan", "inf", "-5", "1e400"]


def rate_limited(value: str) -> Callable[[Connection, Request], None]:
    error = {
        "error": {"message": "Too many requests", "type": "RateLimitError", "code": 429}
    }

    def handler(conn: Connection, _request: Request) -> None:
        conn.send(json_response(429, error, [("Retry-After", value)]))

    return handler


@pytest.mark.parametrize("how", ["invoke", "stream"])
@pytest.mark.parametrize("value", ODD_RETRY_AFTER)
def test_odd_retry_after_values(
    value: str, how: str, mode: str, serve: Callable[..., HostileServer]
) -> None:
    server = serve(rate_limited(value))
    outcome = run_call(make_model(server, max_retries=0), mode, how)
    error = outcome.raised(GptOssRateLimitError)
    retry_after = error.retry_after  # type: ignore[attr-defined]
    # Not a number the client could sleep for: unknown, not NaN or infinity.
    usable = retry_after is None or (math.isfinite(retry_after) and retry_after >= 0)
    assert usable, f"retry_after = {retry_after!r}"


@pytest.mark.parametrize("how", ["invoke", "stream"])
def test_retry_after_nan_gets_the_normal_backoff(
    how: str, mode: str, serve: Callable[..., HostileServer]
) -> None:
    server = serve(rate_limited("nan"))
    outcome = run_call(make_model(server, max_retries=2), mode, how)
    outcome.raised(GptOssRateLimitError)
    times = server.request_times
    assert len(times) == 3
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    # The normal backoff: 0.5 s then 1 s, each less at most 25 % jitter.
    assert min(gaps) >= 0.35, f"gaps between requests: {gaps}"
