"""vLLM-shaped responses and stream events, per reasoning-field era (protocol.md)."""

from __future__ import annotations

from typing import Any

ERAS = ("reasoning_content", "both", "reasoning")
RESPONSE_ID = "chatcmpl-82c7e2c5-a99c-4869-8068-49aa705812ba"
USAGE = {"prompt_tokens": 83, "total_tokens": 119, "completion_tokens": 36}


def reasoning_keys(era: str, text: str | None) -> dict[str, Any]:
    if era == "reasoning_content":
        return {"reasoning_content": text}
    if era == "both":
        return {"reasoning": text, "reasoning_content": text}
    return {"reasoning": text}


def completion(
    era: str,
    *,
    content: str | None = "Paris.",
    reasoning: str | None = "The user asks for the capital. Answer: Paris.",
    finish_reason: str = "stop",
    usage: dict[str, Any] | None = None,
    logprobs: Any = None,
) -> dict[str, Any]:
    message = {
        "role": "assistant",
        "content": content,
        "refusal": None,
        "annotations": None,
        "audio": None,
        "function_call": None,
        "tool_calls": [],
        **reasoning_keys(era, reasoning),
    }
    return {
        "id": RESPONSE_ID,
        "object": "chat.completion",
        "created": 1770614085,
        "model": "gpt_oss_120b",
        "choices": [
            {
                "index": 0,
                "message": message,
                "logprobs": logprobs,
                "finish_reason": finish_reason,
                "stop_reason": None,
                "token_ids": None,
            }
        ],
        "service_tier": None,
        "system_fingerprint": None,
        "usage": {**USAGE, "prompt_tokens_details": None} if usage is None else usage,
        "prompt_logprobs": None,
        "prompt_token_ids": None,
        "kv_transfer_params": None,
    }


def chunk(delta: dict[str, Any], **choice: Any) -> dict[str, Any]:
    return {
        "id": RESPONSE_ID,
        "object": "chat.completion.chunk",
        "created": 1770614085,
        "model": "gpt_oss_120b",
        "choices": [
            {
                "index": 0,
                "delta": delta,
                "logprobs": None,
                "finish_reason": None,
                **choice,
            }
        ],
    }


def stream_events(
    era: str,
    *,
    reasoning: list[str] = ["The user", " asks for", " the capital."],  # noqa: B006
    content: list[str] = ["Par", "is", "."],  # noqa: B006
    finish_reason: str = "stop",
    usage: bool = True,
) -> list[dict[str, Any]]:
    """The event sequence of protocol.md §2.c (i) in the given era."""
    mirror = {"reasoning_content": None} if era == "both" else {}
    events = [chunk({"role": "assistant", "content": "", **mirror})]
    events.append(chunk(reasoning_keys(era, ""), token_ids=None))
    events += [chunk(reasoning_keys(era, r), token_ids=None) for r in reasoning]
    if content:
        events.append(chunk({"content": "", **mirror}, token_ids=None))
        events += [chunk({"content": c, **mirror}, token_ids=None) for c in content]
    events.append(
        chunk(mirror, finish_reason=finish_reason, stop_reason=None, token_ids=None)
    )
    if usage:
        events.append(
            {
                "id": RESPONSE_ID,
                "object": "chat.completion.chunk",
                "created": 1770614085,
                "model": "gpt_oss_120b",
                "choices": [],
                "usage": USAGE,
            }
        )
    return events
