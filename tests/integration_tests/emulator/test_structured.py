"""Structured output: json_schema and json_object answers, and their checks."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from langchain_gptoss.testing import TirEmulator
from tests.integration_tests.emulator.wire import (
    WEATHER,
    error_of,
    joined,
    post,
    stream_events,
)

JOKE = {
    "name": "Joke",
    "schema": {
        "type": "object",
        "title": "Joke",
        "properties": {
            "setup": {"type": "string", "description": "question to set up a joke"},
            "punchline": {"anyOf": [{"type": "string"}, {"type": "null"}],
                          "description": "answer to resolve the joke"},
        },
        "required": ["setup"],
    },
    "strict": True,
}  # fmt: skip


def test_json_schema_output(emu: TirEmulator, client: httpx.Client) -> None:
    form = {"type": "json_schema", "json_schema": JOKE}
    text = "Tell me a joke about cats."
    body = post(client, emu, text, response_format=form).json()
    message = body["choices"][0]["message"]
    assert json.loads(message["content"]) == {
        "setup": "Question to set up a joke about cats.",
        "punchline": "Answer to resolve the joke about cats.",
    }
    assert message["reasoning"] == "The reply must be JSON matching Joke."
    assert body["choices"][0]["finish_reason"] == "stop"
    events = stream_events(
        client, emu, {"role": "user", "content": text}, response_format=form
    )
    contents = [
        e["choices"][0]["delta"]["content"]
        for e in events
        if e["choices"][0]["delta"].get("content")
    ]
    assert len(contents) > 10
    assert "".join(contents) == message["content"]
    quoted = post(
        client, emu, "A joke with setup 'Knock knock' please", response_format=form
    ).json()
    assert (
        json.loads(quoted["choices"][0]["message"]["content"])["setup"] == "Knock knock"
    )


def test_json_object_output(emu: TirEmulator, client: httpx.Client) -> None:
    form = {"type": "json_object"}
    text = ("Tell me a joke about cats. Return the result as a JSON with 'setup' and "
            "'punchline' keys. Return nothing other than JSON.")  # fmt: skip
    content = post(client, emu, text, response_format=form).json()["choices"][0][
        "message"
    ]["content"]
    assert json.loads(content) == {
        "setup": "Setup about cats.",
        "punchline": "Punchline about cats.",
    }
    content = post(client, emu, "Hi", response_format=form).json()["choices"][0][
        "message"
    ]["content"]
    assert json.loads(content) == {"answer": "You said: Hi"}
    events = stream_events(
        client, emu, {"role": "user", "content": "Hi"}, response_format=form
    )
    assert json.loads(joined(events, "content")) == {"answer": "You said: Hi"}
    assert joined(events, "reasoning") == "The reply must be a single JSON object."
    text_form = post(client, emu, "Hi", response_format={"type": "text"}).json()
    assert text_form["choices"][0]["message"]["content"] == "You said: Hi"


def test_flaky_structured_output(emu: TirEmulator, client: httpx.Client) -> None:
    emu.flaky_structured_output = True
    for form in ({"type": "json_object"}, {"type": "json_schema", "json_schema": JOKE}):
        content = post(client, emu, "A joke about dogs", response_format=form).json()[
            "choices"
        ][0]["message"]["content"]
        assert content.startswith("{")
        with pytest.raises(json.JSONDecodeError):
            json.loads(content)


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        ({"tools": [{"function": {"name": "f"}}]}, "'type'"),
        ({"tools": [{"type": "retrieval", "function": {"name": "f"}}]}, "literal_error"),
        ({"tools": [{"type": "function"}]}, "'function'"),
        ({"tools": [{"type": "function", "function": {"description": "x"}}]}, "'name'"),
        ({"tools": [{"type": "function", "function": {"name": 3}}]}, "string_type"),
        ({"tools": [{"type": "function", "function": {"name": "f", "parameters": "x"}}]}, "parameters"),
        ({"tools": ["f"]}, "dict_type"),
        ({"tools": [WEATHER], "tool_choice": {"type": "function", "function": "get_weather"}}, "does not match"),
        ({"tools": [WEATHER], "tool_choice": {"type": "function", "function": {"name": "nope"}}}, "does not match"),
        ({"tools": [WEATHER], "tool_choice": "any"}, "Invalid value for `tool_choice`"),
        ({"response_format": {"type": "json_schema", "json_schema": {"name": "x"}}}, "'schema' object"),
        ({"response_format": {"type": "json_schema", "json_schema": {"schema": {}}}}, "'name'"),
        ({"response_format": {"type": "yaml"}}, "literal_error"),
        ({"response_format": "json"}, "dict_type"),
    ],
)  # fmt: skip
def test_tool_and_format_validation(
    emu: TirEmulator, client: httpx.Client, extra: dict[str, Any], needle: str
) -> None:
    reply = post(client, emu, **extra)
    assert reply.status_code == 400
    error = error_of(reply)
    assert error["type"] == "Bad Request"
    assert needle in error["message"]
