"""E. The right class, and the right retries (proved by counting requests).

Every model here may retry twice; a test passes only if the server saw exactly
the requests the error class allows.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

import httpx
import pytest
import trustme
from langchain_core.exceptions import ContextOverflowError

from langchain_gptoss import (
    GptOssConnectionError,
    GptOssContextOverflowError,
    GptOssTimeoutError,
)
from tests.hostile.server import (
    delta_event,
    json_response,
    sse_event,
    sse_head,
    sse_response,
)
from tests.hostile.support import make_model, own_records, run_call, watch

if TYPE_CHECKING:
    from collections.abc import Callable

    from tests.hostile.server import Connection, HostileServer, Request


VLLM_OVERFLOW = {
    "renderer": "This model's maximum context length is 131072 tokens. However, you "
    "requested 4096 output tokens and your prompt contains 130000 input tokens, for a "
    "total of 134096 tokens. Please reduce the length of the input prompt or the "
    "number of requested output tokens.",
    "input-length": "Input length (131122) exceeds model's maximum context length (131072).",
}


def overflow_400(message: str) -> Callable[[Connection, Request], None]:
    error = {
        "error": {
            "message": message,
            "type": "BadRequestError",
            "param": None,
            "code": 400,
        }
    }
    return lambda conn, _r: conn.send(json_response(400, error))


def overflow_200(conn: Connection, _request: Request) -> None:
    error = {
        "error": {
            "message": VLLM_OVERFLOW["input-length"],
            "type": "invalid_request_error",
            "code": "context_length_exceeded",
        }
    }
    conn.send(json_response(200, error))


def overflow_event(conn: Connection, _request: Request) -> None:
    error = {
        "error": {
            "message": VLLM_OVERFLOW["input-length"],
            "type": "BadRequestError",
            "code": 400,
        }
    }
    conn.send(sse_response([error]))


def assert_overflow(error: BaseException) -> None:
    assert isinstance(error, GptOssContextOverflowError)
    assert isinstance(error, ContextOverflowError)
    assert error.is_retryable is False


@pytest.mark.parametrize("how", ["invoke", "stream"])
@pytest.mark.parametrize("wording", list(VLLM_OVERFLOW))
def test_overflow_as_a_400(
    wording: str, how: str, mode: str, serve: Callable[..., HostileServer]
) -> None:
    server = serve(overflow_400(VLLM_OVERFLOW[wording]))
    outcome = run_call(make_model(server, max_retries=2), mode, how)
    assert_overflow(outcome.raised(GptOssContextOverflowError))
    assert len(server.requests) == 1


def test_overflow_as_a_200_error_body(
    mode: str, serve: Callable[..., HostileServer]
) -> None:
    server = serve(overflow_200)
    outcome = run_call(make_model(server, max_retries=2), mode, "invoke")
    assert_overflow(outcome.raised(GptOssContextOverflowError))
    assert len(server.requests) == 1


def test_overflow_as_an_error_event_before_the_first_chunk(
    mode: str, serve: Callable[..., HostileServer]
) -> None:
    server = serve(overflow_event)
    outcome = run_call(make_model(server, max_retries=2), mode, "stream")
    assert_overflow(outcome.raised(GptOssContextOverflowError))
    assert len(server.requests) == 1


# ------------------------------------------------------------------------- TLS


@pytest.mark.parametrize("how", ["invoke", "stream"])
def test_an_untrusted_certificate_is_not_retried(
    how: str, mode: str, serve: Callable[..., HostileServer]
) -> None:
    server = serve(lambda _conn, _r: None, tls=trustme.CA())
    assert server.base_url.startswith("https://127.0.0.1:")
    outcome = run_call(make_model(server, max_retries=2), mode, how)
    error = outcome.raised(GptOssConnectionError)
    assert (
        "CERTIFICATE_VERIFY_FAILED" in str(error) or "certificate" in str(error).lower()
    )
    assert server.wait_idle(5)
    retryable = error.is_retryable  # type: ignore[attr-defined]
    seen = (server.handshakes, retryable)
    assert seen == (1, False), f"(handshakes, is_retryable) = {seen}"
    assert server.requests == []


# ------------------------------------------------------------------ pool timeout

HELD = 10  # the model's in-flight limit, max_connections


def first_chunk_then_hold(conn: Connection, _request: Request) -> None:
    conn.send(sse_head())
    conn.send_chunk(sse_event(delta_event({"role": "assistant", "content": "Hel"})))
    conn.hold(30)


def _pool_timeout_sync(server: HostileServer, model: Any) -> BaseException | None:
    held = [model.stream("hi") for _ in range(HELD)]
    try:
        for stream in held:
            next(stream)
        assert len(server.requests) == HELD
        try:
            model.invoke("hi")
        except BaseException as exc:
            return exc
        return None
    finally:
        for stream in held:
            stream.close()
        model.close()


async def _pool_timeout_async(
    server: HostileServer, model: Any
) -> BaseException | None:
    held = [model.astream("hi") for _ in range(HELD)]
    try:
        for stream in held:
            await anext(stream)
        assert len(server.requests) == HELD
        try:
            await model.ainvoke("hi")
        except BaseException as exc:
            return exc
        return None
    finally:
        for stream in held:
            await stream.aclose()
        await model.aclose()


def test_a_pool_timeout_is_not_retried(
    mode: str, serve: Callable[..., HostileServer], caplog: pytest.LogCaptureFixture
) -> None:
    server = serve(first_chunk_then_hold)
    model = make_model(
        server,
        max_retries=2,
        timeout=httpx.Timeout(5.0, pool=0.05),
        max_connections=HELD,
    )
    caplog.set_level(logging.WARNING, logger="langchain_gptoss")
    if mode == "sync":
        outcome = watch(lambda: _pool_timeout_sync(server, model), 30)
    else:
        outcome = watch(lambda: asyncio.run(_pool_timeout_async(server, model)), 30)
    error = outcome.ok()
    assert isinstance(error, GptOssTimeoutError), (
        f"the call past the limit gave {error!r}"
    )
    assert len(server.requests) == HELD  # nothing was sent for the last
    records = own_records(caplog.records, outcome)
    retries = [
        r.getMessage() for r in records if "TIR request failed" in r.getMessage()
    ]
    assert retries == [], retries
