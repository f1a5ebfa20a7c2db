"""The hostile server itself, driven by plain httpx: it counts, and it stops."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import httpx
import pytest

from tests.hostile.server import (
    HostileServer,
    answer,
    json_response,
    sse_head,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from tests.hostile.server import Connection, Request


def test_counts_requests_and_connections(serve: Callable[..., HostileServer]) -> None:
    server = serve([lambda c, _r: c.send(json_response(201, {})), answer])
    with httpx.Client(base_url=server.base_url) as client:
        first = client.post("/a?x=1", content=b'{"stream": false}')
        second = client.post("/b", content=b"{}", headers={"Authorization": "Bearer t"})
    assert (first.status_code, second.status_code) == (201, 200)
    assert [r.path for r in server.requests] == ["/a", "/b"]
    assert server.requests[0].query == "x=1"
    assert server.requests[1].token == "t"
    assert server.connections == 1  # kept alive between the two


@pytest.mark.parametrize("wait", ["repeat", "hold"])
def test_endless_handlers_end_when_the_client_hangs_up(
    wait: str, serve: Callable[..., HostileServer]
) -> None:
    def endless(conn: Connection, _request: Request) -> None:
        conn.send(sse_head())
        if wait == "repeat":
            conn.repeat(b": ping\n\n", every=0.01, chunked=True)
        else:
            conn.hold()

    server = serve(endless)
    with (
        httpx.Client(base_url=server.base_url) as client,
        client.stream("POST", "/", content=b"{}") as reply,
    ):
        assert reply.headers["content-type"] == "text/event-stream"
    started = time.monotonic()
    assert server.wait_idle(5)
    assert time.monotonic() - started < 2


def test_stop_ends_a_handler_that_the_client_never_leaves() -> None:
    def head_then_hold(conn: Connection, _request: Request) -> None:
        conn.send(sse_head())
        conn.hold()

    server = HostileServer(head_then_hold).start()
    client = httpx.Client(base_url=server.base_url, timeout=30)
    with client.stream("POST", "/", content=b"{}"):
        started = time.monotonic()  # the handler is holding the connection now
        server.stop()
        assert time.monotonic() - started < 3
        assert server.wait_idle(0)  # every thread has ended
    client.close()


def test_drip_spaces_the_bytes(serve: Callable[..., HostileServer]) -> None:
    def drip(conn: Connection, _request: Request) -> None:
        conn.send(b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n")
        conn.drip(b"abcd", every=0.1)

    server = serve(drip)
    started = time.monotonic()
    reply = httpx.post(server.base_url, content=b"{}")
    assert reply.content == b"abcd"
    assert time.monotonic() - started >= 0.3
    # The client can read the last byte before the server thread counts it.
    assert server.wait_idle()
    assert server.bytes_sent == len(b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n") + 4


def test_reset_is_a_reset(serve: Callable[..., HostileServer]) -> None:
    server = serve(lambda conn, _r: conn.reset())
    with pytest.raises(httpx.ReadError):
        httpx.post(server.base_url, content=b"{}")
