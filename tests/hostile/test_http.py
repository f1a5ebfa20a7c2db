"""H. HTTP-level faults not covered by tests/integration_tests/test_faults.py.

test_faults.py already proves that failures after the first chunk are never
retried (dropped-mid-stream, error-event, malformed-event, no-done); here: bad
framing raises typed errors, and redirects are never followed (the token would go
wherever `Location` points).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.hostile.server import (
    answer,
    chunk,
    delta_event,
    head,
    response,
    send_then_close,
    sse_event,
)
from tests.hostile.support import make_model, run_call

if TYPE_CHECKING:
    from collections.abc import Callable

    from tests.hostile.server import Connection, HostileServer, Request


@pytest.mark.parametrize("how", ["invoke", "stream"])
@pytest.mark.parametrize("status", [301, 302, 307])
def test_redirects_are_not_followed(
    status: int, how: str, mode: str, serve: Callable[..., HostileServer]
) -> None:
    elsewhere = serve(answer)

    def redirect(conn: Connection, request: Request) -> None:
        location = elsewhere.base_url + request.target
        conn.send(
            response(
                status, b"", content_type="text/html", headers=[("Location", location)]
            )
        )

    server = serve(redirect)
    outcome = run_call(make_model(server, max_retries=2), mode, how)
    outcome.typed()
    assert len(server.requests) == 1
    assert elsewhere.requests == []


SSE = [("Content-Type", "text/event-stream")]
EVENT = sse_event(delta_event({"content": "Hello"}))
FRAMING: dict[str, bytes] = {
    "content-length-longer-than-body": head(200, [*SSE, ("Content-Length", "5000")])
    + EVENT,
    "bad-chunk-size": head(200, [*SSE, ("Transfer-Encoding", "chunked")])
    + chunk(EVENT)
    + b"zz\r\nhello\r\n",
    "garbage-status-line": b"HTCPCP/1.0 four-eighteen\r\n\r\n" + EVENT,
    "both-length-and-chunked": head(
        200, [*SSE, ("Content-Length", "3"), ("Transfer-Encoding", "chunked")]
    )
    + chunk(EVENT),
}


@pytest.mark.parametrize("how", ["invoke", "stream"])
@pytest.mark.parametrize("name", list(FRAMING))
def test_framing_faults_are_typed(
    name: str, how: str, mode: str, serve: Callable[..., HostileServer]
) -> None:
    server = serve(send_then_close(FRAMING[name]))
    outcome = run_call(make_model(server), mode, how)
    outcome.typed()
