"""Scripted answers, a paced stream and a bound model: the emulator for users' tests."""

from __future__ import annotations

import time

import pytest

from langchain_gptoss import (
    ChatGptOss,
    GptOssAuthenticationError,
    GptOssBadRequestError,
    GptOssServerError,
)
from langchain_gptoss.testing import Fault, Reply, TirEmulator
from langchain_gptoss.testing._http import stream_actions

NO_FAULT = Fault()


def test_scripted_answers_come_in_order_then_the_usual(
    tir_emulator: TirEmulator,
) -> None:
    tir_emulator.script("First.", Reply("Thought.", "Second."))
    model = tir_emulator.chat_model()
    first, second, third = (model.invoke("Hi") for _ in range(3))
    assert first.content == "First."
    assert "reasoning_content" not in first.additional_kwargs
    assert second.content == "Second."
    assert second.additional_kwargs["reasoning_content"] == "Thought."
    assert third.content not in {"First.", "Second."}
    assert third.content  # the emulator's own answer


async def test_a_fault_answers_a_request_without_taking_a_scripted_answer(
    tir_emulator: TirEmulator,
) -> None:
    tir_emulator.inject(Fault(status=503))
    tir_emulator.script("Scripted.")
    model = tir_emulator.chat_model(max_retries=0)
    with pytest.raises(GptOssServerError):
        await model.ainvoke("Hi")
    assert (await model.ainvoke("Hi")).content == "Scripted."


def test_clear_forgets_scripted_answers(tir_emulator: TirEmulator) -> None:
    tir_emulator.script("Scripted.")
    tir_emulator.clear()
    assert tir_emulator.chat_model().invoke("Hi").content != "Scripted."


def test_chat_model_is_bound_to_the_emulator(tir_emulator: TirEmulator) -> None:
    model = tir_emulator.chat_model(temperature=0.5)
    assert isinstance(model, ChatGptOss)
    assert model.temperature == 0.5
    model.invoke("Hi")
    request = tir_emulator.requests[-1]
    assert request.headers["authorization"] == f"Bearer {tir_emulator.token}"
    assert request.body is not None
    assert request.body["temperature"] == 0.5


def test_step_seconds_sleeps_between_events_only() -> None:
    actions = list(
        stream_actions(
            [b"a", b"b", b"c"], NO_FAULT, eol=b"\n", comments=False, split=False
        )
    )
    paced = list(
        stream_actions(
            [b"a", b"b", b"c"],
            NO_FAULT,
            eol=b"\n",
            comments=False,
            split=False,
            pace=0.25,
        )
    )
    # a, pause, b, pause, c, pause, [DONE], end: never before the first event.
    assert [a for a in paced if not isinstance(a, float)] == actions
    assert [type(a).__name__ for a in paced[:2]] == ["bytes", "float"]
    assert paced.count(0.25) == 3


def test_a_paced_stream_takes_its_time(tir_emulator: TirEmulator) -> None:
    tir_emulator.script(Reply("", "one two three four five six seven eight"))
    tir_emulator.step_seconds = 0.05
    started = time.monotonic()
    chunks = list(tir_emulator.chat_model().stream("Hi"))
    # At least eight content events, each after a pause: not a timing target,
    # just that the pauses happen (the fast path takes milliseconds).
    assert time.monotonic() - started >= 8 * 0.05
    assert "".join(c.text for c in chunks) == "one two three four five six seven eight"


def test_chat_model_settings_may_replace_the_connection(
    tir_emulator: TirEmulator,
) -> None:
    with pytest.raises(GptOssAuthenticationError):
        tir_emulator.chat_model(api_key="wrong-token", max_retries=0).invoke("Hi")


def test_a_request_vllm_refuses_takes_no_scripted_answer(
    tir_emulator: TirEmulator,
) -> None:
    tir_emulator.script("Scripted.")
    tir_emulator.context_window = 200
    model = tir_emulator.chat_model(max_retries=0, context_check=False)
    with pytest.raises(GptOssBadRequestError):  # vLLM's own check: prompt too long
        model.invoke("word " * 300)
    assert model.invoke("Hi").content == "Scripted."
