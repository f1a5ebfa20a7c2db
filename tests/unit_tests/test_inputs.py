"""Bad input is refused with a clear message before any request is sent."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from langchain_core.messages import HumanMessage
from pydantic import ValidationError

from langchain_gptoss import ChatGptOss
from tests.unit_tests.conftest import Recorder, make_model, run_invoke, run_stream
from tests.unit_tests.wire import completion


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("reasoning_effort", "extreme", "reasoning_effort"),
        ("max_tokens", -5, "max_tokens"),
        ("max_tokens", 0, "max_tokens"),
        ("temperature", 2.5, "temperature"),
        ("temperature", -0.1, "temperature"),
        ("top_p", 0.0, "top_p"),
        ("top_p", 1.5, "top_p"),
        ("n", 0, "n"),
        ("stream_idle_timeout", 0, "stream_idle_timeout"),
        ("max_retries", -1, "max_retries"),
    ],
)
def test_bad_settings_fail_at_construction(
    field: str, value: Any, message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        ChatGptOss(api_key="t", project_id=1, **{field: value})


@pytest.mark.parametrize(
    ("override", "message"),
    [
        (
            {"reasoning_effort": "extreme"},
            r"reasoning_effort must be one of \('low', 'medium', 'high'\), got 'extreme'",
        ),
        ({"max_tokens": -1}, "max_tokens must be a whole number of at least 1, got -1"),
        ({"max_tokens": 2.5}, "max_tokens must be a whole number"),
        ({"temperature": 3}, r"temperature must be a number in \[0, 2\], got 3"),
        ({"temperature": "hot"}, "temperature must be a number"),
        ({"top_p": 0}, r"top_p must be a number in \(0, 1\], got 0"),
        ({"n": 0}, "n must be a whole number of at least 1"),
    ],
)
def test_bad_per_call_overrides_send_nothing(
    mode: str, override: dict[str, Any], message: str
) -> None:
    recorder = Recorder(httpx.Response(200, json=completion("both")))
    with pytest.raises(ValueError, match=message):
        run_invoke(make_model(recorder), mode, "hi", **override)
    assert recorder.requests == []


def test_empty_messages_and_media_send_nothing(mode: str) -> None:
    recorder = Recorder(httpx.Response(200, json=completion("both")))
    with pytest.raises(ValueError, match="at least one message"):
        run_invoke(make_model(recorder), mode, [])
    image = HumanMessage(
        content=[{"type": "image_url", "image_url": {"url": "https://x/y.png"}}]
    )
    with pytest.raises(ValueError, match="reads text only"):
        run_invoke(make_model(recorder), mode, [image])
    assert recorder.requests == []


def test_n_above_one_cannot_stream(mode: str) -> None:
    recorder = Recorder(httpx.Response(200, json=completion("both")))
    with pytest.raises(ValueError, match="n > 1 cannot be streamed"):
        run_stream(make_model(recorder, n=2), mode, "hi")
    with pytest.raises(ValueError, match="n > 1 cannot be streamed"):
        run_invoke(make_model(recorder, n=2, streaming=True), mode, "hi")
    assert recorder.requests == []
