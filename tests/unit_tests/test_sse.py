"""SSE: line splitting, event framing, event decoding (pure)."""

from __future__ import annotations

import itertools

import pytest

from langchain_gptoss import (
    GptOssContextOverflowError,
    GptOssResponseTooLargeError,
    GptOssStreamError,
    GptOssTimeoutError,
)
from langchain_gptoss._json import load_json
from langchain_gptoss._redact import Redactor
from langchain_gptoss._sse import EventReader, LineSplitter, decode_event


def read(*chunks: bytes) -> tuple[list[dict[str, object]], bool]:
    """The decoded events of a body sent in `chunks`, and whether DONE came."""
    reader = EventReader()
    data = [each for chunk in chunks for each in reader.feed(chunk)]
    reader.finish()
    return [decode_event(each) for each in data], reader.done


def test_event_reader_handles_comments_fields_and_multiline_data() -> None:
    body = (
        b": keep-alive\n\nevent: x\nid: 3\n"
        b'data: {"a":\ndata:1}\n\n'
        b'data: {"b": 2}\n\n'
        b"data:[DONE]"
    )
    assert read(body) == ([{"a": 1}, {"b": 2}], False)  # DONE at EOF, no blank line
    assert read(body + b"\n\n") == ([{"a": 1}, {"b": 2}], True)


def test_event_reader_stops_at_done() -> None:
    events, done = read(b'data: {"a": 1}\n\ndata: [DONE]\n\ndata: {"late": 1}\n\n')
    assert (events, done) == ([{"a": 1}], True)


@pytest.mark.parametrize(
    "body",
    [b"", b'data: {"a": 1}\n\n', b'data: {"a": 1}\n\ndata: [DO', b"data: [DONE]x"],
)
def test_event_reader_calls_a_body_without_done_incomplete(body: bytes) -> None:
    with pytest.raises(GptOssStreamError, match=r"ended before data: \[DONE\]") as info:
        read(body)
    assert info.value.is_retryable is True


def split_lines(body: bytes, cuts: list[int]) -> list[bytes]:
    """The lines of `body`, fed to a LineSplitter in pieces cut at `cuts`."""
    splitter = LineSplitter()
    bounds = [0, *cuts, len(body)]
    lines = []
    for start, end in itertools.pairwise(bounds):
        lines += splitter.feed(body[start:end])
    return lines + splitter.finish()


SSE_BODY = (
    'data: {"c":"x\u2028y\u2029z\u0085w\u00e9"}\r\n\r\n'
    ": keep-alive\r\r"
    'data: {"c":"\u20ac"}\n\n'
    "data: [DONE]"
).encode()
SSE_LINES = [
    line.encode()
    for line in [
        'data: {"c":"x\u2028y\u2029z\u0085w\u00e9"}',
        "",
        ": keep-alive",
        "",
        'data: {"c":"\u20ac"}',
        "",
        "data: [DONE]",
    ]
]


def test_line_splitter_ends_lines_only_at_cr_and_lf() -> None:
    # U+2028, U+2029 and U+0085 sit unescaped inside JSON strings; splitlines()
    # would cut the event there.
    assert split_lines(SSE_BODY, []) == SSE_LINES


@pytest.mark.parametrize("cut", range(1, len(SSE_BODY)))
def test_line_splitter_at_every_cut(cut: int) -> None:
    # Cuts fall inside CR LF pairs and inside multi-byte UTF-8 characters.
    assert split_lines(SSE_BODY, [cut]) == SSE_LINES


def test_line_splitter_in_single_bytes() -> None:
    assert split_lines(SSE_BODY, list(range(1, len(SSE_BODY)))) == SSE_LINES


def test_invalid_utf8_in_an_event_is_replaced_rather_than_failing() -> None:
    assert split_lines(b"data: \xff\xfe\nrest", []) == [b"data: \xff\xfe", b"rest"]
    assert decode_event(b'{"c": "a\xff\xfeb"}') == {"c": "a\ufffd\ufffdb"}


def test_load_json_falls_back_for_lone_surrogates_and_rejects_junk() -> None:
    assert load_json('{"a":"\\ud800","n":123456789012345678901234567890}') == {
        "a": "\ud800",
        "n": 123456789012345678901234567890,
    }
    for junk in ('{"a": ', "", b"\xff", "[1] 2"):
        with pytest.raises(ValueError):
            load_json(junk)


def test_decode_event_errors() -> None:
    with pytest.raises(GptOssStreamError, match="Malformed") as malformed:
        decode_event('{"id": "chatcmpl-')
    assert malformed.value.is_retryable is False
    with pytest.raises(
        GptOssStreamError, match="mid-stream: Unexpected token"
    ) as failed:
        decode_event('{"error": {"message": "Unexpected token 200002", "code": 400}}')
    assert failed.value.is_retryable is True
    with pytest.raises(GptOssStreamError, match=r"\*\*\*"):
        decode_event('{"error": {"message": "bad token s3cret"}}', Redactor("s3cret"))


# ------------------------------------------------------------------- limits, clocks


def test_a_line_that_never_ends_is_refused_at_the_limit() -> None:
    splitter = LineSplitter(max_line_bytes=1000)
    splitter.feed(b"data: " + b"x" * 900)
    with pytest.raises(GptOssResponseTooLargeError) as info:
        splitter.feed(b"x" * 200)
    assert info.value.setting == "max_event_bytes"


def test_buffering_a_long_line_is_linear() -> None:
    # 20,000 pieces of one line: joined once, not re-concatenated per piece
    # (which would copy ~4 GB here and take minutes).
    splitter = LineSplitter(max_line_bytes=1 << 30)
    for _ in range(20_000):
        assert splitter.feed(b"y" * 10_000) == []
    assert [len(line) for line in splitter.feed(b"\n")] == [200_000_000]


def test_data_lines_without_their_blank_line_are_refused_at_the_limit() -> None:
    reader = EventReader(max_event_bytes=1000)
    for _ in range(90):  # 90 lines of 11 bytes with their newlines: 990
        reader.feed(b"data: 0123456789\n")
    with pytest.raises(GptOssResponseTooLargeError):
        reader.feed(b"data: 0123456789\n")


def test_an_event_at_the_limit_is_accepted() -> None:
    reader = EventReader(max_event_bytes=1024)
    data = b'"' + b"x" * 1015 + b'"'  # its line, "data: " included, is 1,023 bytes
    assert reader.feed(b"data: " + data + b"\n\n") == [data]


def test_only_a_complete_data_event_resets_the_idle_clock(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    now = [100.0]
    monkeypatch.setattr("langchain_gptoss._sse.time.monotonic", lambda: now[0])
    reader = EventReader(idle_timeout=5.0)
    assert reader.feed(b'data: {"first": 1}\n\n')  # the idle clock starts here
    for busy in (b": ping\n\n", b"event: x\n", b"\n", b'data: {"partial'):
        now[0] += 2.0
        if now[0] - 100.0 > 5.0:
            with pytest.raises(GptOssTimeoutError, match="stream_idle_timeout"):
                reader.feed(busy)
            break
        reader.feed(busy)
    else:
        pytest.fail("the idle clock never ran out")
    reader = EventReader(idle_timeout=5.0)
    for _ in range(10):  # an event every 2 s keeps it alive
        now[0] += 2.0
        assert reader.feed(b'data: {"a": 1}\n\n') == [b'{"a": 1}']


def test_the_first_event_has_its_own_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [100.0]
    monkeypatch.setattr("langchain_gptoss._sse.time.monotonic", lambda: now[0])
    reader = EventReader(idle_timeout=1.0, first_event_timeout=10.0)
    for _ in range(4):  # pings for 8 s: longer than the idle timeout, still waiting
        now[0] += 2.0
        assert reader.feed(b": ping\n\n") == []
    now[0] += 3.0
    with pytest.raises(GptOssTimeoutError, match="first event") as caught:
        reader.feed(b": ping\n\n")
    assert not caught.value.is_retryable
    resending = EventReader(first_event_timeout=1.0, resend_first_event_timeout=True)
    now[0] += 2.0
    with pytest.raises(GptOssTimeoutError) as caught:
        resending.feed(b": ping\n\n")
    assert caught.value.is_retryable


def test_the_deadline_is_checked_on_every_chunk(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    now = [0.0]
    monkeypatch.setattr("langchain_gptoss._sse.time.monotonic", lambda: now[0])
    reader = EventReader(deadline=(10.0, 10.0))
    now[0] = 9.0
    assert reader.feed(b'data: {"a": 1}\n\n') == [b'{"a": 1}']
    now[0] = 10.5
    with pytest.raises(GptOssTimeoutError, match="total_timeout=10s"):
        reader.feed(b'data: {"a": 1}\n\n')


def test_an_overflow_error_event_is_a_context_overflow() -> None:
    data = (
        b'{"error": {"message": "Input length (131122) exceeds model\'s maximum '
        b'context length (131072).", "type": "BadRequestError", "code": 400}}'
    )
    with pytest.raises(GptOssContextOverflowError) as info:
        decode_event(data)
    assert info.value.is_retryable is False
    assert info.value.status_code == 400
    coded = b'{"error": {"message": "too long", "code": "context_length_exceeded"}}'
    with pytest.raises(GptOssContextOverflowError):
        decode_event(coded)


def test_deeply_nested_events_are_malformed_not_a_crash() -> None:
    with pytest.raises(GptOssStreamError, match="Malformed"):
        decode_event(b"[" * 100_000)
    with pytest.raises(GptOssStreamError, match="mid-stream"):
        decode_event(b'{"error": ' + b"[" * 150 + b"]" * 150 + b"}")


def test_an_event_that_arrives_whole_in_one_chunk_is_still_measured() -> None:
    # Not the chunk's first line: only the event's own count can catch it.
    reader = EventReader(max_event_bytes=1024)
    with pytest.raises(GptOssResponseTooLargeError):
        reader.feed(b': ping\n\ndata: "' + b"x" * 2000 + b'"\n\n')
