"""The wait for a stream's first event: bounded by `timeout`, never resent unasked.

Queueing and prefill of a long prompt on a busy server can take longer than the
idle timeout; the server has the prompt and may be generating already, so a
resend would only double its work.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from langchain_gptoss import ChatGptOss, GptOssTimeoutError
from langchain_gptoss.testing import Fault, TirEmulator
from tests.integration_tests.conftest import needs_emulator

pytestmark = needs_emulator


def collect(model: ChatGptOss, mode: str, into: list[Any], how: str = "stream") -> str:
    prompt = "Tell me a story about a lighthouse keeper."
    if how == "invoke-streaming":
        model = model.model_copy(update={"streaming": True})
        if mode == "sync":
            return model.invoke(prompt).text
        return asyncio.run(model.ainvoke(prompt)).text
    if mode == "sync":
        into.extend(model.stream(prompt))
    else:

        async def run() -> None:
            async for chunk in model.astream(prompt):
                into.append(chunk)  # noqa: PERF401 - keep what came before an error

        asyncio.run(run())
    return "".join(chunk.text for chunk in into)


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_a_first_event_slower_than_the_idle_timeout_is_waited_for(mode: str) -> None:
    with TirEmulator() as emulator:
        emulator.inject(Fault(stall_after=0, stall_seconds=1.5))
        model = emulator.chat_model(stream_idle_timeout=0.5, max_retries=2)
        assert collect(model, mode, [])
        assert len(emulator.requests) == 1  # the prompt was sent once


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_the_first_event_is_bounded_by_the_read_timeout_and_not_resent(
    mode: str,
) -> None:
    with TirEmulator() as emulator:
        emulator.inject(*[Fault(stall_after=0, stall_seconds=3.0)] * 3)
        model = emulator.chat_model(timeout=0.5, max_retries=2)
        with pytest.raises(GptOssTimeoutError) as caught:
            collect(model, mode, [])
        assert len(emulator.requests) == 1
        assert not caught.value.is_retryable
        message = str(caught.value)
        assert "first event" in message
        assert "retry_first_event_timeout" in message


@pytest.mark.parametrize("how", ["stream", "invoke-streaming"])
@pytest.mark.parametrize("mode", ["sync", "async"])
def test_a_slow_status_line_of_a_stream_is_not_resent_either(
    mode: str, how: str
) -> None:
    with TirEmulator() as emulator:
        emulator.inject(*[Fault(first_byte_delay=3.0)] * 3)
        model = emulator.chat_model(timeout=0.5, max_retries=2)
        with pytest.raises(GptOssTimeoutError, match="first event"):
            collect(model, mode, [], how)
        assert len(emulator.requests) == 1


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_resending_after_a_first_event_timeout_is_opt_in(mode: str) -> None:
    with TirEmulator() as emulator:
        emulator.inject(*[Fault(stall_after=0, stall_seconds=3.0)] * 2)
        model = emulator.chat_model(
            timeout=0.5, max_retries=1, retry_first_event_timeout=True
        )
        with pytest.raises(GptOssTimeoutError):
            collect(model, mode, [])
        assert len(emulator.requests) == 2


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_the_idle_timeout_still_bounds_the_gaps_after_the_first_event(
    mode: str,
) -> None:
    with TirEmulator() as emulator:
        emulator.inject(Fault(stall_after=4, stall_seconds=3.0))
        model = emulator.chat_model(stream_idle_timeout=0.5, max_retries=2)
        received: list[Any] = []
        with pytest.raises(GptOssTimeoutError, match="stream_idle_timeout"):
            collect(model, mode, received)
        assert received
        assert len(emulator.requests) == 1
