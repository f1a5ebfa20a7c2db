"""Streamed answers: SSE framing of chunks, reasoning eras, usage chunks."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from langchain_gptoss.testing import TirEmulator
from tests.integration_tests.emulator.wire import (
    UUID_ID,
    error_of,
    joined,
    post,
    stream_events,
)


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
