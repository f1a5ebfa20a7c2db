"""The pure parts of the I/O layer: SSE decoding, error mapping, retry timing."""

from __future__ import annotations

import email.utils
import itertools
import time

import pytest

from langchain_gptoss import (
    GptOssAPIError,
    GptOssAuthenticationError,
    GptOssBadRequestError,
    GptOssContextOverflowError,
    GptOssNotFoundError,
    GptOssPermissionDeniedError,
    GptOssRateLimitError,
    GptOssServerError,
    GptOssStreamError,
)
from langchain_gptoss._http import (
    MAX_RETRY_AFTER,
    Call,
    EventReader,
    LineSplitter,
    decode_event,
    retry_delay,
)
from langchain_gptoss._status import (
    error_from_response,
    load_json,
    retry_after_seconds,
    server_message,
)


def read(*chunks: bytes) -> tuple[list[dict[str, object]], bool]:
    """The decoded events of a body sent in `chunks`, and whether DONE came."""
    reader = EventReader(Call(url="https://tir.test", headers={}, content=b""))
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


def split_lines(body: bytes, cuts: list[int]) -> list[str]:
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
    'data: {"c":"x\u2028y\u2029z\u0085w\u00e9"}',
    "",
    ": keep-alive",
    "",
    'data: {"c":"\u20ac"}',
    "",
    "data: [DONE]",
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


def test_line_splitter_replaces_invalid_utf8_rather_than_failing() -> None:
    assert split_lines(b"data: \xff\xfe\nrest", []) == ["data: \ufffd\ufffd", "rest"]


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
        decode_event('{"error": {"message": "bad token s3cret"}}', "s3cret")


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, GptOssBadRequestError),
        (401, GptOssAuthenticationError),
        (403, GptOssPermissionDeniedError),
        (404, GptOssNotFoundError),
        (408, GptOssServerError),
        (409, GptOssServerError),
        (413, GptOssBadRequestError),
        (422, GptOssBadRequestError),
        (429, GptOssRateLimitError),
        (500, GptOssServerError),
        (503, GptOssServerError),
    ],
)
def test_status_table(status: int, cls: type[GptOssAPIError]) -> None:
    error = error_from_response(status, {}, "x")
    assert type(error) is cls
    assert error.status_code == status
    assert error.is_retryable is (status in {408, 409, 429} or status >= 500)


@pytest.mark.parametrize(
    "text",
    [
        "This model's maximum context length is 131072 tokens. However, you requested 10 output tokens",
        "The decoder prompt (length 140000) is longer than the maximum model length of 131072.",
        "max_tokens must be at least 1, got -42.",
    ],
)
def test_context_overflow_texts(text: str) -> None:
    body = '{"error": {"message": "%s", "type": "BadRequestError", "code": 400}}' % text  # noqa: UP031
    assert isinstance(error_from_response(400, {}, body), GptOssContextOverflowError)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('{"error": {"message": "vllm says", "code": 400}}', "vllm says"),
        ('{"object": "error", "message": "flat shape"}', "flat shape"),
        ('{"message": "gateway says"}', "gateway says"),
        ('{"detail": "fastapi says"}', "fastapi says"),
        ('{"errors": ["one", "two"]}', '["one", "two"]'),
        ('{"error": "Unauthorized"}', "Unauthorized"),
        (
            "<html><head><title>503 Service Temporarily Unavailable</title></head></html>",
            "503 Service Temporarily Unavailable",
        ),
        ("plain words", "plain words"),
        ("", "(empty body)"),
    ],
)
def test_server_message_shapes(body: str, message: str) -> None:
    assert server_message(body) == message


def test_long_text_bodies_are_cut_to_500_characters() -> None:
    assert len(server_message("x" * 5000)) == 500


def test_error_never_holds_the_token() -> None:
    error = error_from_response(
        401, {}, '{"message": "token abc123 expired"}', "abc123"
    )
    assert "abc123" not in str(error)
    assert "abc123" not in error.body
    assert "E2E_TIR_ACCESS_TOKEN" in str(error)


def test_retry_after_forms() -> None:
    assert retry_after_seconds({"retry-after-ms": "1500"}) == 1.5
    assert retry_after_seconds({"retry-after": "7"}) == 7.0
    date = email.utils.formatdate(time.time() + 30, usegmt=True)
    assert 25 < (retry_after_seconds({"retry-after": date}) or 0) <= 30
    assert retry_after_seconds({"retry-after": "soon"}) is None
    assert retry_after_seconds({}) is None


def test_retry_delay_policy() -> None:
    busy = error_from_response(429, {"retry-after": "3"}, "")
    assert retry_delay(busy, 0, 2) == 3.0
    assert retry_delay(busy, 2, 2) is None
    huge = error_from_response(429, {"retry-after": "9999"}, "")
    assert retry_delay(huge, 0, 2) == MAX_RETRY_AFTER
    down = error_from_response(503, {}, "")
    delays = [retry_delay(down, attempt, 10) or 0 for attempt in range(6)]
    assert 0.375 <= delays[0] <= 0.5
    assert 0.75 <= delays[1] <= 1.0
    assert all(d <= 8.0 for d in delays)
    assert retry_delay(error_from_response(400, {}, ""), 0, 2) is None
