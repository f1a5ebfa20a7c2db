"""The fault matrix: every failure, sync and async, streamed and not, over loopback.

For each: the exception class, how many requests reached the server (retries), a
lower bound on the time taken from the backoff policy, and that no partial answer
is ever returned as if it were whole.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any

import pytest

from langchain_gptoss import (
    ChatGptOss,
    GptOssAuthenticationError,
    GptOssConnectionError,
    GptOssContextOverflowError,
    GptOssNotFoundError,
    GptOssPermissionDeniedError,
    GptOssRateLimitError,
    GptOssServerError,
    GptOssStreamError,
    GptOssTimeoutError,
)
from langchain_gptoss.testing import Fault, TirEmulator
from tests.integration_tests.conftest import needs_emulator

pytestmark = needs_emulator

OVERFLOW = json.dumps(
    {
        "error": {
            "message": "This model's maximum context length is 131072 tokens. However, you "
            "requested 4096 output tokens and your prompt contains 130000 input tokens, for a "
            "total of 134096 tokens. Please reduce the length of the input prompt or the number "
            "of requested output tokens.",
            "type": "BadRequestError",
            "param": "input_tokens",
            "code": 400,
        }
    }
)
FIRST_BACKOFF = 0.375  # 0.5 s less at most 25 % jitter


@dataclass(frozen=True)
class Case:
    fault: Fault | None
    error: type[Exception]
    requests: int
    min_seconds: float = 0.0
    settings: dict[str, Any] = field(default_factory=dict)
    streams_only: bool = False
    invokes_only: bool = False


CASES = {
    "401": Case(
        None, GptOssAuthenticationError, 1, settings={"api_key": "wrong-token"}
    ),
    "403": Case(Fault(status=403), GptOssPermissionDeniedError, 1),
    "404-html": Case(Fault(status=404, body_kind="html"), GptOssNotFoundError, 1),
    "400-overflow": Case(
        Fault(status=400, body=OVERFLOW), GptOssContextOverflowError, 1
    ),
    "429-retry-after": Case(
        Fault(status=429, headers={"Retry-After": "0.25"}),
        GptOssRateLimitError,
        2,
        0.25,
    ),
    "429-bare": Case(Fault(status=429), GptOssRateLimitError, 2, FIRST_BACKOFF),
    "500-json": Case(Fault(status=500), GptOssServerError, 2, FIRST_BACKOFF),
    "502-html": Case(
        Fault(status=502, body_kind="html"), GptOssServerError, 2, FIRST_BACKOFF
    ),
    "503-text": Case(
        Fault(status=503, body_kind="text"), GptOssServerError, 2, FIRST_BACKOFF
    ),
    "refused": Case(
        None, GptOssConnectionError, 0, FIRST_BACKOFF, {"base_url": "closed"}
    ),
    "dropped-before-reply": Case(
        Fault(drop_after_events=0),
        GptOssConnectionError,
        2,
        FIRST_BACKOFF,
        invokes_only=True,
    ),
    "dropped-mid-stream": Case(
        Fault(drop_after_events=6), GptOssConnectionError, 1, streams_only=True
    ),
    "error-event": Case(
        Fault(error_event_after=6), GptOssStreamError, 1, streams_only=True
    ),
    "malformed-event": Case(
        Fault(malformed_after=6), GptOssStreamError, 1, streams_only=True
    ),
    "no-done": Case(Fault(omit_done=True), GptOssStreamError, 1, streams_only=True),
    "stall": Case(
        Fault(stall_after=6, stall_seconds=2.0),
        GptOssTimeoutError,
        1,
        0.3,
        {"stream_idle_timeout": 0.3},
        streams_only=True,
    ),
    "slow-first-byte": Case(
        Fault(first_byte_delay=2.0),
        GptOssTimeoutError,
        2,
        0.3 + FIRST_BACKOFF + 0.3,
        {"timeout": 0.3},
        invokes_only=True,  # a stream is not resent: see test_first_event.py
    ),
}


def run(model: ChatGptOss, mode: str, how: str, into: list[Any]) -> Any:
    """`how` is invoke, stream, or invoke-streaming (invoke that streams underneath)."""
    prompt = "Tell me a long story about a lighthouse keeper."
    if how == "stream":

        async def collect() -> None:
            async for chunk in model.astream(prompt):
                into.append(chunk)  # noqa: PERF401 - keep what came before the error

        if mode == "sync":
            into.extend(model.stream(prompt))
        else:
            asyncio.run(collect())
        return None
    if how == "invoke-streaming":
        model = model.model_copy(update={"streaming": True})
    return (
        model.invoke(prompt) if mode == "sync" else asyncio.run(model.ainvoke(prompt))
    )


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("how", ["invoke", "stream", "invoke-streaming"])
@pytest.mark.parametrize("name", list(CASES))
def test_fault(name: str, how: str, mode: str) -> None:
    case = CASES[name]
    if (case.streams_only and how == "invoke") or (
        case.invokes_only and how != "invoke"
    ):
        pytest.skip(
            f"{name} happens only {'in streams' if case.streams_only else 'without streaming'}"
        )
    with TirEmulator() as emulator:
        if case.fault:
            emulator.inject(case.fault, case.fault, case.fault)
        settings = {
            "base_url": emulator.base_url,
            "api_key": emulator.token,
            "project_id": emulator.project_id,
            "max_retries": 1,
            **case.settings,
        }
        if settings["base_url"] == "closed":
            with TirEmulator() as gone:
                settings["base_url"] = gone.base_url
        model = ChatGptOss(**settings)
        received: list[Any] = []
        started = time.monotonic()
        with pytest.raises(case.error) as caught:  # never a partial answer returned
            run(model, mode, how, received)
        elapsed = time.monotonic() - started
        assert len(emulator.requests) == case.requests
        assert elapsed >= case.min_seconds
        assert emulator.token not in repr(caught.value)
        if how == "stream" and case.streams_only:
            # Chunks that arrived before the failure were handed out; the error
            # then said the answer is incomplete, and nothing was retried.
            assert received


def test_retry_after_is_capped_and_dates_are_understood() -> None:
    with TirEmulator() as emulator:
        emulator.inject(
            Fault(status=503, headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"})
        )
        model = ChatGptOss(
            base_url=emulator.base_url,
            api_key=emulator.token,
            project_id=emulator.project_id,
        )
        started = time.monotonic()
        assert model.invoke("hi").content  # a date in the past means: now
        assert time.monotonic() - started < 5
        assert len(emulator.requests) == 2
