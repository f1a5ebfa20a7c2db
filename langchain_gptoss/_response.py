"""Chat-completions responses and stream events -> LangChain results (pure).

Reads plain dicts from `json.loads`: no validation layer sits on the hot path.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from langchain_core.messages import AIMessage, AIMessageChunk
from langchain_core.messages.ai import UsageMetadata
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult

logger = logging.getLogger("langchain_gptoss")

PROVIDER = "gptoss"
_TRUNCATED_WARNING = (
    "gpt-oss used the whole token budget while reasoning and returned no answer "
    "(finish_reason='length'). Reasoning counts against max_tokens: raise "
    "max_tokens or lower reasoning_effort."
)


@dataclass(slots=True)
class StreamState:
    """What one stream has shown so far, for decisions a single event cannot make."""

    saw_content: bool = False


def reasoning_of(message: dict[str, Any]) -> str | None:
    """Reasoning under vLLM's new name (`reasoning`), else the old one."""
    reasoning = message.get("reasoning")
    return message.get("reasoning_content") if reasoning is None else reasoning


def usage_from_wire(usage: dict[str, Any] | None) -> UsageMetadata | None:
    """Map vLLM's usage object; details only when the server reports them."""
    if not usage:
        return None
    input_tokens = usage.get("prompt_tokens") or 0
    output_tokens = usage.get("completion_tokens") or 0
    result = UsageMetadata(
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        total_tokens=usage.get("total_tokens") or input_tokens + output_tokens,
    )
    cached = (usage.get("prompt_tokens_details") or {}).get("cached_tokens")
    if cached is not None:
        result["input_token_details"] = {"cache_read": cached}
    reasoning = (usage.get("completion_tokens_details") or {}).get("reasoning_tokens")
    if reasoning is not None:
        result["output_token_details"] = {"reasoning": reasoning}
    return result


def _finish_metadata(
    response: dict[str, Any], choice: dict[str, Any], *, answered: bool
) -> dict[str, Any]:
    finish_reason = choice.get("finish_reason")
    metadata = {
        "id": response.get("id"),
        "model_name": response.get("model"),
        "system_fingerprint": response.get("system_fingerprint"),
        "finish_reason": finish_reason,
        "model_provider": PROVIDER,
    }
    stop_reason = choice.get("stop_reason")
    if stop_reason is not None:
        metadata["stop_reason"] = stop_reason
    if finish_reason == "length" and not answered:
        metadata["truncated_during_reasoning"] = True
        logger.warning(_TRUNCATED_WARNING)
    return metadata


def result_from_response(response: dict[str, Any]) -> ChatResult:
    """Turn a non-streaming response into a `ChatResult` (one generation a choice)."""
    usage = usage_from_wire(response.get("usage"))
    generations = []
    for choice in response.get("choices") or ():
        wire = choice.get("message") or {}
        content = wire.get("content") or ""
        reasoning = reasoning_of(wire)
        metadata = _finish_metadata(response, choice, answered=bool(content))
        if choice.get("logprobs"):
            metadata["logprobs"] = choice["logprobs"]
        message = AIMessage(
            content=content,
            additional_kwargs={"reasoning_content": reasoning} if reasoning else {},
            response_metadata=metadata,
            usage_metadata=usage,
            id=response.get("id"),
        )
        generations.append(
            ChatGeneration(
                message=message,
                generation_info={"finish_reason": choice.get("finish_reason")},
            )
        )
    llm_output = {
        "id": response.get("id"),
        "model_name": response.get("model"),
        "system_fingerprint": response.get("system_fingerprint"),
        "token_usage": response.get("usage"),
    }
    return ChatResult(generations=generations, llm_output=llm_output)


def chunk_from_event(
    event: dict[str, Any], state: StreamState
) -> ChatGenerationChunk | None:
    """Turn one decoded SSE event into a chunk, or None when it carries nothing."""
    choices = event.get("choices")
    if not choices:
        # The usage-only chunk; usage on other chunks (continuous_usage_stats)
        # holds running totals and would be counted twice.
        usage = usage_from_wire(event.get("usage"))
        if usage is None:
            return None
        usage_meta = {"model_provider": PROVIDER}
        if event.get("system_fingerprint"):
            usage_meta["system_fingerprint"] = event["system_fingerprint"]
        return ChatGenerationChunk(
            message=AIMessageChunk(
                content="",
                usage_metadata=usage,
                response_metadata=usage_meta,
                id=event.get("id"),
            )
        )
    choice = choices[0]
    delta = choice.get("delta") or {}
    content = delta.get("content") or ""
    reasoning = reasoning_of(delta)
    finish_reason = choice.get("finish_reason")
    logprobs = choice.get("logprobs")
    if not (content or reasoning or finish_reason or logprobs):
        return None
    if content:
        state.saw_content = True
    metadata: dict[str, Any] = (
        _finish_metadata(event, choice, answered=state.saw_content)
        if finish_reason
        else {"model_provider": PROVIDER}
    )
    if logprobs:
        metadata["logprobs"] = logprobs
    message = AIMessageChunk(
        content=content,
        additional_kwargs={"reasoning_content": reasoning} if reasoning else {},
        response_metadata=metadata,
        id=event.get("id"),
    )
    info = {"finish_reason": finish_reason} if finish_reason else None
    return ChatGenerationChunk(message=message, generation_info=info)
