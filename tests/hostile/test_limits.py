"""B. Bounded memory, linear time: every body the client reads has a limit.

The cases that could take minutes or gigabytes run the client in a subprocess
(`support.probe`), which reports its time, its peak RSS before and after the call,
and, async, the longest stall of its event loop; the server stays in this process
and counts what it managed to send. Limits are the defaults unless a test sets one:
`max_event_bytes` 16 MiB, `max_response_bytes` at least 16 MiB, and
`max_error_body_bytes` 64 KiB.
"""

from __future__ import annotations

import gzip
import json
from typing import TYPE_CHECKING

import pytest

from tests.hostile.server import (
    DONE,
    LAST_CHUNK,
    answer,
    answer_events,
    completion,
    gzip_bomb,
    head,
    json_response,
    response,
    sse_event,
    sse_head,
    sse_response,
    text_response,
)
from tests.hostile.support import MiB, assert_too_large, make_model, probe, run_call

if TYPE_CHECKING:
    from collections.abc import Callable

    from tests.hostile.server import Connection, HostileServer, Request

RSS_GROWTH_MB = 150
BOMB_SIZE = 256 * MiB
JSON_PREFIX = (
    b'{"id":"cmpl-1","object":"chat.completion","model":"gpt_oss_120b",'
    b'"choices":[{"index":0,"message":{"role":"assistant","content":"'
)
EVENT_PREFIX = b'data: {"id":"cmpl-1","choices":[{"index":0,"delta":{"content":"'
# A derived max_response_bytes depends on the request; a small max_tokens keeps it
# at its 16 MiB floor, so the bounds below hold whatever the derivation is.
SMALL_REQUEST = {"max_tokens": 1024}


def report(label: str, text: str) -> None:
    print(f"[{label}] {text}")  # noqa: T201 - measured numbers, shown with -rA


# ------------------------------------------------------------- endless SSE input


def endless_line(conn: Connection, _request: Request) -> None:
    """40 MiB of one `data:` line with no end, as fast as possible, then silence."""
    conn.send(sse_head())
    conn.send_chunk(EVENT_PREFIX)
    conn.send_repeated(b"a" * MiB, 40 * MiB, chunked=True)
    conn.hold()


def data_lines_without_blank(conn: Connection, _request: Request) -> None:
    """24 MiB of short `data:` lines that never get the blank line ending the event."""
    conn.send(sse_head())
    line = b"data: " + b"x" * 250 + b"\n"
    conn.send_repeated(line * (MiB // len(line)), 24 * MiB, chunked=True)
    conn.hold()


def test_a_line_that_never_ends(mode: str, serve: Callable[..., HostileServer]) -> None:
    # Raw httpx reads these 40 MiB in about 0.4 s; joining each piece to the
    # pending line costs time quadratic in its length (about a minute).
    server = serve([answer, endless_line])
    result = probe(server, mode, "stream", warmup=True, timeout=60)
    report("endless line", result.describe())
    result.expect_too_large("max_event_bytes")
    assert result.elapsed < 15, result.describe()
    assert result.rss_growth_mb < RSS_GROWTH_MB, result.describe()


def test_data_lines_that_never_end_their_event(
    mode: str, serve: Callable[..., HostileServer]
) -> None:
    server = serve([answer, data_lines_without_blank])
    result = probe(server, mode, "stream", warmup=True, timeout=60)
    report("no blank line", result.describe())
    result.expect_too_large("max_event_bytes")
    assert result.elapsed < 15, result.describe()
    assert result.rss_growth_mb < RSS_GROWTH_MB, result.describe()


# ------------------------------------------------------------------ gzip bombs


def json_bomb(conn: Connection, _request: Request) -> None:
    conn.send(response(200, gzip_bomb(JSON_PREFIX, BOMB_SIZE), encoding="gzip"))


def double_gzip_sse_bomb(conn: Connection, _request: Request) -> None:
    body = gzip.compress(gzip_bomb(EVENT_PREFIX, BOMB_SIZE))
    conn.send(
        response(200, body, content_type="text/event-stream", encoding="gzip, gzip")
    )


def test_gzip_bomb_on_invoke(mode: str, serve: Callable[..., HostileServer]) -> None:
    compressed = len(gzip_bomb(JSON_PREFIX, BOMB_SIZE))  # made before the clock starts
    server = serve([answer, json_bomb])
    result = probe(server, mode, "invoke", settings=SMALL_REQUEST, warmup=True)
    report(f"gzip bomb {compressed} B -> {BOMB_SIZE // MiB} MiB", result.describe())
    result.expect_too_large("max_response_bytes")
    assert result.rss_growth_mb < RSS_GROWTH_MB, result.describe()


def test_double_gzip_bomb_on_a_stream(
    mode: str, serve: Callable[..., HostileServer]
) -> None:
    compressed = len(gzip.compress(gzip_bomb(EVENT_PREFIX, BOMB_SIZE)))
    server = serve([answer, double_gzip_sse_bomb])
    result = probe(server, mode, "stream", settings=SMALL_REQUEST, warmup=True)
    report(
        f"gzip,gzip bomb {compressed} B -> {BOMB_SIZE // MiB} MiB", result.describe()
    )
    result.expect_too_large("max_event_bytes")
    assert result.rss_growth_mb < RSS_GROWTH_MB, result.describe()


# ---------------------------------------------------------- huge unwanted bodies


def huge_error(conn: Connection, _request: Request) -> None:
    """A 500 with a 200 MB body, sent as fast as the client takes it."""
    total = 200 * 1000 * 1000
    prefix = b'{"error":{"message":"'
    conn.send(
        head(
            500, [("Content-Type", "application/json"), ("Content-Length", str(total))]
        )
    )
    conn.send(prefix)
    conn.send_repeated(b"x" * MiB, total - len(prefix))


def huge_html_200(conn: Connection, _request: Request) -> None:
    """A 200 that is a 64 MiB HTML page, not JSON and not SSE."""
    total = 64 * MiB
    prefix = b"<html><body>"
    conn.send(
        head(200, [("Content-Type", "text/html"), ("Content-Length", str(total))])
    )
    conn.send(prefix)
    conn.send_repeated(b"<p>Please log in.</p>\n" * 40000, total - len(prefix))


@pytest.mark.parametrize("how", ["invoke", "stream"])
def test_a_200_mb_error_body_is_not_read(
    mode: str, how: str, serve: Callable[..., HostileServer]
) -> None:
    server = serve([answer, huge_error])
    result = probe(server, mode, how, warmup=True)
    server.wait_idle(10)
    report(
        "200 MB error body",
        f"{result.describe()}; server sent {server.bytes_sent / MiB:.1f} MiB",
    )
    error = result.expect_error("GptOssServerError")
    assert error["status_code"] == 500
    assert result.elapsed < 15, result.describe()
    # What was sent is what the client read plus the kernel's socket buffers
    # (a few MiB on loopback); reading the body to the end sends all 200 MB.
    assert server.bytes_sent < 64 * MiB
    assert result.rss_growth_mb < RSS_GROWTH_MB, result.describe()
    assert len(server.requests) == 2  # warm-up, then one try (max_retries=0)


@pytest.mark.parametrize("how", ["invoke", "stream"])
def test_a_64_mib_non_json_200_keeps_the_error_short(
    mode: str, how: str, serve: Callable[..., HostileServer]
) -> None:
    server = serve([answer, huge_html_200])
    result = probe(server, mode, how, warmup=True)
    server.wait_idle(10)
    report(
        "64 MiB HTML 200",
        f"{result.describe()}; server sent {server.bytes_sent / MiB:.1f} MiB",
    )
    error = result.expect_error("GptOssError")
    assert error["body_len"] is None or error["body_len"] <= 2000, result.describe()
    assert server.bytes_sent < 48 * MiB
    assert result.rss_growth_mb < RSS_GROWTH_MB, result.describe()


H1_PAGE = "<html><body>" + "<h1>" * 20000 + "</body></html>"  # 78 KiB, never closed


def h1_page(conn: Connection, _request: Request) -> None:
    conn.send(text_response(502, H1_PAGE, content_type="text/html"))


@pytest.mark.parametrize("how", ["invoke", "stream"])
def test_an_html_page_of_unclosed_h1_tags(
    mode: str, how: str, serve: Callable[..., HostileServer]
) -> None:
    server = serve([answer, h1_page])
    result = probe(server, mode, how, warmup=True, ticker=True)
    report("78 KiB of <h1>", result.describe())
    result.expect_error("GptOssServerError")
    assert result.elapsed < 3, result.describe()
    if mode == "async":
        assert result.data["max_gap"] < 1, result.describe()


# ------------------------------------------------------------- limits the test sets


def test_max_response_bytes_is_the_largest_body_allowed(
    mode: str, serve: Callable[..., HostileServer]
) -> None:
    body = json.dumps(completion("x" * 100_000)).encode()
    server = serve(lambda conn, _r: conn.send(response(200, body)))
    fits = run_call(make_model(server, max_response_bytes=len(body)), mode)
    assert fits.ok().content == "x" * 100_000
    over = run_call(make_model(server, max_response_bytes=len(body) - 1), mode)
    assert_too_large(over, "max_response_bytes", len(body) - 1)
    assert len(server.requests) == 2  # the typed error is not retried


def test_max_response_bytes_counts_the_decompressed_body(
    mode: str, serve: Callable[..., HostileServer]
) -> None:
    body = json.dumps(completion("x" * 100_000)).encode()
    packed = gzip.compress(body)
    server = serve(lambda conn, _r: conn.send(response(200, packed, encoding="gzip")))
    limit = (len(body) + len(packed)) // 2
    outcome = run_call(
        make_model(server, max_response_bytes=limit, max_retries=2), mode
    )
    assert_too_large(outcome, "max_response_bytes", limit)
    assert len(server.requests) == 1


def test_max_event_bytes_set_by_the_test(
    mode: str, serve: Callable[..., HostileServer]
) -> None:
    def script(conn: Connection, request: Request) -> None:
        size = 5_000 if request.index == 0 else 20_000
        events = answer_events(("a" * size,))
        conn.send(sse_response(events))

    server = serve(script)
    model = make_model(server, max_event_bytes=10_000, max_retries=2)
    fits = run_call(model, mode, "stream")
    assert fits.ok()
    assert fits.text == "a" * 5_000
    over = run_call(model, mode, "stream")
    assert_too_large(over, "max_event_bytes", 10_000)
    assert len(server.requests) == 2


# ------------------------------------------------------------ big, and legitimate


def test_a_3_mb_answer_still_works(
    mode: str, serve: Callable[..., HostileServer]
) -> None:
    content = "word " * 600_000
    server = serve(lambda conn, _r: conn.send(json_response(200, completion(content))))
    outcome = run_call(make_model(server), mode)
    assert outcome.ok().content == content


def test_a_3_mb_event_still_works(
    mode: str, serve: Callable[..., HostileServer]
) -> None:
    content = "word " * 600_000
    server = serve(lambda conn, _r: conn.send(sse_response(answer_events((content,)))))
    outcome = run_call(make_model(server), mode, "stream")
    assert outcome.ok()
    assert outcome.text == content


def test_a_stream_of_50000_events_still_works(
    mode: str, serve: Callable[..., HostileServer]
) -> None:
    pieces = [f"w{i} " for i in range(50_000)]
    body = b"".join(sse_event(e) for e in answer_events(pieces)) + DONE

    def script(conn: Connection, _request: Request) -> None:
        conn.send(sse_head())
        for start in range(0, len(body), 16 * 1024):
            conn.send_chunk(body[start : start + 16 * 1024])
        conn.send(LAST_CHUNK)

    server = serve(script)
    outcome = run_call(make_model(server), mode, "stream", limit=60)
    assert outcome.ok()
    assert outcome.text == "".join(pieces)
