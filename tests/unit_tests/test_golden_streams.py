"""Summed streams equal invoked messages, for what real vLLM releases sent.

Each scenario of `tests/vllm_golden/responses/X.json` holds vLLM's non-streamed
answer and its stream for the same scripted model output. Whatever quirks a
release has (the 0.10.2 arguments copied into `content`, empty deltas at channel
switches, reasoning under three names), the message a stream adds up to must be
the message `invoke` returns.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from langchain_core.messages import AIMessage, AIMessageChunk

from langchain_gptoss._response import (
    StreamState,
    chunks_from_events,
    result_from_response,
)
from tests.golden import RELEASES, load

# Scenarios whose stream and answer differ on the server itself, not in the client.
DIFFERENT_ON_THE_SERVER = {
    # Without --tool-call-parser vLLM answers the call as JSON content but streams
    # tool-call deltas (up to 0.23).
    "server_without_tool_parser": "vLLM streams tool deltas but answers JSON text",
    # n=2 cannot be streamed through this client (the choices would interleave).
    "n_two": "the client refuses to stream n > 1",
}


# Where vLLM's own stream and answer disagree on one field; the rest must agree.
SERVER_DIFFERS = {
    **{
        (release, "preamble_then_tool_call"): (
            "reasoning",
            "the answer appends the preamble to the reasoning, the stream drops it",
        )
        for release in ("0.10.2", "0.11.0", "0.11.2")
    },
    **{
        (release, "length_cut_in_answer"): (
            "content",
            "the answer drops a final message cut by max_tokens, the stream has it",
        )
        for release in ("0.11.0", "0.11.2", "0.13.0")
    },
}


def cases() -> list[Any]:
    found = []
    for release in RELEASES:
        for name in load("responses", release)["scenarios"]:
            marks = []
            if name in DIFFERENT_ON_THE_SERVER:
                marks.append(pytest.mark.skip(reason=DIFFERENT_ON_THE_SERVER[name]))
            found.append(
                pytest.param(release, name, id=f"{release}-{name}", marks=marks)
            )
    return found


def summed(events: list[Any]) -> AIMessageChunk:
    decoded = [e for e in events if e != "[DONE]"]
    chunks = [c.message for c in chunks_from_events(decoded, StreamState())]
    total = chunks[0]
    for chunk in chunks[1:]:
        total += chunk
    assert isinstance(total, AIMessageChunk)
    return total


def essentials(message: AIMessage) -> dict[str, Any]:
    return {
        "content": message.content,
        "reasoning": message.additional_kwargs.get("reasoning_content"),
        "tool_calls": [(c["name"], c["args"]) for c in message.tool_calls],
        "invalid_tool_calls": len(message.invalid_tool_calls),
        "finish_reason": message.response_metadata.get("finish_reason"),
    }


@pytest.mark.parametrize(("release", "name"), cases())
def test_the_summed_stream_is_the_invoked_message(release: str, name: str) -> None:
    scenario = load("responses", release)["scenarios"][name]
    if scenario.get("non_stream_status") != 200 or scenario.get("stream_status") != 200:
        pytest.skip(f"{name} is not answered with 200 in {release}")
    invoked = result_from_response(scenario["non_stream"]).generations[0].message
    assert isinstance(invoked, AIMessage)
    streamed, expected = essentials(summed(scenario["stream"])), essentials(invoked)
    if (release, name) in SERVER_DIFFERS:
        key, _why = SERVER_DIFFERS[release, name]
        assert streamed.pop(key) != expected.pop(key)  # still the server's quirk
    assert streamed == expected, json.dumps(scenario["scripted_output"])


def test_arguments_copied_into_a_delta_are_not_content() -> None:
    """vLLM puts the copy only in answers; a server doing it in a stream is fixed."""
    opener = {"id": "call-1", "type": "function", "index": 0}
    events = [
        {"choices": [{"index": 0, "delta": {"tool_calls": [
            {**opener, "function": {"name": "get_weather", "arguments": ""}}
        ]}}]},
        {"choices": [{"index": 0, "delta": {"content": '{"city":', "tool_calls": [
            {"index": 0, "function": {"arguments": '{"city":'}}
        ]}}]},
        {"choices": [{"index": 0, "delta": {"content": '"Paris"}', "tool_calls": [
            {"index": 0, "function": {"arguments": '"Paris"}'}}
        ]}}]},
        {"choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]},
    ]  # fmt: skip
    message = summed(events)
    assert message.content == ""
    assert message.tool_calls[0]["args"] == {"city": "Paris"}
    preamble = [
        {"choices": [{"index": 0, "delta": {"content": "Checking.", "tool_calls": [
            {**opener, "function": {"name": "get_weather", "arguments": "{}"}}
        ]}}]},
    ]  # fmt: skip
    assert summed(preamble).content == "Checking."
