"""Tool calls, streamed and not, and the model's tool use."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest

from langchain_gptoss.testing import (
    Reply,
    TirEmulator,
    ToolCall,
)
from langchain_gptoss.testing._harmony_tokens import harmony_tokens, messages, split
from tests.integration_tests.emulator.wire import (
    BASE_MESSAGE_KEYS,
    ERA_KEYS,
    TOP_KEYS,
    WEATHER,
    joined,
    post,
    stream_events,
)

TOOL_ID = re.compile(r"chatcmpl-tool-[0-9a-f]{16}")  # from 0.12.0; 0.13.0 default

ADD = {
    "type": "function",
    "function": {
        "name": "add",
        "description": "Sum two integers.",
        "parameters": {
            "type": "object",
            "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
            "required": ["a", "b"],
        },
    },
}

ASK_WEATHER = {"role": "user", "content": "What is the weather in Zürich?"}


def merge_calls(events: list[Any]) -> list[dict[str, Any]]:
    """Accumulate streamed tool calls by the protocol's "last opened call" rule."""
    calls: dict[int, dict[str, Any]] = {}
    last: int | None = None
    for event in events:
        for choice in event["choices"]:
            for entry in choice["delta"].get("tool_calls") or []:
                function = entry.get("function") or {}
                if entry.get("id"):
                    last = entry["index"]
                    calls[last] = {
                        "id": entry["id"],
                        "name": function["name"],
                        "arguments": "",
                    }
                target = entry["index"] if entry["index"] in calls else last
                assert target is not None
                calls[target]["arguments"] += function.get("arguments") or ""
    return [calls[index] for index in sorted(calls)]


def only_call(body: dict[str, Any]) -> dict[str, Any]:
    (choice,) = body["choices"]
    assert (choice["finish_reason"], choice["stop_reason"]) == ("tool_calls", 200012)
    (call,) = choice["message"]["tool_calls"]
    assert list(call) == ["id", "type", "function"]
    assert TOOL_ID.fullmatch(call["id"])
    assert call["type"] == "function"
    assert list(call["function"]) == ["name", "arguments"]
    return call["function"]  # type: ignore[no-any-return]


@pytest.mark.parametrize("era", ["reasoning_content", "both", "reasoning"])
def test_tool_call_non_stream(emu: TirEmulator, client: httpx.Client, era: Any) -> None:
    emu.reasoning_field = era
    plain = post(client, emu, ASK_WEATHER).json()
    body = post(client, emu, ASK_WEATHER, tools=[WEATHER]).json()
    assert list(body) == TOP_KEYS
    message = body["choices"][0]["message"]
    assert list(message) == BASE_MESSAGE_KEYS + ERA_KEYS[era]
    assert message["content"] is None
    reasonings = {message[key] for key in ERA_KEYS[era]}
    assert reasonings == {
        "Need to call get_weather for this. Its arguments come straight from the request."
    }
    function = only_call(body)
    assert function["name"] == "get_weather"
    # Re-serialized by json.dumps: spaced separators and ASCII escapes.
    assert function["arguments"] == '{"location": "Z\\u00fcrich"}'
    assert json.loads(function["arguments"]) == {"location": "Zürich"}
    assert (
        body["usage"]["prompt_tokens"] > plain["usage"]["prompt_tokens"]
    )  # tools count
    events = stream_events(client, emu, ASK_WEATHER, tools=[WEATHER], stream_options={})
    (streamed,) = merge_calls(events)
    assert streamed["arguments"] == '{"location":"Zürich"}'  # the raw model text
    assert json.dumps(json.loads(streamed["arguments"])) == function["arguments"]
    assert (
        events[-1]["usage"]["completion_tokens"] == body["usage"]["completion_tokens"]
    )
    reasoning = joined(
        events, "reasoning_content" if era == "reasoning_content" else "reasoning"
    )
    generated = Reply(
        reasoning, None, (ToolCall("get_weather", streamed["arguments"]),)
    )
    assert body["usage"]["completion_tokens"] == len(
        harmony_tokens(messages(generated))
    )
    second = post(client, emu, ASK_WEATHER, tools=[WEATHER]).json()
    ids = {second["choices"][0]["message"]["tool_calls"][0]["id"], streamed["id"]}
    assert len(ids | {body["choices"][0]["message"]["tool_calls"][0]["id"]}) == 3


@pytest.mark.parametrize("era", ["reasoning_content", "both", "reasoning"])
def test_tool_call_stream(emu: TirEmulator, client: httpx.Client, era: Any) -> None:
    emu.reasoning_field = era
    events = stream_events(
        client,
        emu,
        ASK_WEATHER,
        tools=[WEATHER],
        stream_options={"include_usage": True},
    )
    mirror = {"reasoning_content": None} if era == "both" else {}
    role = {"role": "assistant", "content": "", **mirror}
    assert events[0]["choices"][0]["delta"] == role
    deltas = [e["choices"][0]["delta"] for e in events[1:-2]]
    name = "reasoning_content" if era == "reasoning_content" else "reasoning"
    with_calls = [i for i, d in enumerate(deltas) if "tool_calls" in d]
    assert all(name in d and "content" not in d for d in deltas[: with_calls[0]])
    opener, *fragments = [deltas[i] for i in with_calls]
    assert with_calls == list(range(with_calls[0], len(deltas)))
    (entry,) = opener["tool_calls"]
    assert list(entry) == ["id", "type", "index", "function"]
    assert TOOL_ID.fullmatch(entry["id"])
    assert entry == {"id": entry["id"], "type": "function", "index": 0,
                     "function": {"name": "get_weather", "arguments": ""}}  # fmt: skip
    assert opener == {**mirror, "tool_calls": [entry]}
    assert len(fragments) >= 5
    for delta in fragments:
        (piece,) = delta["tool_calls"]
        assert delta == {**mirror, "tool_calls": [piece]}
        assert list(piece) == ["index", "function"]
        assert piece["index"] == 0
        assert list(piece["function"]) == ["arguments"]
    text = "".join(d["tool_calls"][0]["function"]["arguments"] for d in fragments)
    assert text == '{"location":"Zürich"}'
    final = events[-2]["choices"][0]
    assert final == {"index": 0, "delta": mirror, "logprobs": None, "finish_reason": "tool_calls",
                     "stop_reason": 200012, "token_ids": None}  # fmt: skip
    assert events[-1]["choices"] == []
    assert set(events[-1]["usage"]) == {
        "prompt_tokens",
        "total_tokens",
        "completion_tokens",
    }


def test_tool_stream_quirks(emu: TirEmulator, client: httpx.Client) -> None:
    plain = stream_events(client, emu, ASK_WEATHER, tools=[WEATHER])
    emu.tool_stream_quirks = True
    events = stream_events(client, emu, ASK_WEATHER, tools=[WEATHER])
    assert len(events) == len(plain) - 2  # two chunks merged away
    choices = [e["choices"][0] for e in events]
    opened = next(i for i, c in enumerate(choices) if "tool_calls" in c["delta"])
    # (b) the last reasoning delta shares the opener's delta; (a) two same-index entries.
    delta = choices[opened]["delta"]
    assert delta["reasoning"] == delta["reasoning_content"] == "."
    opener, first = delta["tool_calls"]
    assert opener == {"id": opener["id"], "type": "function", "index": 0,
                      "function": {"name": "get_weather", "arguments": ""}}  # fmt: skip
    arguments = split('{"location":"Zürich"}')
    assert first == {
        "type": "function",
        "index": 0,
        "function": {"arguments": arguments[0]},
    }
    # (c) the last fragment is bumped to index 1, without id/name, with stop_reason.
    bumped = choices[-2]
    assert bumped["delta"] == {
        "reasoning_content": None,
        "tool_calls": [
            {"type": "function", "index": 1, "function": {"arguments": arguments[-1]}}
        ],
    }
    assert (bumped["finish_reason"], bumped["stop_reason"]) == (None, 200012)
    assert list(bumped) == [
        "index",
        "delta",
        "logprobs",
        "finish_reason",
        "stop_reason",
        "token_ids",
    ]
    assert choices[-1]["finish_reason"] == "tool_calls"
    assert choices[-1]["delta"] == {"reasoning_content": None}
    assert merge_calls(events)[0]["arguments"] == merge_calls(plain)[0]["arguments"]
    assert joined(events, "reasoning") == joined(plain, "reasoning")


def test_leak_tool_args_into_content(emu: TirEmulator, client: httpx.Client) -> None:
    emu.leak_tool_args_into_content = True
    body = post(client, emu, ASK_WEATHER, tools=[WEATHER]).json()
    message = body["choices"][0]["message"]
    assert message["content"] == '{"location":"Zürich"}'
    assert json.loads(only_call(body)["arguments"]) == json.loads(message["content"])
    # As vLLM 0.10.2's own stream (vllm-golden responses/0.10.2.json, tool_call):
    # the arguments travel in the tool-call deltas only.
    events = stream_events(client, emu, ASK_WEATHER, tools=[WEATHER])
    assert joined(events, "content") == ""
    assert merge_calls(events)[0]["arguments"] == '{"location":"Zürich"}'


def test_tool_parser_off(emu: TirEmulator, client: httpx.Client) -> None:
    emu.tool_parser = False
    choice = post(client, emu, ASK_WEATHER, tools=[WEATHER]).json()["choices"][0]
    assert choice["message"]["tool_calls"] == []
    assert choice["message"]["content"] == '{"location":"Zürich"}'
    assert (choice["finish_reason"], choice["stop_reason"]) == ("stop", 200012)
    assert choice["message"]["reasoning"]
    # Streams parse the call anyway up to 0.20 (vllm-golden responses/0.13.0
    # `server_without_tool_parser`).
    events = stream_events(client, emu, ASK_WEATHER, tools=[WEATHER])
    assert any("tool_calls" in e["choices"][0]["delta"] for e in events)
    assert not joined(events, "content")
    assert events[-1]["choices"][0]["finish_reason"] == "tool_calls"


def call_name(body: dict[str, Any]) -> str | None:
    calls = body["choices"][0]["message"]["tool_calls"]
    return calls[0]["function"]["name"] if calls else None


def test_tool_choice_variants(emu: TirEmulator, client: httpx.Client) -> None:
    tools = [ADD, WEATHER]
    named = {"type": "function", "function": {"name": "get_weather"}}
    hello = "Hello there!"
    assert call_name(post(client, emu, hello, tools=tools).json()) is None
    assert (
        call_name(post(client, emu, hello, tools=tools, tool_choice="auto").json())
        is None
    )
    assert (
        call_name(post(client, emu, hello, tools=tools, tool_choice="required").json())
        == "add"
    )
    body = post(client, emu, hello, tools=tools, tool_choice=named).json()
    assert call_name(body) == "get_weather"
    assert json.loads(only_call(body)["arguments"]) == {"location": "Hello there"}
    # "none" answers in prose, even when a tool fits.
    body = post(client, emu, ASK_WEATHER, tools=tools, tool_choice="none").json()
    assert call_name(body) is None
    assert (
        body["choices"][0]["message"]["content"]
        == "You said: What is the weather in Zürich?"
    )
    assert body["choices"][0]["finish_reason"] == "stop"
    emu.legacy_tool_choice_none = True
    assert (
        call_name(
            post(client, emu, ASK_WEATHER, tools=tools, tool_choice="none").json()
        )
        == "get_weather"
    )
    assert (
        call_name(post(client, emu, hello, tools=tools, tool_choice="none").json())
        is None
    )
    emu.ignore_required_tool_choice = True
    for choice in ("required", named):
        body = post(client, emu, hello, tools=tools, tool_choice=choice).json()
        assert body["choices"][0]["message"]["tool_calls"] == []
        assert body["choices"][0]["finish_reason"] == "stop"
    assert (
        call_name(
            post(
                client, emu, "Please add 4 and 5", tools=tools, tool_choice=named
            ).json()
        )
        == "add"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [("Use the get_weather tool.", True), ("How is the weather?", True),
     ("Weathers vary.", True), ("Is it sunny?", False),
     ("Where is the location of the current weather station?", True),
     ("Tell me when.", False)],
)  # fmt: skip
def test_relevance(
    emu: TirEmulator, client: httpx.Client, text: str, expected: bool
) -> None:
    assert (
        call_name(post(client, emu, text, tools=[WEATHER]).json()) is not None
    ) is expected


def agent_step(
    client: httpx.Client, emu: TirEmulator, messages: list[Any], *, stream: bool
) -> dict[str, Any]:
    """Run one model turn and return the assistant message to send back."""
    body = {"messages": messages, "tools": [WEATHER, ADD], "reasoning_effort": "low"}
    if not stream:
        reply = client.post(emu.chat_url, json=body).json()
        message = reply["choices"][0]["message"]
        return {"role": "assistant", "content": message["content"],
                "reasoning": message["reasoning"], "reasoning_content": message["reasoning"],
                **({"tool_calls": message["tool_calls"]} if message["tool_calls"] else {})}  # fmt: skip
    events = stream_events(
        client, emu, *messages, tools=[WEATHER, ADD], reasoning_effort="low"
    )
    message = {"role": "assistant", "content": joined(events, "content") or None,
               "reasoning": joined(events, "reasoning")}  # fmt: skip
    calls = merge_calls(events)
    if calls:
        message["tool_calls"] = [
            {"id": c["id"], "type": "function",
             "function": {"name": c["name"], "arguments": c["arguments"]}}
            for c in calls
        ]  # fmt: skip
    return message


@pytest.mark.parametrize("stream", [False, True])
def test_multi_step_agent(emu: TirEmulator, client: httpx.Client, stream: bool) -> None:
    results = {"get_weather": "Sunny, 21 °C", "add": "5"}
    messages: list[Any] = [
        {"role": "system", "content": "Use the tools."},
        {
            "role": "user",
            "content": "What's the weather in Paris, and can you add 2 and 3?",
        },
    ]
    called = []
    for _ in range(3):
        message = agent_step(client, emu, messages, stream=stream)
        messages.append(message)
        if "tool_calls" not in message:
            break
        (call,) = message["tool_calls"]
        name = call["function"]["name"]
        called.append((name, json.loads(call["function"]["arguments"])))
        messages.append({"role": "tool", "tool_call_id": call["id"], "name": name,
                         "content": results[name]})  # fmt: skip
    assert called == [("get_weather", {"location": "Paris"}), ("add", {"a": 2, "b": 3})]
    assert messages[-1]["content"] == "Based on get_weather: Sunny, 21 °C; add: 5."
    assert messages[-1]["reasoning"] == "The tool results are in, so answer from them."
    # Reasoning sent back on assistant messages is accepted and recorded.
    sent = emu.requests[-1].body["messages"]
    assert sent[2]["reasoning"] == "Need to call get_weather for this."
    # A new question starts a new turn: earlier results no longer count.
    messages.append({"role": "user", "content": "And the weather in Oslo?"})
    assert (
        agent_step(client, emu, messages, stream=stream)["tool_calls"][0]["function"][
            "name"
        ]
        == "get_weather"
    )


def test_tool_message_name(emu: TirEmulator, client: httpx.Client) -> None:
    call = {"id": "chatcmpl-tool-1", "type": "function",
            "function": {"name": "get_weather", "arguments": '{"location":"Zürich"}'}}  # fmt: skip
    history = [
        ASK_WEATHER,
        {"role": "assistant", "content": None, "tool_calls": [call]},
    ]
    result = {
        "role": "tool",
        "tool_call_id": "chatcmpl-tool-1",
        "content": [{"type": "text", "text": "Snow"}],
    }

    def answer(**extra: Any) -> str:
        body = {"messages": [*history, {**result, **extra}], "tools": [WEATHER]}
        choice = client.post(emu.chat_url, json=body).json()["choices"][0]
        assert choice["finish_reason"] == "stop"
        return choice["message"]["content"]  # type: ignore[no-any-return]

    assert answer() == answer(name="get_weather") == "Based on get_weather: Snow."
    emu.require_tool_message_name = True
    assert answer(name="get_weather") == "Based on get_weather: Snow."
    assert answer() == "The tool result was missing, so I cannot answer that yet."


def test_unicode_round_trip(emu: TirEmulator, client: httpx.Client) -> None:
    tool = {"type": "function", "function": {
        "name": "create_customer", "description": "Create a customer record.",
        "parameters": {"type": "object", "properties": {
            "name": {"type": "string"}, "note": {"type": "string"}, "city": {"type": "string"}},
            "required": ["name"]}}}  # fmt: skip
    text = "Create a customer named 「你好啊集团」 with note “Grüße 🙂 é” in Zürich"
    body = post(client, emu, text, tools=[tool], tool_choice="required").json()
    expected = {"name": "你好啊集团", "note": "Grüße 🙂 é", "city": "Zürich"}
    arguments = only_call(body)["arguments"]
    assert json.loads(arguments) == expected
    assert arguments.isascii()  # json.dumps escapes, as vLLM's parser does
    events = stream_events(
        client,
        emu,
        {"role": "user", "content": text},
        tools=[tool],
        tool_choice="required",
    )
    raw = merge_calls(events)[0]["arguments"]
    assert "你好啊集团" in raw
    assert json.loads(raw) == expected


SCHEMA = {
    "$defs": {
        "Size": {"type": "string", "enum": ["small", "large"]},
        "Inner": {"type": "object", "properties": {
            "when": {"type": "string", "format": "date"},
            "ok": {"type": "boolean"}, "tags": {"type": "array", "items": {"type": "string"}},
            "size": {"$ref": "#/$defs/Size"}, "nothing": {"type": "null"}}},
    },
    "type": "object",
    "properties": {
        "label": {"type": "string"},
        "count": {"type": "integer"},
        "ratio": {"type": "number"},
        "fallback": {"type": "integer", "exclusiveMinimum": 10, "maximum": 20},
        "inner": {"$ref": "#/$defs/Inner"},
        "maybe": {"anyOf": [{"type": "null"}, {"type": "string"}], "default": None},
        "fixed": {"const": "v1"},
        "mixed": {"type": ["null", "integer"]},
        "both": {"allOf": [{"type": "object", "properties": {"x": {"type": "integer"}}}]},
    },
    "required": ["label"],
}  # fmt: skip


def test_argument_synthesis(emu: TirEmulator, client: httpx.Client) -> None:
    function = {"name": "store", "description": "Store.", "parameters": SCHEMA}
    tool = {"type": "function", "function": function}
    text = "Store 'alpha' with 7 and 0.5 and 'beta' and -3"
    body = post(client, emu, text, tools=[tool], tool_choice="required").json()
    assert json.loads(only_call(body)["arguments"]) == {
        "label": "alpha", "count": 7, "ratio": 0.5, "fallback": -3,
        "inner": {"when": "beta", "ok": True, "tags": [], "size": "small", "nothing": None},
        "maybe": "Store", "fixed": "v1", "mixed": 0, "both": {"x": 0},
    }  # fmt: skip
    body = post(client, emu, "Store it, large", tools=[tool], tool_choice="required")
    arguments = json.loads(only_call(body.json())["arguments"])
    assert arguments["inner"]["size"] == "large"  # the enum value the prompt names
    body = post(client, emu, "Store it", tools=[tool], tool_choice="required").json()
    arguments = json.loads(only_call(body)["arguments"])
    assert arguments["inner"]["size"] == "small"  # else the first
    assert (arguments["label"], arguments["count"], arguments["fallback"]) == (
        "Store it",
        0,
        11,
    )
    assert arguments["inner"]["when"] == "2025-01-01"  # a format's sample value
    bare = {"type": "function", "function": {"name": "ping", "description": "Ping."}}
    for params in ({}, {"type": "object"}, {"type": "object", "properties": {}}):
        function = {"name": "ping", "description": "Ping.", "parameters": params}
        tool = {"type": "function", "function": function}
        body = post(client, emu, "Ping!", tools=[tool]).json()
        assert only_call(body)["arguments"] == "{}"
    assert (
        only_call(post(client, emu, "Ping!", tools=[bare]).json())["arguments"] == "{}"
    )


def test_scripted_tool_calls(emu: TirEmulator, client: httpx.Client) -> None:
    emu.responder = lambda _body: Reply(
        reasoning="Two at once.",
        content="Checking.",
        tool_calls=(ToolCall("a", '{"x":  1}'), ToolCall("b", "{not json")),
    )
    body = post(client, emu).json()
    choice = body["choices"][0]
    assert choice["message"]["content"] == "Checking."
    assert [c["function"] for c in choice["message"]["tool_calls"]] == [
        {"name": "a", "arguments": '{"x": 1}'},
        {"name": "b", "arguments": "{not json"},  # invalid JSON passes through
    ]
    assert choice["finish_reason"] == "tool_calls"
    events = stream_events(client, emu)
    assert [(c["name"], c["arguments"]) for c in merge_calls(events)] == [
        ("a", '{"x":  1}'),
        ("b", "{not json"),
    ]
    assert joined(events, "content") == "Checking."
    emu.tool_stream_quirks = True
    events = stream_events(client, emu)
    bumped = [
        e
        for e in events
        if e["choices"][0].get("stop_reason")
        and e["choices"][0]["finish_reason"] is None
    ]
    assert [t["index"] for t in bumped[0]["choices"][0]["delta"]["tool_calls"]] == [2]
    assert [(c["name"], c["arguments"]) for c in merge_calls(events)] == [
        ("a", '{"x":  1}'),
        ("b", "{not json"),
    ]


def test_tool_call_budget_and_chunking(emu: TirEmulator, client: httpx.Client) -> None:
    full = post(client, emu, ASK_WEATHER, tools=[WEATHER]).json()
    used = full["usage"]["completion_tokens"]
    cut = {"tools": [WEATHER], "max_tokens": used - 2}
    # A call cut short is not parsed: its partial text surfaces as content,
    # except in 0.11.0-0.14, whose tool parser keeps complete messages only.
    for release, content in (("0.13.0", None), ("0.20.1", '{"location":"Zürich')):
        emu.vllm = release
        choice = post(client, emu, ASK_WEATHER, **cut).json()["choices"][0]
        assert choice["message"]["tool_calls"] == []
        assert choice["message"]["content"] == content
        assert choice["finish_reason"] == "length"
    emu.vllm = "0.13.0"
    body = post(client, emu, ASK_WEATHER, tools=[WEATHER], logprobs=True).json()
    entries = body["choices"][0]["logprobs"]["content"]
    assert len(entries) == used
    assert "".join(e["token"] for e in entries).endswith(
        '<|message|>{"location":"Zürich"}<|call|>'
    )
    # Three tokens a step, on a release that loses nothing doing so.
    emu.vllm, emu.tokens_per_chunk = "0.33.0", 3
    events = stream_events(client, emu, ASK_WEATHER, tools=[WEATHER], n=2)
    calls = [
        merge_calls([e for e in events if e["choices"][0]["index"] == i])[0]
        for i in (0, 1)
    ]
    assert calls[0]["arguments"] == calls[1]["arguments"] == '{"location":"Zürich"}'
    assert calls[0]["id"] != calls[1]["id"]
    fragments = [e for e in events if "tool_calls" in e["choices"][0]["delta"]]
    arguments = split('{"location":"Zürich"}')
    # Per choice: one delta per step holding argument text (the opener's step
    # carries the first fragment from 0.26), the `<|call|>` step's on the finish.
    steps = -(-(len(arguments) + 1) // 3)
    assert len(fragments) == 2 * steps
