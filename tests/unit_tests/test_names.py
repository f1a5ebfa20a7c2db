"""Tool names that are not identifiers (MCP's `a.b`, `a-b`) work end to end.

Harmony renders a tool as `type <name> = ...` and the model calls it as
`to=functions.<name>`: the wire gets identifiers, the user keeps the names.
"""

from __future__ import annotations

import json
from functools import reduce
from operator import add
from typing import Any

import httpx
import pytest
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langchain_core.tools import tool

from langchain_gptoss._names import ToolNames, is_safe
from tests.unit_tests.conftest import (
    Recorder,
    make_model,
    run_invoke,
    run_stream,
    sse_bytes,
    sse_response,
)
from tests.unit_tests.wire import chunk, completion


@tool("github.create_issue")
def create_issue(title: str) -> str:
    """Open an issue."""
    return title


@tool("get-weather")
def get_weather(city: str) -> str:
    """Weather in a city."""
    return city


def tool_call_completion(name: str, arguments: str) -> dict[str, Any]:
    body = completion("both", content=None)
    body["choices"][0]["message"]["tool_calls"] = [
        {
            "id": "chatcmpl-tool-1",
            "type": "function",
            "function": {"name": name, "arguments": arguments},
        }
    ]
    body["choices"][0]["finish_reason"] = "tool_calls"
    return body


def tool_call_stream(name: str, fragments: list[str]) -> bytes:
    opener = {"id": "chatcmpl-tool-1", "type": "function", "index": 0}
    events = [
        chunk({"role": "assistant", "content": ""}),
        chunk(
            {"tool_calls": [{**opener, "function": {"name": name, "arguments": ""}}]}
        ),
        *(
            chunk({"tool_calls": [{"index": 0, "function": {"arguments": piece}}]})
            for piece in fragments
        ),
        chunk({}, finish_reason="tool_calls", stop_reason=200012),
    ]
    return sse_bytes(*events)


@pytest.mark.parametrize(
    ("names", "wire"),
    [
        (["get-weather"], {"get-weather": "get_weather"}),
        (["github.create_issue"], {"github.create_issue": "github_create_issue"}),
        (["get-weather", "get_weather"], {"get-weather": "get_weather_2"}),
        (
            ["a.b", "a-b", "a_b_2"],
            {"a.b": "a_b", "a-b": "a_b_3"},
        ),
        (["7zip"], {"7zip": "_7zip"}),
        (["météo"], {"météo": "m_t_o"}),
    ],
)
def test_unsafe_names_get_unique_identifiers(
    names: list[str], wire: dict[str, str]
) -> None:
    renames = ToolNames.of(names)
    assert renames is not None
    assert dict(renames.to_wire) == wire
    sent = [renames.wire(name) for name in names]
    assert len(set(sent)) == len(sent)
    assert all(is_safe(name) for name in sent)
    assert [renames.user(name) for name in sent] == names


def test_safe_names_need_no_renames() -> None:
    assert ToolNames.of(["get_weather", "Add2", "_private"]) is None


def test_the_wire_carries_identifiers_and_calls_come_back_named(mode: str) -> None:
    recorder = Recorder(
        httpx.Response(
            200, json=tool_call_completion("github_create_issue", '{"title": "Bug"}')
        )
    )
    model = make_model(recorder).bind_tools(
        [create_issue, get_weather], tool_choice="github.create_issue"
    )
    message = run_invoke(model, mode, "File a bug")
    body = recorder.bodies[0]
    assert [t["function"]["name"] for t in body["tools"]] == [
        "github_create_issue",
        "get_weather",
    ]
    assert body["tool_choice"] == {
        "type": "function",
        "function": {"name": "github_create_issue"},
    }
    assert message.tool_calls == [
        {
            "name": "github.create_issue",
            "args": {"title": "Bug"},
            "id": "chatcmpl-tool-1",
            "type": "tool_call",
        }
    ]


def test_streamed_calls_come_back_named(mode: str) -> None:
    recorder = Recorder(
        sse_response(tool_call_stream("get_weather", ['{"city": ', '"Oslo"}']))
    )
    model = make_model(recorder).bind_tools([create_issue, get_weather])
    chunks = run_stream(model, mode, "Weather in Oslo?")
    message = reduce(add, chunks)
    assert [(c["name"], c["args"]) for c in message.tool_calls] == [
        ("get-weather", {"city": "Oslo"})
    ]
    named = [c["name"] for ch in chunks for c in ch.tool_call_chunks if c["name"]]
    assert named == ["get-weather"]  # each chunk as a ToolNode would see it


def test_history_goes_out_under_wire_names(mode: str) -> None:
    recorder = Recorder(httpx.Response(200, json=completion("both")))
    history = [
        HumanMessage("Weather in Oslo?"),
        AIMessage(
            "",
            tool_calls=[
                {"name": "get-weather", "args": {"city": "Oslo"}, "id": "call-1"}
            ],
        ),
        ToolMessage("4 C", tool_call_id="call-1"),
        AIMessage(
            "",
            tool_calls=[{"name": "old.tool", "args": {}, "id": "call-2"}],
        ),
        ToolMessage("done", tool_call_id="call-2", name="old.tool"),
    ]
    # Bound now: get-weather; `old.tool` was bound in an earlier turn only.
    run_invoke(make_model(recorder).bind_tools([get_weather]), mode, history)
    sent = recorder.bodies[0]["messages"]
    assert sent[1]["tool_calls"][0]["function"]["name"] == "get_weather"
    assert sent[2]["name"] == "get_weather"
    assert sent[3]["tool_calls"][0]["function"]["name"] == "old_tool"
    assert sent[4]["name"] == "old_tool"
    assert json.loads(sent[1]["tool_calls"][0]["function"]["arguments"]) == {
        "city": "Oslo"
    }


def test_history_is_renamed_without_tools_bound(mode: str) -> None:
    recorder = Recorder(httpx.Response(200, json=completion("both")))
    history = [
        HumanMessage("Weather?"),
        AIMessage("", tool_calls=[{"name": "get-weather", "args": {}, "id": "c"}]),
        ToolMessage("4 C", tool_call_id="c"),
    ]
    run_invoke(make_model(recorder), mode, history)
    sent = recorder.bodies[0]["messages"]
    assert sent[1]["tool_calls"][0]["function"]["name"] == "get_weather"
    assert sent[2]["name"] == "get_weather"
