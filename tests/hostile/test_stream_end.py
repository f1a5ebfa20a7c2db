"""C. A stream ends when the answer ends: `data: [DONE]` is the end.

After `[DONE]` the server keeps the connection busy with comments, or silent; the
call must return the whole answer at once, not wait for the server to hang up
(`stream_idle_timeout=120` would otherwise keep it for two minutes, or forever).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from langchain_gptoss import GptOssAPIError
from tests.hostile.server import answer_events, sse_body, sse_head
from tests.hostile.support import make_model, run_call

if TYPE_CHECKING:
    from collections.abc import Callable

    from tests.hostile.server import Connection, HostileServer, Request


def done_then(after: str) -> Callable[[Connection, Request], None]:
    def handler(conn: Connection, _request: Request) -> None:
        conn.send(sse_head())
        conn.send_chunk(sse_body(answer_events()))
        if after == "pings":
            conn.repeat(b": ping\n\n", every=0.05, chunked=True)
        else:
            conn.hold()

    return handler


@pytest.mark.parametrize("how", ["stream", "invoke-streaming"])
@pytest.mark.parametrize("after", ["pings", "silence"])
def test_the_stream_ends_at_done(
    after: str, how: str, mode: str, serve: Callable[..., HostileServer]
) -> None:
    server = serve(done_then(after))
    # Only set when true: an explicit streaming=False makes LangChain's stream()
    # fall back to invoke().
    streaming = {} if how == "stream" else {"streaming": True}
    model = make_model(server, stream_idle_timeout=120, **streaming)
    outcome = run_call(model, mode, "stream" if how == "stream" else "invoke", limit=10)
    outcome.ok()
    assert outcome.text == "Hello world"
    assert len(server.requests) == 1


def test_an_unasked_stream_is_refused_unread(
    mode: str, serve: Callable[..., HostileServer]
) -> None:
    # A non-streamed request answered with SSE that never ends: refused at its
    # headers, not read until a timeout.
    server = serve(done_then("pings"))
    model = make_model(server, stream_idle_timeout=120, max_retries=2)
    outcome = run_call(model, mode, "invoke", limit=10)
    error = outcome.typed()
    assert isinstance(error, GptOssAPIError)
    assert "SSE stream" in str(error)
    assert len(server.requests) == 1
