"""The pure parts of the I/O layer: error mapping and retry timing."""

from __future__ import annotations

import email.utils
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
)
from langchain_gptoss._attempt import MAX_RETRY_AFTER, Call, retry_delay
from langchain_gptoss._redact import Redactor
from langchain_gptoss._status import (
    error_from_response,
    retry_after_seconds,
    server_message,
)


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
        401, {}, '{"message": "token abc123 expired"}', Redactor("abc123")
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


def retries(count: int) -> Call:
    return Call(url="https://tir.test", headers={}, content=b"", max_retries=count)


def test_retry_delay_policy() -> None:
    busy = error_from_response(429, {"retry-after": "3"}, "")
    assert retry_delay(busy, 0, retries(2)) == 3.0
    assert retry_delay(busy, 2, retries(2)) is None
    huge = error_from_response(429, {"retry-after": "9999"}, "")
    assert retry_delay(huge, 0, retries(2)) == MAX_RETRY_AFTER
    down = error_from_response(503, {}, "")
    delays = [retry_delay(down, attempt, retries(10)) or 0 for attempt in range(6)]
    assert 0.375 <= delays[0] <= 0.5
    assert 0.75 <= delays[1] <= 1.0
    assert all(d <= 8.0 for d in delays)
    assert retry_delay(error_from_response(400, {}, ""), 0, retries(2)) is None
