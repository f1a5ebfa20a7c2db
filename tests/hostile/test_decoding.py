"""F. Invalid UTF-8 decodes the same way in a JSON answer and in a stream: U+FFFD."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from tests.hostile.server import (
    DONE,
    USAGE_EVENT,
    completion,
    delta_event,
    response,
    sse_event,
)
from tests.hostile.support import make_model, run_call

if TYPE_CHECKING:
    from collections.abc import Callable

    from tests.hostile.server import Connection, HostileServer, Request

MARK = "@@"  # replaced by the invalid bytes on the wire


def with_invalid_utf8(conn: Connection, request: Request) -> None:
    if request.wants_stream:
        events = [
            delta_event({"role": "assistant", "content": ""}),
            delta_event({"content": f"ab{MARK}cd"}),
            delta_event({}, "stop"),
            USAGE_EVENT,
        ]
        body = b"".join(sse_event(e) for e in events) + DONE
        conn.send(
            response(
                200,
                body.replace(MARK.encode(), b"\xff\xfe"),
                content_type="text/event-stream",
            )
        )
    else:
        body = json.dumps(completion(f"ab{MARK}cd")).encode()
        conn.send(response(200, body.replace(MARK.encode(), b"\xff\xfe")))


def test_invalid_utf8_becomes_replacement_characters(
    mode: str, serve: Callable[..., HostileServer]
) -> None:
    server = serve(with_invalid_utf8)
    model = make_model(server)
    streamed = run_call(model, mode, "stream")
    invoked = run_call(model, mode, "invoke")
    assert streamed.ok()
    assert invoked.ok()
    for text in (streamed.text, invoked.text):
        assert "\ufffd" in text
        assert text.replace("\ufffd", "") == "abcd"
    assert invoked.text == streamed.text
