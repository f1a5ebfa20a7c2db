"""Tool-call arguments vLLM lost in a stream never become a valid call.

vLLM 0.10.2-0.14 drop argument text when the engine emits several tokens per
step (`tests/vllm_golden/tool_streams/X.json`, `tokens_per_step` 2 and 3).
LangChain's chunk merging would close `{"city":"Rome` into `{'city': 'Rome'}`.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from langchain_core.exceptions import OutputParserException
from langchain_core.messages import AIMessage, AIMessageChunk
from langchain_core.messages.tool import tool_call_chunk

from langchain_gptoss._response import StreamState, chunks_from_events
from langchain_gptoss._tool_calls import LOST_ARGUMENTS_KEY
from langchain_gptoss.errors import GptOssStreamError
from tests.golden import RELEASES, load
from tests.unit_tests.conftest import (
    Recorder,
    make_model,
    run_invoke,
    run_stream,
    sse_bytes,
    sse_response,
)

_CALL = re.compile(r"to=functions\.(\w+).*?<\|message\|>(.*?)<\|call\|>", re.DOTALL)


def events_of(chunks: list[Any]) -> list[Any]:
    """The golden chunk records as the SSE events vLLM sent (no `[DONE]`)."""
    events: list[Any] = []
    for chunk in chunks:
        if chunk == "[DONE]":
            continue
        if "delta" in chunk:
            choice = {"index": 0, "logprobs": None, **chunk}
            events.append({"id": "chatcmpl-golden", "choices": [choice]})
        else:
            events.append({"id": "chatcmpl-golden", "choices": [], **chunk})
    return events


def sequences() -> list[Any]:
    found = []
    for release in RELEASES:
        for name, sequence in load("tool_streams", release)["sequences"].items():
            if "tool_call" not in name:
                continue
            for step, run in sequence["tokens_per_step"].items():
                if any("error" in c for c in run["chunks"] if isinstance(c, dict)):
                    continue  # 0.15/0.16 abort the stream: an error already raised
                found.append(
                    pytest.param(release, name, step, id=f"{release}-{name}-{step}")
                )
    return found


def golden(release: str, name: str, step: str) -> tuple[list[Any], str, str]:
    """The events, the tool called and the arguments the model wrote."""
    sequence = load("tool_streams", release)["sequences"][name]
    tool, arguments = _CALL.search(sequence["text"]).groups()  # type: ignore[union-attr]
    return events_of(sequence["tokens_per_step"][step]["chunks"]), tool, arguments


def streamed(release: str, name: str, step: str) -> str:
    """The argument text the stream delivered, all fragments in order."""
    runs = load("tool_streams", release)["sequences"][name]["tokens_per_step"]
    calls = runs[step]["derived"]["tool_calls_by_index"]
    return "".join(call["arguments"] for call in calls.values())


def summed(events: list[Any]) -> AIMessageChunk:
    chunks = [c.message for c in chunks_from_events(events, StreamState())]
    total = chunks[0]
    for chunk in chunks[1:]:
        total += chunk
    assert isinstance(total, AIMessageChunk)
    return total


def assert_lost(message: AIMessage, tool: str, received: str) -> None:
    """No valid call; an invalid one, with the error in response_metadata."""
    assert message.tool_calls == []
    [invalid] = message.invalid_tool_calls
    assert invalid["name"] == tool
    assert (invalid["args"] or "").startswith(received)
    [error] = message.response_metadata[LOST_ARGUMENTS_KEY]
    assert error["name"] == tool
    assert error["id"] == invalid["id"]
    assert error["args"] == received
    text = error["error"] or ""
    assert "lost part of the arguments" in text
    assert repr(received) in text
    assert "vLLM" in text
    assert "0.14" in text
    assert "Retry" in text
    assert "upgrade" in text


@pytest.mark.parametrize(("release", "name", "step"), sequences())
def test_golden_streams_never_give_a_truncated_call(
    release: str, name: str, step: str
) -> None:
    events, tool, arguments = golden(release, name, step)
    message = summed(events)
    received = streamed(release, name, step)
    if received == arguments:
        assert [(c["name"], c["args"]) for c in message.tool_calls] == [
            (tool, json.loads(arguments))
        ]
        assert message.invalid_tool_calls == []
        assert LOST_ARGUMENTS_KEY not in message.response_metadata
    else:
        assert_lost(message, tool, received)


def test_some_golden_streams_lost_arguments_langchain_would_accept() -> None:
    """The cases that matter: text lost, yet `parse_partial_json` gives a dict."""
    silent = [
        (release, name, step)
        for release, name, step in (p.values for p in sequences())
        if streamed(release, name, step) != golden(release, name, step)[2]
        and AIMessageChunk(
            content="",
            tool_call_chunks=[
                tool_call_chunk(args=streamed(release, name, step), index=0)
            ],
        ).tool_calls
    ]
    assert ("0.13.0", "reasoning_preamble_tool_call", "2") in silent


@pytest.mark.parametrize(
    "received",
    [
        '{"city":"',
        '{"city":"Rome',
        '{"city":"Ro\\',
        '{"a":[1,2',
        '{"a":[{"b":"c"',
        '"abc',
        "cityRome",
        '":"","":""}',
        "[1,2",
        '{"a":"}]',
    ],
)
def test_the_breaking_suffix_defeats_parse_partial_json(received: str) -> None:
    """Pins LangChain's merge: the finish chunk's suffix makes the call invalid."""
    events = [
        {"choices": [{"index": 0, "delta": {"tool_calls": [
            {"id": "call-1", "index": 0, "function": {"name": "f", "arguments": ""}}
        ]}}]},
        {"choices": [{"index": 0, "delta": {"tool_calls": [
            {"index": 0, "function": {"arguments": received}}
        ]}}]},
        {"choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]},
    ]  # fmt: skip
    message = summed(events)
    assert message.tool_calls == []
    assert [c["name"] for c in message.invalid_tool_calls] == ["f"]
    assert message.invalid_tool_calls[0]["id"] == "call-1"
    assert message.response_metadata[LOST_ARGUMENTS_KEY][0]["args"] == received


_WRITTEN = [
    {"city": "Rome", "unit": "c"},
    {"q": 'say "hi" \\ [x] {y}', "n": [1, [2, {"k": None}]], "t": True},
    {"nested": {"deep": [{"a": "}]"}, "\u00e9\n"]}},
]


@pytest.mark.parametrize("written", _WRITTEN)
def test_every_cut_of_the_arguments_is_an_invalid_call(written: dict[str, Any]) -> None:
    """Wherever vLLM cuts the text, with any spacing, no call is made of it."""
    for text in (json.dumps(written), json.dumps(written, indent=1)):
        for end in range(1, len(text)):
            events = [
                {"choices": [{"index": 0, "delta": {"tool_calls": [
                    {"id": "c", "index": 0, "function": {"name": "f", "arguments": ""}},
                    {"index": 0, "function": {"arguments": text[:end]}},
                ]}}]},
                {"choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]},
            ]  # fmt: skip
            message = summed(events)
            assert message.tool_calls == [], text[:end]
            assert len(message.invalid_tool_calls) == 1


@pytest.mark.parametrize(
    "args", ['{"city":"Rome"}', "", "{}", '{"a":[1,{"b":"}"}]}', '{"t":"a\nb"}']
)
def test_complete_arguments_stay_as_they_are(args: str) -> None:
    events = [
        {"choices": [{"index": 0, "delta": {"tool_calls": [
            {"id": "call-1", "index": 0, "function": {"name": "f", "arguments": ""}}
        ]}}]},
        {"choices": [{"index": 0, "delta": {"tool_calls": [
            {"index": 0, "function": {"arguments": args}}
        ]}}]},
        {"choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]},
    ]  # fmt: skip
    message = summed(events)
    assert [c["args"] for c in message.tool_calls] == [
        json.loads(args or "{}", strict=False)
    ]
    assert [c["args"] for c in message.tool_call_chunks] == [args]
    assert LOST_ARGUMENTS_KEY not in message.response_metadata


# ------------------------------------------------------------ end to end


def golden_body(release: str, name: str, step: str) -> bytes:
    return sse_bytes(*golden(release, name, step)[0])


LOST = ("0.13.0", "reasoning_preamble_tool_call", "2")  # `{"city":"Rome`
WHOLE = ("0.20.1", "reasoning_then_tool_call", "3")  # bumped index, nothing lost


def test_stream_sums_to_an_invalid_call(mode: str) -> None:
    chat = make_model(Recorder(sse_response(golden_body(*LOST), split=37)))
    chunks = run_stream(chat.bind_tools([get_weather]), mode, "Weather in Rome?")
    total = chunks[0]
    for chunk in chunks[1:]:
        total += chunk
    assert_lost(total, "get_weather", streamed(*LOST))


def test_invoke_with_streaming_gives_an_invalid_call(mode: str) -> None:
    chat = make_model(
        Recorder(sse_response(golden_body(*LOST), split=37)), streaming=True
    )
    message = run_invoke(chat.bind_tools([get_weather]), mode, "Weather in Rome?")
    assert isinstance(message, AIMessage)
    assert_lost(message, "get_weather", streamed(*LOST))


def test_invoke_with_streaming_keeps_whole_arguments(mode: str) -> None:
    chat = make_model(Recorder(sse_response(golden_body(*WHOLE))), streaming=True)
    message = run_invoke(chat.bind_tools([get_weather]), mode, "Weather in Berlin?")
    assert [(c["name"], c["args"]) for c in message.tool_calls] == [
        ("get_weather", {"city": "Berlin", "unit": "c"})
    ]
    assert message.invalid_tool_calls == []


def get_weather(city: str, unit: str = "c") -> str:
    """Current weather.

    Args:
        city: The city.
        unit: c or f.
    """
    return f"{city}: 20 {unit}"


LOST_SCHEMA = {
    "title": "get_weather",
    "description": "Current weather.",
    "type": "object",
    "properties": {"city": {"type": "string"}},
    "required": ["city"],
}


@pytest.mark.parametrize("how", ["stream", "invoke_streaming"])
def test_structured_output_raises_the_lost_arguments_error(how: str, mode: str) -> None:
    streaming = {} if how == "stream" else {"streaming": True}
    chat = make_model(Recorder(sse_response(golden_body(*LOST))), **streaming)
    runnable = chat.with_structured_output(LOST_SCHEMA, method="function_calling")
    run = run_stream if how == "stream" else run_invoke
    with pytest.raises(OutputParserException) as caught:
        run(runnable, mode, "Weather in Rome?")
    assert "lost part of the arguments" in str(caught.value)
    assert caught.value.llm_output == streamed(*LOST)


def test_nesting_too_deep_to_decode_is_not_called_lost() -> None:
    """Core lists such a call as invalid itself; nothing says text was lost."""
    deep = '{"a":' * 5000 + "1" + "}" * 5000
    events = [
        {"choices": [{"index": 0, "delta": {"tool_calls": [
            {"id": "c", "index": 0, "function": {"name": "f", "arguments": deep}}
        ]}}]},
        {"choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]},
    ]  # fmt: skip
    message = summed(events)
    assert message.tool_calls == []
    assert LOST_ARGUMENTS_KEY not in message.response_metadata


def test_v1_output_sums_to_an_invalid_call(mode: str) -> None:
    chat = make_model(Recorder(sse_response(golden_body(*LOST))), output_version="v1")
    chunks = run_stream(chat.bind_tools([get_weather]), mode, "Weather in Rome?")
    total = chunks[0]
    for chunk in chunks[1:]:
        total += chunk
    assert_lost(total, "get_weather", streamed(*LOST))
    blocks = [b for b in total.content if isinstance(b, dict)]
    assert not [b for b in blocks if b.get("type") == "tool_call"]


def test_the_error_quotes_at_most_a_thousand_characters_of_long_arguments() -> None:
    received = '{"text":"' + "x" * 5000
    events = [
        {"choices": [{"index": 0, "delta": {"tool_calls": [
            {"id": "c", "index": 0, "function": {"name": "f", "arguments": received}}
        ]}}]},
        {"choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]},
    ]  # fmt: skip
    [lost] = summed(events).response_metadata[LOST_ARGUMENTS_KEY]
    assert lost["args"] == received
    assert len(lost["error"] or "") < 1500


def test_a_stream_cut_mid_arguments_is_still_a_stream_error(mode: str) -> None:
    """No finish chunk: the incomplete-stream error, not an invalid call."""
    events = golden(*LOST)[0]
    cut = [
        e
        for e in events
        if not e["choices"] or not e["choices"][0].get("finish_reason")
    ]
    chat = make_model(Recorder(sse_response(sse_bytes(*cut))))
    chunks: list[Any] = []
    with pytest.raises(GptOssStreamError, match="without a finish_reason"):
        run_stream(chat.bind_tools([get_weather]), mode, "Rome?", into=chunks)
    assert chunks
    assert all(LOST_ARGUMENTS_KEY not in c.response_metadata for c in chunks)


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)


@settings(max_examples=200, deadline=None)
@given(
    written=st.dictionaries(st.text(max_size=5), _JSON, min_size=1, max_size=3),
    indent=st.sampled_from([None, 1]),
    cut=st.floats(min_value=0, max_value=1, exclude_max=True),
)
def test_any_cut_of_any_arguments_is_never_a_valid_call(
    written: dict[str, Any], indent: int | None, cut: float
) -> None:
    text = json.dumps(written, indent=indent, ensure_ascii=False)
    received = text[: max(1, int(len(text) * cut))]
    events = [
        {"choices": [{"index": 0, "delta": {"tool_calls": [
            {"id": "c", "index": 0, "function": {"name": "f", "arguments": received}}
        ]}}]},
        {"choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]},
    ]  # fmt: skip
    message = summed(events)
    assert message.tool_calls == []
    assert [c["id"] for c in message.invalid_tool_calls] == ["c"]
