"""Request validation with vLLM's statuses, error types and messages."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from langchain_gptoss.testing import (
    TirEmulator,
)
from tests.integration_tests.emulator.wire import (
    USER,
    error_of,
    post,
)


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"messages": "hi"},
        {"messages": [{"content": "hi"}]},
        {"messages": [{"role": "user", "content": [
            {"type": "image_url", "image_url": {"url": "https://x/y.png"}}]}]},
        {"messages": [USER], "temperature": "hot"},
        {"messages": [USER], "top_p": [1]},
        {"messages": [USER], "presence_penalty": "lots"},
        {"messages": [USER], "max_tokens": "10"},
        {"messages": [USER], "max_completion_tokens": 1.5},
        {"messages": [USER], "n": 0},
        {"messages": [USER], "tool_choice": "auto"},
        {"messages": [USER, {"role": "assistant", "tool_calls": [
            {"id": "call_1", "function": {"name": "f", "arguments": "{}"}}]}]},
        {"messages": [USER, {"role": "assistant", "tool_calls": [
            {"type": "function", "function": {"name": "f", "arguments": "{}"}}]}]},
        {"messages": [USER, {"role": "tool", "content": "42"}]},
    ],
)  # fmt: skip
def test_validation_errors(
    emu: TirEmulator, client: httpx.Client, body: dict[str, Any]
) -> None:
    reply = client.post(emu.chat_url, json=body)
    assert reply.status_code == 400
    error = error_of(reply)
    assert (error["type"], error["param"]) == ("Bad Request", None)


def test_what_vllm_does_not_validate(emu: TirEmulator, client: httpx.Client) -> None:
    """vllm-golden `empty_messages`, `custom_role`, `max_tokens_zero` (0.13.0)."""
    assert client.post(emu.chat_url, json={"messages": []}).status_code == 200
    no_content = {"messages": [{"role": "user"}]}
    assert client.post(emu.chat_url, json=no_content).status_code == 200
    wizard = {"messages": [{"role": "wizard", "content": "hi"}]}
    error = error_of(client.post(emu.chat_url, json=wizard))
    assert error["type"] == "BadRequestError"
    assert error["message"].startswith("1 validation error for Author\nrole\n")
    # Object arguments: refused while the prompt is built up to 0.16.
    call = {"id": "call_1", "type": "function",
            "function": {"name": "f", "arguments": {"a": 1}}}  # fmt: skip
    history = [USER, {"role": "assistant", "content": None, "tool_calls": [call]}]
    error = error_of(client.post(emu.chat_url, json={"messages": history}))
    assert error["type"] == "BadRequestError"
    assert error["message"].startswith("3 validation errors for ValidatorIterator\n")
    emu.vllm = "0.20.1"
    error = error_of(client.post(emu.chat_url, json={"messages": history}))
    assert error["type"] == "Bad Request"
    emu.vllm = "0.13.0"
    zero = client.post(emu.chat_url, json={"messages": [USER], "max_tokens": 0})
    assert error_of(zero) == {
        "message": "max_tokens must be at least 1, got 0.",
        "type": "BadRequestError",
        "param": None,
        "code": 400,
    }


def test_invalid_json(emu: TirEmulator, client: httpx.Client) -> None:
    reply = client.post(
        emu.chat_url, content=b"{not json", headers={"content-type": "application/json"}
    )
    assert reply.status_code == 400
    assert error_of(reply)["type"] == "Bad Request"
    assert emu.requests[-1].body is None


def test_valid_tool_loop_and_unknown_fields_are_accepted(
    emu: TirEmulator, client: httpx.Client
) -> None:
    # A description: vLLM <= 0.23 (0.13.0 by default) refuses a tool without one.
    function = {"name": "get_weather", "description": "Weather.", "parameters": {}}
    tools = [{"type": "function", "function": function}]
    messages = [
        {"role": "system", "content": "Be terse."},
        {"role": "developer", "content": [{"type": "text", "text": "No lists."}]},
        USER,
        {"role": "assistant", "content": None, "reasoning": "Call it.", "reasoning_content": "Call it.",
         "tool_calls": [{"id": "chatcmpl-tool-1", "type": "function",
                         "function": {"name": "get_weather", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "chatcmpl-tool-1", "name": "get_weather", "content": "sunny"},
    ]  # fmt: skip
    reply = client.post(
        emu.chat_url,
        json={"messages": messages, "tools": tools, "tool_choice": "auto", "frobnicate": 1,
              "seed": 7, "top_k": 5, "user": "me", "temperature": 0.5, "top_p": 1},
    )  # fmt: skip
    assert reply.status_code == 200
    assert (
        reply.json()["choices"][0]["message"]["content"]
        == "Based on get_weather: sunny."
    )


def test_sampling_ranges(emu: TirEmulator, client: httpx.Client) -> None:
    reply = post(client, emu, top_p=1.5)
    assert reply.status_code == 400
    assert error_of(reply) == {
        "message": "top_p must be in (0, 1], got 1.5.", "type": "BadRequestError", "param": None, "code": 400,
    }  # fmt: skip


def test_context_overflow(emu: TirEmulator, client: httpx.Client) -> None:
    """A budget beyond the context is clamped; only the prompt alone is refused."""
    emu.context_window = 300
    prompt = post(client, emu).json()["usage"]["prompt_tokens"]
    assert post(client, emu, max_tokens=300 - prompt).status_code == 200
    # vllm-golden errors/X.json `prompt_plus_max_tokens_over`: served, clamped.
    assert post(client, emu, max_tokens=301 - prompt).status_code == 200
    assert post(client, emu, max_tokens=10**6).status_code == 200
    long = {"role": "user", "content": "word " * 400}
    reply = client.post(emu.chat_url, json={"messages": [long]})
    assert reply.status_code == 400
    error = error_of(reply)
    assert error["type"] == "BadRequestError"
    assert error["param"] is None
    assert error["message"].startswith("max_tokens must be at least 1, got -")
    emu.vllm = "0.20.1"
    reply = client.post(emu.chat_url, json={"messages": [long]})
    assert error_of(reply)["message"].startswith("Input length (")
    assert error_of(reply)["message"].endswith(
        "exceeds model's maximum context length (300)."
    )
