"""One helper set for the raw wire: requests, SSE payloads, answers' parts."""

from __future__ import annotations

import json
import re
import ssl
from typing import Any

import httpx

from langchain_gptoss.testing import TirEmulator

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


def payloads(text: str) -> list[str]:
    """Split an SSE body into its data payloads (comments skipped)."""
    found = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        for line in block.split("\n"):
            if line and not line.startswith(":"):
                assert line.startswith("data: "), line
                found.append(line[len("data: ") :])
    return found


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


def post(
    client: httpx.Client, emu: TirEmulator, *messages: str | dict[str, Any], **body: Any
) -> httpx.Response:
    """A chat request with `messages` (a str is a user message), else `USER`."""
    sent = [
        {"role": "user", "content": m} if isinstance(m, str) else m for m in messages
    ]
    return client.post(emu.chat_url, json={"messages": sent or [USER], **body})


def stream_events(
    client: httpx.Client, emu: TirEmulator, *messages: str | dict[str, Any], **body: Any
) -> list[Any]:
    """A streamed request's events, checked to be well-framed SSE up to [DONE]."""
    reply = post(client, emu, *messages, stream=True, **body)
    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("text/event-stream")
    assert reply.headers["transfer-encoding"] == "chunked"
    data = payloads(reply.text)
    assert data[-1] == "[DONE]"
    return [json.loads(item) for item in data[:-1]]
