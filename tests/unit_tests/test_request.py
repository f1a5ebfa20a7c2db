"""Messages -> wire (pure)."""

from __future__ import annotations

import pytest
from langchain_core.messages import (
    AIMessage,
    ChatMessage,
    FunctionMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)

from langchain_gptoss._messages import messages_to_wire
from langchain_gptoss._request import build_request_body


def test_roles_names_and_text() -> None:
    wire = messages_to_wire(
        [
            SystemMessage("Be terse."),
            HumanMessage("Hi", name="ana"),
            AIMessage("Hello."),
            ChatMessage(role="developer", content="Prefer metric units."),
        ]
    )
    assert wire == [
        {"role": "system", "content": "Be terse."},
        {"role": "user", "content": "Hi", "name": "ana"},
        {"role": "assistant", "content": "Hello."},
        {"role": "developer", "content": "Prefer metric units."},
    ]


def test_tool_loop_sends_reasoning_calls_and_named_results() -> None:
    ai = AIMessage(
        content="",
        additional_kwargs={"reasoning_content": "Need the weather."},
        tool_calls=[
            {"id": "chatcmpl-tool-1", "name": "get_weather", "args": {"city": "Zürich"}}
        ],
    )
    wire = messages_to_wire(
        [
            HumanMessage("Weather?"),
            ai,
            ToolMessage("21 C", tool_call_id="chatcmpl-tool-1"),
            ToolMessage("named", tool_call_id="other", name="explicit"),
        ]
    )
    assert wire[1] == {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": "chatcmpl-tool-1",
                "type": "function",
                "function": {"name": "get_weather", "arguments": '{"city": "Zürich"}'},
            }
        ],
        "reasoning": "Need the weather.",
        "reasoning_content": "Need the weather.",
    }
    assert wire[2] == {
        "role": "tool",
        "tool_call_id": "chatcmpl-tool-1",
        "content": "21 C",
        "name": "get_weather",
    }
    assert wire[3]["name"] == "explicit"


def test_invalid_tool_calls_are_replayed_raw() -> None:
    ai = AIMessage(
        content="",
        invalid_tool_calls=[
            {
                "id": "t1",
                "name": "f",
                "args": "{oops",
                "error": "bad json",
                "type": "invalid_tool_call",
            }
        ],
    )
    assert messages_to_wire([ai])[0]["tool_calls"][0]["function"] == {
        "name": "f",
        "arguments": "{oops",
    }


def test_list_content_keeps_text_and_drops_silent_blocks() -> None:
    ai = AIMessage(
        content=[
            {"type": "reasoning", "reasoning": "thought"},
            {"type": "text", "text": "Answer"},
            {"type": "tool_use", "id": "x", "name": "f", "input": {}},
        ]
    )
    human = HumanMessage(content=["one", {"type": "text", "text": "two"}])
    wire = messages_to_wire([human, ai])
    assert wire[0]["content"] == [
        {"type": "text", "text": "one"},
        {"type": "text", "text": "two"},
    ]
    assert wire[1] == {
        "role": "assistant",
        "content": "Answer",
        "reasoning": "thought",
        "reasoning_content": "thought",
    }


@pytest.mark.parametrize(
    "block",
    [
        {"type": "image_url", "image_url": {"url": "https://x/y.png"}},
        {"type": "image", "url": "https://x/y.png"},
        {"type": "audio", "base64": "AAAA", "mime_type": "audio/wav"},
        {"type": "file", "base64": "AAAA", "mime_type": "application/pdf"},
    ],
)
def test_media_is_refused_clearly(block: dict[str, object]) -> None:
    with pytest.raises(ValueError, match=r"messages\[1\] \(human\).*reads text only"):
        messages_to_wire([SystemMessage("s"), HumanMessage(content=["look", block])])


def test_unknown_blocks_and_messages_are_refused() -> None:
    with pytest.raises(ValueError, match="unsupported content block type 'mystery'"):
        messages_to_wire([HumanMessage(content=[{"type": "mystery"}])])
    with pytest.raises(ValueError, match="FunctionMessage is not supported"):
        messages_to_wire([FunctionMessage(name="f", content="x")])


def test_body_drops_unset_params_and_adds_stream_options() -> None:
    body = build_request_body(
        [HumanMessage("hi")],
        {"model": "gpt_oss_120b", "temperature": None, "top_k": 5},
        stream=True,
        stream_usage=True,
    )
    assert body == {
        "messages": [{"role": "user", "content": "hi"}],
        "model": "gpt_oss_120b",
        "top_k": 5,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    with pytest.raises(ValueError, match="at least one message"):
        build_request_body([], {}, stream=False, stream_usage=True)
