"""G. Deadlines: `total_timeout` bounds the whole call, `stream_idle_timeout` the gaps.

`total_timeout` covers connecting, every retry and its backoff, and the whole
stream. Only a complete SSE event with a `data` field resets the idle timer:
comments, other fields, a line that never ends and data lines that never get
their blank line do not. Each call runs under a watchdog that fails the test if
it is still running after the bound.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest

from langchain_gptoss import GptOssServerError, GptOssTimeoutError
from tests.hostile.server import (
    LAST_CHUNK,
    answer,
    answer_events,
    completion,
    head,
    json_response,
    sse_body,
    sse_event,
    sse_head,
)
from tests.hostile.support import make_model, run_call

if TYPE_CHECKING:
    from collections.abc import Callable

    from tests.hostile.server import Connection, HostileServer, Request


def drip_sse(conn: Connection, _request: Request) -> None:
    """A valid stream, one byte every 0.5 s."""
    conn.send(sse_head())
    conn.drip(sse_body(answer_events(["word "] * 20)), every=0.5, chunked=True)


def drip_json(conn: Connection, _request: Request) -> None:
    """A valid JSON answer, one byte every 0.5 s."""
    body = json.dumps(completion()).encode()
    conn.send(
        head(
            200,
            [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
        )
    )
    conn.drip(body, every=0.5)


def empty_events_forever(conn: Connection, _request: Request) -> None:
    """Well-formed events that carry nothing, every 100 ms, without end."""
    event = {"id": "cmpl-1", "object": "chat.completion.chunk", "choices": []}
    conn.send(sse_head())
    conn.repeat(sse_event(event), every=0.1, chunked=True)


TOTAL = {
    "drip-sse": (drip_sse, "stream"),
    "drip-json": (drip_json, "invoke"),
    "empty-events-forever": (empty_events_forever, "stream"),
}


@pytest.mark.parametrize("name", list(TOTAL))
def test_total_timeout(
    name: str, mode: str, serve: Callable[..., HostileServer]
) -> None:
    script, how = TOTAL[name]
    server = serve(script)
    model = make_model(server, total_timeout=2, max_retries=2)
    outcome = run_call(model, mode, how, limit=6)
    error = outcome.raised(GptOssTimeoutError)
    assert "total_timeout" in str(error)
    assert 1.6 <= outcome.elapsed < 6
    assert len(server.requests) == 1  # no time was left for a retry


def test_total_timeout_bounds_retries(
    mode: str, serve: Callable[..., HostileServer]
) -> None:
    unavailable = {
        "error": {"message": "Service Unavailable", "type": "Error", "code": 503}
    }
    server = serve(lambda conn, _r: conn.send(json_response(503, unavailable)))
    model = make_model(server, total_timeout=1, max_retries=5)
    outcome = run_call(model, mode, "invoke", limit=6)
    error = outcome.typed()
    assert isinstance(error, (GptOssServerError, GptOssTimeoutError)), repr(error)
    assert outcome.elapsed < 3, f"took {outcome.elapsed:.1f}s"


@pytest.mark.parametrize("how", ["invoke", "stream"])
def test_total_timeout_leaves_a_normal_call_alone(
    how: str, mode: str, serve: Callable[..., HostileServer]
) -> None:
    server = serve(answer)
    outcome = run_call(make_model(server, total_timeout=5), mode, how)
    outcome.ok()
    assert outcome.text == "Hello world"


# ------------------------------------------------------------------ idle timeout


def pings_only(conn: Connection) -> None:
    conn.repeat(b": ping\n\n", every=0.1, chunked=True)


def fields_without_data(conn: Connection) -> None:
    conn.repeat(b"event: ping\nid: 7\nretry: 100\n\n", every=0.1, chunked=True)


def partial_line_drip(conn: Connection) -> None:
    line = (
        b'data: {"id":"cmpl-1","choices":[{"index":0,"delta":{"content":"' + b"a" * 500
    )
    conn.drip(line, every=0.2, chunked=True)


def data_lines_without_blank(conn: Connection) -> None:
    conn.repeat(b'data: {"choices":[]}\n', every=0.1, chunked=True)


IDLE = {
    "pings-only": pings_only,
    "fields-without-data": fields_without_data,
    "partial-line-drip": partial_line_drip,
    "data-lines-without-blank-line": data_lines_without_blank,
}


def busy_without_events(
    stall: Callable[[Connection], None], *, after_first_event: bool
) -> Callable[[Connection, Request], None]:
    """A stream that keeps the connection busy with `stall`, maybe after one event."""

    def script(conn: Connection, _request: Request) -> None:
        conn.send(sse_head())
        if after_first_event:
            conn.send_chunk(sse_event(answer_events(["a"])[0]))
        stall(conn)

    return script


@pytest.mark.parametrize("name", list(IDLE))
def test_stream_idle_timeout(
    name: str, mode: str, serve: Callable[..., HostileServer]
) -> None:
    server = serve(busy_without_events(IDLE[name], after_first_event=True))
    model = make_model(server, stream_idle_timeout=1)
    outcome = run_call(model, mode, "stream", limit=5)
    error = outcome.raised(GptOssTimeoutError)
    assert "stream_idle_timeout" in str(error)
    assert 0.8 <= outcome.elapsed < 4


@pytest.mark.parametrize("name", list(IDLE))
def test_the_first_event_is_awaited_for_the_read_timeout(
    name: str, mode: str, serve: Callable[..., HostileServer]
) -> None:
    """Before the first event the idle timeout does not apply, and nothing resends."""
    server = serve(busy_without_events(IDLE[name], after_first_event=False))
    model = make_model(server, stream_idle_timeout=0.3, timeout=2, max_retries=2)
    outcome = run_call(model, mode, "stream", limit=6)
    error = outcome.raised(GptOssTimeoutError)
    assert "first event" in str(error)
    assert 1.8 <= outcome.elapsed < 5
    assert len(server.requests) == 1


def test_data_events_reset_the_idle_timer(
    mode: str, serve: Callable[..., HostileServer]
) -> None:
    def slow_but_alive(conn: Connection, _request: Request) -> None:
        conn.send(sse_head())
        for event in answer_events(["a", "b"]):
            conn.sleep(0.35)
            conn.send_chunk(b": ping\n\n" + sse_event(event))
        conn.send_chunk(b"data: [DONE]\n\n")
        conn.send(LAST_CHUNK)

    server = serve(slow_but_alive)
    outcome = run_call(make_model(server, stream_idle_timeout=1), mode, "stream")
    outcome.ok()
    assert outcome.text == "ab"
    assert outcome.elapsed > 1.5  # longer than the idle timeout, in total
