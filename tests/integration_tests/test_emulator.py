"""The TIR emulator over real loopback sockets, driven by raw httpx only."""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import re
import signal
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from langchain_gptoss.testing import (
    Fault,
    RecordedRequest,
    Reply,
    TirEmulator,
    ToolCall,
    _vllm,
)
from langchain_gptoss.testing._harmony_tokens import harmony_tokens, messages, split

USER = {"role": "user", "content": "What is the capital of France?"}
UUID_ID = re.compile(
    r"chatcmpl-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}"
)
# Building a TLS context costs ~50 ms per httpx client; share one (all traffic is HTTP).
TLS = ssl.create_default_context()
HARMONY = "Unexpected token 200002 while expecting start token 200006"
TOP_KEYS = [
    "id", "object", "created", "model", "choices", "service_tier", "system_fingerprint",
    "usage", "prompt_logprobs", "prompt_token_ids", "kv_transfer_params",
]  # fmt: skip
BASE_MESSAGE_KEYS = [
    "role", "content", "refusal", "annotations", "audio", "function_call", "tool_calls",
]  # fmt: skip
ERA_KEYS = {
    "reasoning_content": ["reasoning_content"],
    "both": ["reasoning", "reasoning_content"],
    "reasoning": ["reasoning"],
}


@pytest.fixture
def emu(caplog: pytest.LogCaptureFixture) -> Iterator[TirEmulator]:
    with TirEmulator() as emulator:
        yield emulator
    # The server thread must never leak an exception into asyncio's error log.
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


@pytest.fixture
def client(emu: TirEmulator) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {emu.token}"}
    with httpx.Client(headers=headers, timeout=5, verify=TLS) as http:
        yield http


@pytest.fixture
def anon() -> Iterator[httpx.Client]:
    """A client without credentials (``verify=TLS`` skips building a TLS context)."""
    with httpx.Client(timeout=5, verify=TLS) as http:
        yield http


def post(client: httpx.Client, emu: TirEmulator, **body: Any) -> httpx.Response:
    return client.post(emu.chat_url, json={"messages": [USER], **body})


def payloads(text: str) -> list[str]:
    """Split an SSE body into its data payloads (comments skipped)."""
    found = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        for line in block.split("\n"):
            if line and not line.startswith(":"):
                assert line.startswith("data: "), line
                found.append(line[len("data: ") :])
    return found


def stream_events(client: httpx.Client, emu: TirEmulator, **body: Any) -> list[Any]:
    reply = post(client, emu, stream=True, **body)
    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("text/event-stream")
    assert reply.headers["transfer-encoding"] == "chunked"
    data = payloads(reply.text)
    assert data[-1] == "[DONE]"
    return [json.loads(item) for item in data[:-1]]


def joined(events: list[Any], key: str, index: int = 0) -> str:
    return "".join(
        choice["delta"].get(key) or ""
        for event in events
        for choice in event["choices"]
        if choice["index"] == index
    )


def error_of(reply: httpx.Response) -> dict[str, Any]:
    body = reply.json()
    assert list(body) == ["error"]
    assert list(body["error"]) == ["message", "type", "param", "code"]
    assert body["error"]["code"] == reply.status_code
    return body["error"]


# -- E2E gateway layer ------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": ""}, {"Authorization": "Bearer"},
     {"Authorization": "Bearer wrong"}, {"Authorization": "Basic test-token"}],
)  # fmt: skip
@pytest.mark.parametrize("style", ["json", "message", "text"])
def test_auth_rejections(
    emu: TirEmulator, anon: httpx.Client, headers: dict[str, str], style: Any
) -> None:
    emu.gateway_error_style = style
    reply = anon.post(emu.chat_url, headers=headers, json={"messages": [USER]})
    assert reply.status_code == 401
    if style == "json":
        assert error_of(reply)["type"] == "Unauthorized"
    elif style == "message":
        assert reply.json() == {"message": "Unauthorized: invalid or expired token"}
    else:
        assert reply.headers["content-type"].startswith("text/plain")
        assert reply.text.startswith("Unauthorized")


def test_auth_is_checked_before_the_path(emu: TirEmulator, anon: httpx.Client) -> None:
    reply = anon.get(f"{emu.base_url}/nowhere")
    assert reply.status_code == 401


@pytest.mark.parametrize(
    "path",
    ["/project/p-999/genai/gpt_oss_120b/v1/chat/completions",
     "/project/p-12345/genai/llama_3_3_70b/v1/chat/completions",
     "/project/12345/genai/gpt_oss_120b/v1/chat/completions",
     "/project/p-12345/genai/gpt_oss_120b/v1/models", "/"],
)  # fmt: skip
def test_unknown_paths_are_404(
    emu: TirEmulator, client: httpx.Client, path: str
) -> None:
    reply = client.post(emu.base_url + path, json={"messages": [USER]})
    assert reply.status_code == 404
    assert "message" in reply.json()


def test_wrong_method_is_405(emu: TirEmulator, client: httpx.Client) -> None:
    reply = client.get(emu.chat_url)
    assert reply.status_code == 405
    assert reply.headers["allow"] == "POST"


def test_model_check(emu: TirEmulator, client: httpx.Client) -> None:
    reply = post(client, emu, model="gpt-oss-120b")
    assert reply.status_code == 404
    assert reply.json() == {
        "error": {
            "message": "The model `gpt-oss-120b` does not exist.",
            "type": "NotFoundError",
            "param": None,
            "code": 404,
        }
    }
    assert post(client, emu, model="gpt_oss_120b").status_code == 200
    assert post(client, emu).status_code == 200


@pytest.mark.parametrize(
    ("strict", "query", "status"),
    [(False, "", 200), (True, "", 400), (False, "?project_id=12345", 200),
     (True, "?project_id=12345", 200), (False, "?project_id=1", 400),
     (False, "?project_id=abc", 400), (True, "?project_id=", 400)],
)  # fmt: skip
def test_project_id_query(
    emu: TirEmulator, client: httpx.Client, strict: bool, query: str, status: int
) -> None:
    emu.require_project_query = strict
    reply = client.post(emu.chat_url + query, json={"messages": [USER]})
    assert reply.status_code == status
    if status == 400:
        assert "project_id" in reply.json()["message"]


# -- non-streaming answers -----------------------------------------------------------


@pytest.mark.parametrize("era", ["reasoning_content", "both", "reasoning"])
def test_non_stream_shape_per_era(
    emu: TirEmulator, client: httpx.Client, era: Any
) -> None:
    emu.reasoning_field = era
    reply = post(client, emu, model="gpt_oss_120b")
    assert reply.status_code == 200
    assert reply.headers["content-type"] == "application/json"
    body = reply.json()
    assert list(body) == TOP_KEYS
    assert UUID_ID.fullmatch(body["id"])
    assert reply.headers["x-request-id"] == body["id"]
    assert body["object"] == "chat.completion"
    assert isinstance(body["created"], int)
    assert body["model"] == "gpt_oss_120b"
    assert all(body[key] is None for key in TOP_KEYS[5:] if key != "usage")
    (choice,) = body["choices"]
    assert list(choice) == [
        "index",
        "message",
        "logprobs",
        "finish_reason",
        "stop_reason",
        "token_ids",
    ]
    assert (choice["finish_reason"], choice["stop_reason"], choice["logprobs"]) == (
        "stop",
        None,
        None,
    )
    message = choice["message"]
    assert list(message) == BASE_MESSAGE_KEYS + ERA_KEYS[era]
    assert message["content"] == "You said: What is the capital of France?"
    assert message["tool_calls"] == []
    reasoning = {message[key] for key in ERA_KEYS[era]}
    assert len(reasoning) == 1
    text = reasoning.pop()
    assert text
    assert "you" not in text.lower()
    assert "France" not in text
    usage = body["usage"]
    assert list(usage) == [
        "prompt_tokens",
        "total_tokens",
        "completion_tokens",
        "prompt_tokens_details",
    ]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    assert usage["prompt_tokens_details"] is None


def test_answers_are_deterministic(emu: TirEmulator, client: httpx.Client) -> None:
    first, second = post(client, emu).json(), post(client, emu).json()
    assert first["choices"] == second["choices"]
    assert first["usage"] == second["usage"]
    assert first["id"] != second["id"]


def test_token_ids_key_off(emu: TirEmulator, client: httpx.Client) -> None:
    emu.token_ids_key = False
    body = post(client, emu).json()
    assert "token_ids" not in body["choices"][0]
    assert "prompt_token_ids" not in body
    events = stream_events(client, emu)
    assert all("token_ids" not in e["choices"][0] for e in events)


def test_include_reasoning_false(emu: TirEmulator, client: httpx.Client) -> None:
    shown = post(client, emu).json()
    hidden = post(client, emu, include_reasoning=False).json()
    message = hidden["choices"][0]["message"]
    assert message["reasoning"] is None
    assert message["reasoning_content"] is None
    assert message["content"] == shown["choices"][0]["message"]["content"]
    assert hidden["usage"] == shown["usage"]  # still generated and billed
    events = stream_events(client, emu, include_reasoning=False)
    assert joined(events, "reasoning") == joined(events, "reasoning_content") == ""
    assert all("reasoning" not in e["choices"][0]["delta"] for e in events)
    assert joined(events, "content") == message["content"]


def test_reasoning_effort(emu: TirEmulator, client: httpx.Client) -> None:
    lengths = [
        len(
            post(client, emu, reasoning_effort=e).json()["choices"][0]["message"][
                "reasoning"
            ]
        )
        for e in ("low", "medium", "high")
    ]
    assert lengths[0] < lengths[1] < lengths[2]
    reply = post(client, emu, reasoning_effort="extreme")
    assert reply.status_code == 400
    assert error_of(reply)["type"] == "Bad Request"


def reasoning_tokens(client: httpx.Client, emu: TirEmulator) -> int:
    """Tokens generated before the answer's text: reasoning and both headers."""
    body = post(client, emu, include_reasoning=False, max_tokens=10_000).json()
    full = post(client, emu).json()
    content = full["choices"][0]["message"]["content"]
    assert body["usage"] == full["usage"]
    # The answer's text tokens, then `<|return|>`.
    return full["usage"]["completion_tokens"] - len(split(content)) - 1


@pytest.mark.parametrize("stream", [False, True])
def test_truncated_during_reasoning(
    emu: TirEmulator, client: httpx.Client, stream: bool
) -> None:
    full = post(client, emu).json()["choices"][0]["message"]["reasoning"]
    # max_completion_tokens wins over max_tokens.
    # `<|channel|>analysis<|message|>` is three of the six tokens.
    body = {"max_tokens": 500, "max_completion_tokens": 6}
    if not stream:
        reply = post(client, emu, **body).json()
        choice = reply["choices"][0]
        assert choice["message"]["content"] is None
        assert choice["finish_reason"] == "length"
        partial = choice["message"]["reasoning"]
        assert reply["usage"]["completion_tokens"] == 6
    else:
        events = stream_events(
            client, emu, **body, stream_options={"include_usage": True}
        )
        assert all("content" not in e["choices"][0]["delta"] for e in events[1:-1])
        assert events[-2]["choices"][0]["finish_reason"] == "length"
        assert events[-1]["usage"]["completion_tokens"] == 6
        partial = joined(events, "reasoning")
    assert partial == "The request is"
    assert full.startswith(partial)


@pytest.mark.parametrize("stream", [False, True])
def test_truncated_during_content(
    emu: TirEmulator, client: httpx.Client, stream: bool
) -> None:
    used = reasoning_tokens(client, emu)
    if not stream:
        choice = post(client, emu, max_tokens=used + 2).json()["choices"][0]
        content, finish = choice["message"]["content"], choice["finish_reason"]
    else:
        events = stream_events(client, emu, max_tokens=used + 2)
        content, finish = (
            joined(events, "content"),
            events[-1]["choices"][0]["finish_reason"],
        )
    # 0.11.0-0.14 leave an answer cut by max_tokens out of the body, not the
    # stream (vllm-golden responses/0.13.0 `length_cut_in_answer`).
    dropped = not stream and emu.profile.cut_answer_dropped
    assert (content, finish) == (None if dropped else "You said", "length")


def test_budget_ending_with_reasoning_gives_null_content(
    emu: TirEmulator, client: httpx.Client
) -> None:
    used = reasoning_tokens(client, emu)
    choice = post(client, emu, max_tokens=used).json()["choices"][0]
    assert choice["message"]["content"] is None
    assert choice["finish_reason"] == "length"


@pytest.mark.parametrize("stream", [False, True])
def test_stop_strings(emu: TirEmulator, client: httpx.Client, stream: bool) -> None:
    def run(stop: Any) -> tuple[str | None, str | None, str, Any]:
        if not stream:
            choice = post(client, emu, stop=stop).json()["choices"][0]
            message = choice["message"]
            return (
                message["reasoning"],
                message["content"],
                choice["finish_reason"],
                choice["stop_reason"],
            )
        events = stream_events(client, emu, stop=stop)
        final = events[-1]["choices"][0]
        has_content = any("content" in e["choices"][0]["delta"] for e in events[1:])
        content = joined(events, "content") if has_content else None
        return (
            joined(events, "reasoning"),
            content,
            final["finish_reason"],
            final["stop_reason"],
        )

    reasoning, content, finish, reason = run("capital")
    assert (content, finish, reason) == ("You said: What is the ", "stop", "capital")
    assert reasoning
    reasoning, content, finish, reason = run(["zzz", "brief"])
    assert (reasoning, content, finish, reason) == (
        "The request is clear, so a ",
        None,
        "stop",
        "brief",
    )
    assert run("not-there")[2:] == ("stop", None)


# -- streaming -----------------------------------------------------------------------


@pytest.mark.parametrize("era", ["reasoning_content", "both", "reasoning"])
def test_stream_shape_per_era(emu: TirEmulator, client: httpx.Client, era: Any) -> None:
    emu.reasoning_field = era
    expected = post(client, emu).json()["choices"][0]["message"]
    events = stream_events(client, emu, stream_options={"include_usage": True})
    ids = {(e["id"], e["created"], e["model"], e["object"]) for e in events}
    assert len(ids) == 1
    assert UUID_ID.fullmatch(events[0]["id"])
    assert events[0]["object"] == "chat.completion.chunk"
    role = {"role": "assistant", "content": ""}
    if era == "both":
        role["reasoning_content"] = None
    assert events[0]["choices"] == [
        {"index": 0, "delta": role, "logprobs": None, "finish_reason": None}
    ]
    name = "reasoning_content" if era == "reasoning_content" else "reasoning"
    empty_reasoning = (
        {"reasoning": "", "reasoning_content": ""} if era == "both" else {name: ""}
    )
    assert events[1]["choices"][0]["delta"] == empty_reasoning
    first = events[2]["choices"][0]
    assert list(first) == ["index", "delta", "logprobs", "finish_reason", "token_ids"]
    assert first["delta"] == (
        {"reasoning": "The", "reasoning_content": "The"}
        if era == "both"
        else {name: "The"}
    )
    deltas = [e["choices"][0]["delta"] for e in events[:-1]]
    content_deltas = [delta for delta in deltas if "content" in delta][1:]
    mirror = {"reasoning_content": None} if era == "both" else {}
    assert content_deltas[0] == {"content": "", **mirror}
    assert content_deltas[1] == {"content": "You", **mirror}
    assert joined(events, name) == expected[name]
    assert joined(events, "content") == expected["content"]
    final = events[-2]["choices"][0]
    assert final == {
        "index": 0, "delta": mirror, "logprobs": None, "finish_reason": "stop",
        "stop_reason": None, "token_ids": None,
    }  # fmt: skip
    usage = events[-1]
    assert usage["choices"] == []
    assert list(usage["usage"]) == [
        "prompt_tokens",
        "total_tokens",
        "completion_tokens",
    ]
    non_stream = post(client, emu).json()["usage"]
    assert usage["usage"] == {key: non_stream[key] for key in usage["usage"]}
    assert all("usage" not in e for e in events[:-1])
    # One chunk per text token (role, finish and usage aside); the two
    # `<|message|>` tokens send the empty deltas, and the other eight control
    # tokens (`<|channel|>analysis`, `<|end|><|start|>assistant<|channel|>final`,
    # `<|return|>`) are generated and billed but send nothing.
    tokens = len(events) - 3 + 8
    assert usage["usage"]["completion_tokens"] == tokens


def test_stream_without_usage_and_forced_usage(
    emu: TirEmulator, client: httpx.Client
) -> None:
    assert "usage" not in stream_events(client, emu)[-1]
    assert "usage" in stream_events(client, emu, stream_options={})[-1]
    assert (
        "usage"
        not in stream_events(client, emu, stream_options={"include_usage": False})[-1]
    )
    emu.force_include_usage = True
    assert stream_events(client, emu)[-1]["choices"] == []


def test_continuous_usage(emu: TirEmulator, client: httpx.Client) -> None:
    options = {"include_usage": True, "continuous_usage_stats": True}
    events = stream_events(client, emu, stream_options=options)
    counts = [e["usage"]["completion_tokens"] for e in events]
    assert counts[0] == 0
    assert counts == sorted(counts)
    assert counts[-1] == counts[-2] > 0
    assert all(
        e["usage"]["total_tokens"] == e["usage"]["prompt_tokens"] + c
        for e, c in zip(events, counts, strict=True)
    )


def test_tokens_per_chunk_coalesces(emu: TirEmulator, client: httpx.Client) -> None:
    # From 0.15 serving groups a step's tokens by channel: nothing is lost, and
    # a step long enough to span the switch to the answer carries both.
    emu.vllm = "0.20.1"
    reference = stream_events(client, emu)
    emu.tokens_per_chunk = 4
    events = stream_events(client, emu)
    assert len(events) < len(reference)
    assert joined(events, "reasoning") == joined(reference, "reasoning")
    assert joined(events, "content") == joined(reference, "content")
    emu.tokens_per_chunk = 12
    assert any(
        {"reasoning", "content"} <= set(e["choices"][0]["delta"])
        for e in stream_events(client, emu)
    )


def test_tokens_per_chunk_lose_text_up_to_0_14(
    emu: TirEmulator, client: httpx.Client
) -> None:
    # 0.11.1-0.14 classify a step by the channel at its end: the step holding
    # `<|end|>` or `<|return|>` loses its text (vllm-golden tool_streams/0.13.0).
    reference = stream_events(client, emu)
    emu.tokens_per_chunk = 3
    events = stream_events(client, emu)
    whole = joined(reference, "reasoning") + joined(reference, "content")
    kept = joined(events, "reasoning") + joined(events, "content")
    assert len(kept) < len(whole)


def test_stream_options_without_stream(emu: TirEmulator, client: httpx.Client) -> None:
    reply = post(client, emu, stream_options={"include_usage": True})
    assert reply.status_code == 400
    error = error_of(reply)
    assert error["type"] == "Bad Request"
    assert "Stream options can only be defined when `stream=True`." in error["message"]


# -- validation ----------------------------------------------------------------------


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


def test_n_choices(emu: TirEmulator, client: httpx.Client) -> None:
    body = post(client, emu, n=2).json()
    assert [c["index"] for c in body["choices"]] == [0, 1]
    contents = [c["message"]["content"] for c in body["choices"]]
    assert contents[0] != contents[1]
    events = stream_events(client, emu, n=2, stream_options={"include_usage": True})
    order = [e["choices"][0]["index"] for e in events[:-1]]
    assert all(len(e["choices"]) == 1 for e in events[:-1])
    assert order[:4] == [0, 1, 0, 1]
    assert [joined(events, "content", i) for i in (0, 1)] == contents
    assert (
        events[-1]["usage"]["completion_tokens"] == body["usage"]["completion_tokens"]
    )


def test_logprobs(emu: TirEmulator, client: httpx.Client) -> None:
    body = post(client, emu, logprobs=True, top_logprobs=2).json()
    message = body["choices"][0]["message"]
    entries = body["choices"][0]["logprobs"]["content"]
    # One entry per generated token, harmony's control tokens included.
    assert "".join(e["token"] for e in entries) == (
        f"<|channel|>analysis<|message|>{message['reasoning']}<|end|>"
        f"<|start|>assistant<|channel|>final<|message|>{message['content']}"
        "<|return|>"
    )
    assert len(entries) == body["usage"]["completion_tokens"]
    for entry in entries:
        assert list(entry) == ["token", "logprob", "bytes", "top_logprobs"]
        assert entry["logprob"] <= 0
        assert bytes(entry["bytes"]).decode() == entry["token"]
        assert len(entry["top_logprobs"]) == 2
        assert all(
            list(top) == ["token", "logprob", "bytes"] and top["logprob"] <= 0
            for top in entry["top_logprobs"]
        )
    events = stream_events(client, emu, logprobs=True, top_logprobs=2)
    streamed = [
        e
        for ev in events
        if ev["choices"][0]["logprobs"]
        for e in ev["choices"][0]["logprobs"]["content"]
    ]
    # A step that sends no delta sends no log-probabilities either (vLLM <= 0.32):
    # the header tokens are missing from the stream, the rest is the same.
    silent = {"<|channel|>", "analysis", "<|end|>", "<|start|>", "assistant", "final"}
    assert streamed == [e for e in entries if e["token"] not in silent]
    assert (
        post(client, emu, logprobs=True).json()["choices"][0]["logprobs"]["content"][0][
            "top_logprobs"
        ]
        == []
    )


def test_responder_scripts_the_answer(emu: TirEmulator, client: httpx.Client) -> None:
    seen: list[dict[str, Any]] = []

    def respond(body: dict[str, Any]) -> Reply:
        seen.append(body)
        return Reply(reasoning="Think.", content=None)

    emu.responder = respond
    message = post(client, emu).json()["choices"][0]["message"]
    assert (message["reasoning"], message["content"]) == ("Think.", None)
    assert seen[0]["messages"] == [USER]
    emu.responder = lambda _body: Reply(reasoning="", content="ünïcødé 🙂")
    events = stream_events(client, emu)
    assert joined(events, "content") == "ünïcødé 🙂"
    assert not any("reasoning" in e["choices"][0]["delta"] for e in events)

    def broken(body: dict[str, Any]) -> Reply:
        raise RuntimeError("boom")

    emu.responder = broken
    reply = post(client, emu)
    assert reply.status_code == 500
    assert "boom" in error_of(reply)["message"]


# -- faults --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "content_type", "check"),
    [
        (Fault(status=429, headers={"Retry-After": "0"}), "application/json",
         lambda r: r.json() == {"message": "Too Many Requests: rate limit exceeded, retry later"}
         and r.headers["retry-after"] == "0"),
        (Fault(status=401), "application/json", lambda r: "Unauthorized" in r.json()["message"]),
        (Fault(status=403), "application/json", lambda r: "Forbidden" in r.json()["message"]),
        (Fault(status=500), "application/json",
         lambda r: r.json()["error"] == {"message": HARMONY, "type": "Internal Server Error", "param": None, "code": 500}),
        (Fault(status=400), "application/json", lambda r: r.json()["error"]["type"] == "BadRequestError"),
        (Fault(status=404), "application/json", lambda r: r.json()["error"]["type"] == "NotFoundError"),
        (Fault(status=502), "text/html", lambda r: "<h1>502 Bad Gateway</h1>" in r.text),
        (Fault(status=503), "text/html", lambda r: "503 Service Unavailable" in r.text),
        (Fault(status=504), "text/html", lambda r: "504 Gateway Time-out" in r.text or "504 Gateway Timeout" in r.text),
        (Fault(status=503, body_kind="text"), "text/plain", lambda r: r.text == "Service Unavailable"),
        (Fault(status=429, body_kind="vllm"), "application/json", lambda r: r.json()["error"]["code"] == 429),
        (Fault(status=502, body_kind="message"), "application/json", lambda r: r.json() == {"message": "Bad Gateway"}),
        (Fault(status=500, body="upstream exploded"), "text/plain", lambda r: r.text == "upstream exploded"),
        (Fault(body=b'{"weird": true}'), "application/json", lambda r: r.status_code == 200 and r.json() == {"weird": True}),
    ],
)  # fmt: skip
def test_status_faults(
    emu: TirEmulator, client: httpx.Client, fault: Fault, content_type: str, check: Any
) -> None:
    emu.inject(fault)
    reply = post(client, emu)
    assert reply.status_code == (fault.status or 200)
    assert reply.headers["content-type"].startswith(content_type)
    assert check(reply)
    assert post(client, emu).status_code == 200  # one fault per request


def test_faults_are_fifo_and_clearable(emu: TirEmulator, client: httpx.Client) -> None:
    emu.inject(Fault(status=503), Fault(status=429))
    assert [post(client, emu).status_code for _ in range(3)] == [503, 429, 200]
    emu.inject(Fault(status=503))
    emu.clear()
    assert post(client, emu).status_code == 200
    assert len(emu.requests) == 1


def test_fault_not_consumed_by_rejected_auth(
    emu: TirEmulator, client: httpx.Client, anon: httpx.Client
) -> None:
    emu.inject(Fault(status=503))
    assert anon.post(emu.chat_url, json={"messages": [USER]}).status_code == 401
    assert post(client, emu).status_code == 503


def test_drop_mid_stream(emu: TirEmulator, client: httpx.Client) -> None:
    emu.inject(Fault(drop_after_events=5))
    received: list[str] = []

    def consume() -> None:
        body = {"messages": [USER], "stream": True}
        with client.stream("POST", emu.chat_url, json=body) as reply:
            assert reply.status_code == 200
            received.extend(line for line in reply.iter_lines() if line)

    with pytest.raises(httpx.RemoteProtocolError):
        consume()
    assert len(received) == 5
    assert "[DONE]" not in received[-1]
    assert post(client, emu).status_code == 200


def test_drop_non_stream(emu: TirEmulator, client: httpx.Client) -> None:
    emu.inject(Fault(drop_after_events=0))
    with pytest.raises(httpx.RemoteProtocolError):
        post(client, emu)
    emu.inject(Fault(drop_after_events=10))
    with pytest.raises(httpx.RemoteProtocolError):
        post(client, emu)
    assert post(client, emu).status_code == 200


def test_error_event(emu: TirEmulator, client: httpx.Client) -> None:
    emu.inject(Fault(error_event_after=3))
    reply = post(client, emu, stream=True)
    data = payloads(reply.text)
    assert len(data) == 5
    assert data[3] == (
        '{"error": {"message": "Unexpected token 200002 while expecting start token 200006", '
        '"type": "BadRequestError", "param": null, "code": 400}}'
    )
    assert data[4] == "[DONE]"


def test_a_bug_mid_stream_still_ends_like_vllm(
    emu: TirEmulator, client: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Events are made while the body is written, so a rendering bug can only
    # surface after the 200: it ends the stream with vLLM's error event.
    def broken(*args: Any, **kwargs: Any) -> Iterator[bytes]:
        yield b'{"id":"chatcmpl-1"}'
        message = "render bug"
        raise RuntimeError(message)

    monkeypatch.setattr(_vllm, "stream", broken)
    reply = post(client, emu, stream=True)
    assert reply.status_code == 200
    data = payloads(reply.text)
    assert data[0] == '{"id":"chatcmpl-1"}'
    assert json.loads(data[1])["error"]["message"] == "RuntimeError: render bug"
    assert data[2:] == ["[DONE]"]


def test_malformed_event(emu: TirEmulator, client: httpx.Client) -> None:
    normal = payloads(post(client, emu, stream=True).text)
    emu.inject(Fault(malformed_after=2))
    data = payloads(post(client, emu, stream=True).text)
    assert data[2] == '{"id": "chatcmpl-'
    assert len(data) == len(normal) + 1
    assert data[-1] == "[DONE]"


def test_stall_and_first_byte_delay(emu: TirEmulator, client: httpx.Client) -> None:
    emu.inject(Fault(stall_after=4, stall_seconds=0.3))
    stamps: list[float] = []
    with client.stream(
        "POST", emu.chat_url, json={"messages": [USER], "stream": True}
    ) as reply:
        stamps.extend(time.perf_counter() for line in reply.iter_lines() if line)
    gaps = [b - a for a, b in itertools.pairwise(stamps)]
    assert 0.25 < gaps[3] < 1.0
    assert max(gaps[:3] + gaps[4:]) < 0.2
    emu.inject(Fault(first_byte_delay=0.3))
    start = time.perf_counter()
    assert post(client, emu).status_code == 200
    assert 0.25 < time.perf_counter() - start < 1.0
    emu.inject(Fault(first_byte_delay=0.2))
    with pytest.raises(httpx.ReadTimeout):
        client.post(emu.chat_url, json={"messages": [USER]}, timeout=0.05)


def test_omit_done(emu: TirEmulator, client: httpx.Client) -> None:
    emu.inject(Fault(omit_done=True))
    data = payloads(post(client, emu, stream=True).text)
    assert data[-1] != "[DONE]"
    assert json.loads(data[-1])["choices"][0]["finish_reason"] == "stop"


# -- framing and connections ------------------------------------------------------------


def normalized(raw: bytes) -> list[Any]:
    events = []
    for item in payloads(raw.decode()):
        if item == "[DONE]":
            events.append(item)
            continue
        event = json.loads(item)
        event.pop("id")
        event.pop("created")
        events.append(event)
    return events


@pytest.mark.parametrize("knob", ["crlf", "keepalive_comments", "split_writes"])
def test_framing_knobs_keep_payloads(
    emu: TirEmulator, client: httpx.Client, knob: str
) -> None:
    body = {"messages": [{"role": "user", "content": "Grüße 🙂"}], "stream": True}
    plain = client.post(emu.chat_url, json=body).content
    setattr(emu, knob, True)
    pieces: list[bytes] = []
    with client.stream("POST", emu.chat_url, json=body) as reply:
        pieces.extend(reply.iter_raw())
    raw = b"".join(pieces)
    assert normalized(raw) == normalized(plain)
    events = len(normalized(plain))
    if knob == "crlf":
        assert raw.count(b"\r\n\r\n") == events
        assert b"\n\n" not in raw.replace(b"\r\n", b"")
    elif knob == "keepalive_comments":
        assert raw.count(b": keep-alive\n\n") == events - 1
    else:
        assert len(pieces) > 3 * events
        assert all(not p.startswith(b"data: ") for p in pieces)
        broken = 0
        for piece in pieces:
            try:
                piece.decode()
            except UnicodeDecodeError:
                broken += 1
        assert broken > 0


def test_keep_alive_reuses_one_connection(
    emu: TirEmulator, client: httpx.Client
) -> None:
    for _ in range(3):
        assert post(client, emu).status_code == 200
        assert payloads(post(client, emu, stream=True).text)[-1] == "[DONE]"
        assert emu.open_connections == 1
    assert emu.total_connections == 1
    client.close()
    wait_for(lambda: emu.open_connections == 0)


def test_abandoned_stream_frees_the_connection(emu: TirEmulator) -> None:
    emu.responder = lambda _body: Reply(reasoning="", content="word " * 20_000)
    headers = {"Authorization": f"Bearer {emu.token}"}
    with httpx.Client(headers=headers, verify=TLS) as http:
        body = {"messages": [USER], "stream": True}
        with http.stream("POST", emu.chat_url, json=body) as reply:
            lines = reply.iter_lines()
            assert next(lines).startswith("data: ")
    wait_for(lambda: emu.open_connections == 0)


def test_connection_close_is_honoured(emu: TirEmulator, anon: httpx.Client) -> None:
    headers = {"Authorization": f"Bearer {emu.token}", "Connection": "close"}
    reply = anon.post(emu.chat_url, headers=headers, json={"messages": [USER]})
    assert reply.headers["connection"] == "close"
    wait_for(lambda: emu.open_connections == 0)


def test_pipelined_requests_on_a_raw_socket(emu: TirEmulator) -> None:
    body = json.dumps({"messages": [USER]}).encode()
    path = emu.chat_url.removeprefix(emu.base_url)
    request = (
        f"POST {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {emu.token}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body
    chunked = (
        f"POST {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {emu.token}\r\n"
        "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    ).encode() + b"%x\r\n%b\r\n%x\r\n%b\r\n0\r\n\r\n" % (
        5,
        body[:5],
        len(body) - 5,
        body[5:],
    )
    with socket.create_connection(
        ("127.0.0.1", int(emu.base_url.rsplit(":", 1)[1])), timeout=5
    ) as sock:
        sock.sendall(request + chunked)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    assert received.count(b"HTTP/1.1 200 OK\r\n") == 2
    assert emu.total_connections == 1
    assert emu.requests[1].body == {"messages": [USER]}


def wait_for(condition: Any, timeout: float = 2.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.005)


async def test_concurrent_streams(emu: TirEmulator) -> None:
    # httpx's pool slows down sharply past a few dozen connections per client, so the
    # 200 simultaneous streams are spread over 10 clients of 20 connections each.
    total, per_client = 200, 20
    emu.inject(*[Fault(stall_after=2, stall_seconds=0.3)] * total)
    headers = {"Authorization": f"Bearer {emu.token}"}
    clients = [
        httpx.AsyncClient(
            headers=headers,
            limits=httpx.Limits(max_connections=per_client),
            timeout=10,
            verify=TLS,
        )
        for _ in range(total // per_client)
    ]
    peak = 0

    async def one(i: int) -> str:
        body = {
            "messages": [{"role": "user", "content": f"Request {i}"}],
            "stream": True,
        }
        async with clients[i % len(clients)].stream(
            "POST", emu.chat_url, json=body
        ) as reply:
            text = "".join([part async for part in reply.aiter_text()])
        data = payloads(text)
        assert data[-1] == "[DONE]"
        return "".join(
            json.loads(d)["choices"][0]["delta"].get("content") or "" for d in data[:-1]
        )

    async def watch() -> None:
        nonlocal peak
        while True:
            peak = max(peak, emu.open_connections)
            await asyncio.sleep(0.01)

    watcher = asyncio.create_task(watch())
    try:
        results = await asyncio.gather(*(one(i) for i in range(total)))
    finally:
        watcher.cancel()
        for http in clients:
            await http.aclose()
    assert results == [f"You said: Request {i}" for i in range(total)]
    assert peak == total
    assert len(emu.requests) == total


def test_stop_closes_open_connections() -> None:
    emulator = TirEmulator().start()
    url = emulator.chat_url
    with httpx.Client(
        headers={"Authorization": f"Bearer {emulator.token}"}, verify=TLS
    ) as http:
        assert http.post(url, json={"messages": [USER]}).status_code == 200
        assert emulator.open_connections == 1
        emulator.stop()
        assert emulator.open_connections == 0
        with pytest.raises(httpx.TransportError):
            http.post(url, json={"messages": [USER]})


def test_requests_are_recorded(
    emu: TirEmulator, client: httpx.Client, anon: httpx.Client
) -> None:
    anon.get(f"{emu.base_url}/anything?x=1")
    client.post(
        emu.chat_url + "?project_id=12345",
        json={"messages": [USER]},
        headers={"X-Trace": "abc"},
    )
    first, second = emu.requests
    assert isinstance(first, RecordedRequest)
    assert (first.method, first.path, first.query, first.body, first.raw) == (
        "GET",
        "/anything",
        {"x": "1"},
        None,
        b"",
    )
    assert second.method == "POST"
    assert second.path == emu.chat_url.removeprefix(emu.base_url)
    assert second.query == {"project_id": "12345"}
    assert second.headers["x-trace"] == "abc"
    assert second.headers["authorization"] == "Bearer test-token"
    assert second.body == {"messages": [USER]}
    assert json.loads(second.raw) == second.body


def test_urls_and_settings() -> None:
    emulator = TirEmulator(token="t", project_id=7, model="m")
    with pytest.raises(RuntimeError):
        _ = emulator.base_url
    with emulator:
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", emulator.base_url)
        assert emulator.openai_base_url == f"{emulator.base_url}/project/p-7/genai/m/v1"
        assert emulator.chat_url == f"{emulator.openai_base_url}/chat/completions"
        headers = {"Authorization": "Bearer t"}
        reply = httpx.post(
            emulator.chat_url, headers=headers, json={"messages": [USER]}, verify=TLS
        )
        assert reply.json()["model"] == "m"


@pytest.mark.parametrize(
    "sigint",
    [signal.SIG_DFL, signal.SIG_IGN],
    ids=["foreground", "background-job"],  # bash starts `cmd &` with SIGINT ignored
)
def test_command_line(sigint: signal.Handlers) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "langchain_gptoss.testing", "--port", str(port), "--token", "cli",
         "--project-id", "42", "--era", "reasoning", "--vllm", "0.20.1"],
        stdout=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, sigint),  # noqa: PLW1509
    )  # fmt: skip
    try:
        assert process.stdout is not None
        banner = [process.stdout.readline() for _ in range(6)]
        assert f"export E2E_TIR_BASE_URL=http://127.0.0.1:{port}\n" in banner
        assert "export E2E_TIR_ACCESS_TOKEN=cli\n" in banner
        assert "export E2E_TIR_PROJECT_ID=42\n" in banner
        url = f"http://127.0.0.1:{port}/project/p-42/genai/gpt_oss_120b/v1/chat/completions"
        headers = {"Authorization": "Bearer cli"}
        reply = httpx.post(url, headers=headers, json={"messages": [USER]}, verify=TLS)
        assert "reasoning_content" not in reply.json()["choices"][0]["message"]
        empty = {"messages": [USER], "tools": []}  # refused from 0.20
        assert (
            httpx.post(url, headers=headers, json=empty, verify=TLS).status_code == 400
        )
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=5) == 0


# -- tool calls --------------------------------------------------------------------------

TOOL_ID = re.compile(r"chatcmpl-tool-[0-9a-f]{16}")  # from 0.12.0; 0.13.0 default
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather at a location.",
        "parameters": {
            "type": "object",
            "properties": {"location": {"type": "string"}},
            "required": ["location"],
        },
    },
}
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


def ask(
    client: httpx.Client, emu: TirEmulator, text: str | dict[str, Any], **body: Any
) -> httpx.Response:
    message = {"role": "user", "content": text} if isinstance(text, str) else text
    return client.post(emu.chat_url, json={"messages": [message], **body})


def ask_events(
    client: httpx.Client, emu: TirEmulator, messages: list[Any], **body: Any
) -> list[Any]:
    reply = client.post(
        emu.chat_url, json={"messages": messages, "stream": True, **body}
    )
    assert reply.status_code == 200
    data = payloads(reply.text)
    assert data[-1] == "[DONE]"
    return [json.loads(item) for item in data[:-1]]


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
    plain = ask(client, emu, ASK_WEATHER).json()
    body = ask(client, emu, ASK_WEATHER, tools=[WEATHER]).json()
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
    events = ask_events(client, emu, [ASK_WEATHER], tools=[WEATHER], stream_options={})
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
    second = ask(client, emu, ASK_WEATHER, tools=[WEATHER]).json()
    ids = {second["choices"][0]["message"]["tool_calls"][0]["id"], streamed["id"]}
    assert len(ids | {body["choices"][0]["message"]["tool_calls"][0]["id"]}) == 3


@pytest.mark.parametrize("era", ["reasoning_content", "both", "reasoning"])
def test_tool_call_stream(emu: TirEmulator, client: httpx.Client, era: Any) -> None:
    emu.reasoning_field = era
    events = ask_events(
        client,
        emu,
        [ASK_WEATHER],
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
    plain = ask_events(client, emu, [ASK_WEATHER], tools=[WEATHER])
    emu.tool_stream_quirks = True
    events = ask_events(client, emu, [ASK_WEATHER], tools=[WEATHER])
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
    body = ask(client, emu, ASK_WEATHER, tools=[WEATHER]).json()
    message = body["choices"][0]["message"]
    assert message["content"] == '{"location":"Zürich"}'
    assert json.loads(only_call(body)["arguments"]) == json.loads(message["content"])
    # As vLLM 0.10.2's own stream (vllm-golden responses/0.10.2.json, tool_call):
    # the arguments travel in the tool-call deltas only.
    events = ask_events(client, emu, [ASK_WEATHER], tools=[WEATHER])
    assert joined(events, "content") == ""
    assert merge_calls(events)[0]["arguments"] == '{"location":"Zürich"}'


def test_tool_parser_off(emu: TirEmulator, client: httpx.Client) -> None:
    emu.tool_parser = False
    choice = ask(client, emu, ASK_WEATHER, tools=[WEATHER]).json()["choices"][0]
    assert choice["message"]["tool_calls"] == []
    assert choice["message"]["content"] == '{"location":"Zürich"}'
    assert (choice["finish_reason"], choice["stop_reason"]) == ("stop", 200012)
    assert choice["message"]["reasoning"]
    # Streams parse the call anyway up to 0.20 (vllm-golden responses/0.13.0
    # `server_without_tool_parser`).
    events = ask_events(client, emu, [ASK_WEATHER], tools=[WEATHER])
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
    assert call_name(ask(client, emu, hello, tools=tools).json()) is None
    assert (
        call_name(ask(client, emu, hello, tools=tools, tool_choice="auto").json())
        is None
    )
    assert (
        call_name(ask(client, emu, hello, tools=tools, tool_choice="required").json())
        == "add"
    )
    body = ask(client, emu, hello, tools=tools, tool_choice=named).json()
    assert call_name(body) == "get_weather"
    assert json.loads(only_call(body)["arguments"]) == {"location": "Hello there"}
    # "none" answers in prose, even when a tool fits.
    body = ask(client, emu, ASK_WEATHER, tools=tools, tool_choice="none").json()
    assert call_name(body) is None
    assert (
        body["choices"][0]["message"]["content"]
        == "You said: What is the weather in Zürich?"
    )
    assert body["choices"][0]["finish_reason"] == "stop"
    emu.legacy_tool_choice_none = True
    assert (
        call_name(ask(client, emu, ASK_WEATHER, tools=tools, tool_choice="none").json())
        == "get_weather"
    )
    assert (
        call_name(ask(client, emu, hello, tools=tools, tool_choice="none").json())
        is None
    )
    emu.ignore_required_tool_choice = True
    for choice in ("required", named):
        body = ask(client, emu, hello, tools=tools, tool_choice=choice).json()
        assert body["choices"][0]["message"]["tool_calls"] == []
        assert body["choices"][0]["finish_reason"] == "stop"
    assert (
        call_name(
            ask(
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
        call_name(ask(client, emu, text, tools=[WEATHER]).json()) is not None
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
    events = ask_events(
        client, emu, messages, tools=[WEATHER, ADD], reasoning_effort="low"
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
    body = ask(client, emu, text, tools=[tool], tool_choice="required").json()
    expected = {"name": "你好啊集团", "note": "Grüße 🙂 é", "city": "Zürich"}
    arguments = only_call(body)["arguments"]
    assert json.loads(arguments) == expected
    assert arguments.isascii()  # json.dumps escapes, as vLLM's parser does
    events = ask_events(
        client,
        emu,
        [{"role": "user", "content": text}],
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
    body = ask(client, emu, text, tools=[tool], tool_choice="required").json()
    assert json.loads(only_call(body)["arguments"]) == {
        "label": "alpha", "count": 7, "ratio": 0.5, "fallback": -3,
        "inner": {"when": "beta", "ok": True, "tags": [], "size": "small", "nothing": None},
        "maybe": "Store", "fixed": "v1", "mixed": 0, "both": {"x": 0},
    }  # fmt: skip
    body = ask(client, emu, "Store it, large", tools=[tool], tool_choice="required")
    arguments = json.loads(only_call(body.json())["arguments"])
    assert arguments["inner"]["size"] == "large"  # the enum value the prompt names
    body = ask(client, emu, "Store it", tools=[tool], tool_choice="required").json()
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
        body = ask(client, emu, "Ping!", tools=[tool]).json()
        assert only_call(body)["arguments"] == "{}"
    assert (
        only_call(ask(client, emu, "Ping!", tools=[bare]).json())["arguments"] == "{}"
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
    full = ask(client, emu, ASK_WEATHER, tools=[WEATHER]).json()
    used = full["usage"]["completion_tokens"]
    cut = {"tools": [WEATHER], "max_tokens": used - 2}
    # A call cut short is not parsed: its partial text surfaces as content,
    # except in 0.11.0-0.14, whose tool parser keeps complete messages only.
    for release, content in (("0.13.0", None), ("0.20.1", '{"location":"Zürich')):
        emu.vllm = release
        choice = ask(client, emu, ASK_WEATHER, **cut).json()["choices"][0]
        assert choice["message"]["tool_calls"] == []
        assert choice["message"]["content"] == content
        assert choice["finish_reason"] == "length"
    emu.vllm = "0.13.0"
    body = ask(client, emu, ASK_WEATHER, tools=[WEATHER], logprobs=True).json()
    entries = body["choices"][0]["logprobs"]["content"]
    assert len(entries) == used
    assert "".join(e["token"] for e in entries).endswith(
        '<|message|>{"location":"Zürich"}<|call|>'
    )
    # Three tokens a step, on a release that loses nothing doing so.
    emu.vllm, emu.tokens_per_chunk = "0.33.0", 3
    events = ask_events(client, emu, [ASK_WEATHER], tools=[WEATHER], n=2)
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


# -- structured output -------------------------------------------------------------------

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
    body = ask(client, emu, text, response_format=form).json()
    message = body["choices"][0]["message"]
    assert json.loads(message["content"]) == {
        "setup": "Question to set up a joke about cats.",
        "punchline": "Answer to resolve the joke about cats.",
    }
    assert message["reasoning"] == "The reply must be JSON matching Joke."
    assert body["choices"][0]["finish_reason"] == "stop"
    events = ask_events(
        client, emu, [{"role": "user", "content": text}], response_format=form
    )
    contents = [
        e["choices"][0]["delta"]["content"]
        for e in events
        if e["choices"][0]["delta"].get("content")
    ]
    assert len(contents) > 10
    assert "".join(contents) == message["content"]
    quoted = ask(
        client, emu, "A joke with setup 'Knock knock' please", response_format=form
    ).json()
    assert (
        json.loads(quoted["choices"][0]["message"]["content"])["setup"] == "Knock knock"
    )


def test_json_object_output(emu: TirEmulator, client: httpx.Client) -> None:
    form = {"type": "json_object"}
    text = ("Tell me a joke about cats. Return the result as a JSON with 'setup' and "
            "'punchline' keys. Return nothing other than JSON.")  # fmt: skip
    content = ask(client, emu, text, response_format=form).json()["choices"][0][
        "message"
    ]["content"]
    assert json.loads(content) == {
        "setup": "Setup about cats.",
        "punchline": "Punchline about cats.",
    }
    content = ask(client, emu, "Hi", response_format=form).json()["choices"][0][
        "message"
    ]["content"]
    assert json.loads(content) == {"answer": "You said: Hi"}
    events = ask_events(
        client, emu, [{"role": "user", "content": "Hi"}], response_format=form
    )
    assert json.loads(joined(events, "content")) == {"answer": "You said: Hi"}
    assert joined(events, "reasoning") == "The reply must be a single JSON object."
    text_form = ask(client, emu, "Hi", response_format={"type": "text"}).json()
    assert text_form["choices"][0]["message"]["content"] == "You said: Hi"


def test_flaky_structured_output(emu: TirEmulator, client: httpx.Client) -> None:
    emu.flaky_structured_output = True
    for form in ({"type": "json_object"}, {"type": "json_schema", "json_schema": JOKE}):
        content = ask(client, emu, "A joke about dogs", response_format=form).json()[
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


def test_also_serves_other_slugs() -> None:
    with TirEmulator(also_serves=("gpt_oss_20b",)) as emu:
        headers = {"Authorization": f"Bearer {emu.token}"}
        base = f"{emu.base_url}/project/p-{emu.project_id}/genai"
        with httpx.Client() as client:

            def post(slug: str, **model: str) -> httpx.Response:
                body = {"messages": [{"role": "user", "content": "hi"}], **model}
                url = f"{base}/{slug}/v1/chat/completions"
                return client.post(url, headers=headers, json=body)

            other = post("gpt_oss_20b", model="gpt_oss_20b")
            wrong_body = post("gpt_oss_20b", model="gpt_oss_120b")
            unknown = post("llama")
    assert other.status_code == 200
    assert other.json()["model"] == "gpt_oss_20b"
    assert wrong_body.status_code == 404
    assert wrong_body.json()["error"]["type"] == "NotFoundError"
    assert unknown.status_code == 404


def test_vllm_version_plays_the_release_over_http() -> None:
    """The release's own status and body on the wire (vllm-golden `tools_empty_list`)."""
    body = {"messages": [{"role": "user", "content": "Roll a die."}], "tools": []}
    with TirEmulator(vllm="0.33.0") as emu, httpx.Client(verify=TLS) as http:
        headers = {"Authorization": f"Bearer {emu.token}"}
        refused = http.post(emu.chat_url, headers=headers, json=body)
        emu.vllm = "0.16.0"
        served = http.post(emu.chat_url, headers=headers, json=body)
    assert refused.status_code == 400
    assert refused.json() == {
        "error": {
            "message": "`tools` must not be an empty array. Either provide at least "
            "one tool or omit the field entirely. (parameter=tools)",
            "type": "BadRequestError",
            "param": "tools",
            "code": 400,
        }
    }
    assert served.status_code == 200
    assert served.json()["choices"][0]["message"]["content"]
