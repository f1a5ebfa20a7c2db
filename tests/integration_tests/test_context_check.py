"""context_check=True: a request that cannot fit is refused before it is sent.

Against the emulator over loopback, sync and async, invoke and stream; the
emulator's request log proves whether anything reached the server.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from langchain_core.messages import BaseMessage, HumanMessage

from langchain_gptoss import GptOssContextOverflowError
from langchain_gptoss.testing import TirEmulator
from tests.integration_tests.conftest import needs_emulator

pytestmark = needs_emulator

WINDOW = 131_072
CALLS = ("invoke", "ainvoke", "stream", "astream")


def call(model: Any, how: str, messages: list[BaseMessage]) -> str:
    """Run one call the way `how` names it; return the answer's text."""
    if how == "invoke":
        return str(model.invoke(messages).content)
    if how == "ainvoke":
        return str(asyncio.run(model.ainvoke(messages)).content)
    if how == "stream":
        return "".join(str(chunk.content) for chunk in model.stream(messages))

    async def collect() -> str:
        return "".join([str(chunk.content) async for chunk in model.astream(messages)])

    return asyncio.run(collect())


QUESTION = [HumanMessage("Name one primary colour.")]


@pytest.mark.parametrize("how", CALLS)
def test_prompt_plus_max_tokens_over_the_window_is_never_sent(
    emulator: TirEmulator, how: str
) -> None:
    model = emulator.chat_model(
        max_retries=0, context_check=True, max_tokens=WINDOW - 10
    )
    prompt = model.get_num_tokens_from_messages(QUESTION)
    with pytest.raises(GptOssContextOverflowError) as raised:
        call(model, how, QUESTION)
    assert emulator.requests == []
    error = raised.value
    assert (error.prompt_tokens, error.max_tokens) == (prompt, WINDOW - 10)
    assert error.context_window == WINDOW
    assert f"{prompt:,} tokens" in str(error)
    assert f"{WINDOW - 10:,}" in str(error)
    assert "131,072" in str(error)
    assert f"lower max_tokens to at most {WINDOW - prompt:,}" in str(error)


@pytest.mark.parametrize("how", CALLS)
def test_a_request_that_fits_is_sent(emulator: TirEmulator, how: str) -> None:
    model = emulator.chat_model(max_retries=0, context_check=True, max_tokens=256)
    assert call(model, how, QUESTION)
    assert len(emulator.requests) == 1


@pytest.mark.parametrize("how", ["invoke", "astream"])
def test_per_call_max_tokens_is_checked(emulator: TirEmulator, how: str) -> None:
    model = emulator.chat_model(max_retries=0, context_check=True)
    with pytest.raises(GptOssContextOverflowError):
        call(model.bind(max_tokens=WINDOW), how, QUESTION)
    assert emulator.requests == []


def test_max_completion_tokens_is_checked(emulator: TirEmulator) -> None:
    model = emulator.chat_model(
        max_retries=0, context_check=True, max_completion_tokens=WINDOW
    )
    with pytest.raises(GptOssContextOverflowError):
        model.invoke(QUESTION)
    assert emulator.requests == []


# ~131,100 tokens: " one" is one token, and the framing adds about 70.
HUGE = [HumanMessage(" one" * (WINDOW + 30))]


@pytest.mark.parametrize("how", CALLS)
def test_without_max_tokens_only_a_prompt_that_fills_the_window_is_refused(
    emulator: TirEmulator, how: str
) -> None:
    model = emulator.chat_model(max_retries=0, context_check=True)
    with pytest.raises(GptOssContextOverflowError, match="prompt alone is 131,"):
        call(model, how, HUGE)
    assert emulator.requests == []
    # a long prompt that leaves room is sent: vLLM gives the answer what is left
    call(model, how, [HumanMessage(" one" * 120_000)])
    assert len(emulator.requests) == 1


def test_off_by_default(emulator: TirEmulator) -> None:
    model = emulator.chat_model(max_retries=0, max_tokens=WINDOW - 10)
    # Sent as is, and vLLM (the emulator too) clamps max_tokens to what is left
    # (vllm-golden errors/X.json `prompt_plus_max_tokens_over`): the server decides.
    assert model.invoke(QUESTION).content
    assert len(emulator.requests) == 1
    assert emulator.requests[0].body["max_tokens"] == WINDOW - 10
