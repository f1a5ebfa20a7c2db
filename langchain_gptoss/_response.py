"""Chat-completions responses and stream events -> LangChain results (pure).

Reads plain dicts from `json.loads`: no validation layer sits on the hot path.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from langchain_core.messages.ai import AIMessage, AIMessageChunk, UsageMetadata
from langchain_core.messages.tool import (
    ToolCallChunk,
)
from langchain_core.outputs.chat_generation import ChatGeneration, ChatGenerationChunk
from langchain_core.outputs.chat_result import ChatResult
from pydantic import BaseModel

from langchain_gptoss._json import shown
from langchain_gptoss._redact import NO_SECRET, Redactor
from langchain_gptoss._tool_calls import (
    LOST_ARGUMENTS_KEY,
    CallTracker,
    close_tool_calls,
    is_leaked_arguments,
    tool_call_chunks_from_delta,
    tool_calls_from_wire,
)
from langchain_gptoss.errors import GptOssAPIError, GptOssStreamError

if TYPE_CHECKING:
    from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator

    from langchain_gptoss._names import ToolNames

logger = logging.getLogger("langchain_gptoss")

PROVIDER = "gptoss"
_TRUNCATED_WARNING = (
    "gpt-oss used the whole token budget while reasoning and returned no answer "
    "(finish_reason='length'). Reasoning counts against max_tokens: raise "
    "max_tokens or lower reasoning_effort."
)


@dataclass(slots=True)
class StreamState:
    """What one stream has shown so far, for decisions a single event cannot make.

    Attributes:
        v1: Emit standard content blocks (`output_version="v1"`).
        redact: Keeps the token out of messages that quote an event.
        names: Tools renamed for the wire, whose calls get their names back.
        saw_content: An answer token has arrived.
        finished: A finish_reason has arrived.
        calls: The tool calls streamed so far.
    """

    v1: bool = False
    redact: Redactor = NO_SECRET
    names: ToolNames | None = None
    saw_content: bool = False
    finished: bool = False
    calls: CallTracker = field(default_factory=CallTracker)

    def check_complete(self) -> None:
        """At `[DONE]`: a stream that never gave a finish_reason was cut short."""
        if not self.finished:
            msg = "The stream ended without a finish_reason; the answer is incomplete."
            raise GptOssStreamError(msg, retryable=True)


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


_SHAPE_ERRORS = (AttributeError, KeyError, TypeError, ValueError, RecursionError)


def result_from_response(
    response: dict[str, Any],
    redact: Redactor = NO_SECRET,
    names: ToolNames | None = None,
) -> ChatResult:
    """Turn a non-streaming response into a `ChatResult` (one generation a choice).

    `names` gives calls of tools renamed for the wire their own names back.

    Raises:
        GptOssAPIError: When the JSON is not shaped like a chat completion.
    """
    if response.get("choices"):
        try:
            return _result_from_response(response, names)
        except _SHAPE_ERRORS as exc:
            problem = f"Unexpected response shape ({type(exc).__name__}: {exc})"
    else:
        problem = "The response has no choices"
    # Raised here, not in the handler, so the error has no __context__ that
    # could quote the body unredacted.
    msg = f"{redact.excerpt(problem, 200)}: {redact.excerpt(shown(response), 200)}"
    raise GptOssAPIError(msg, status_code=200)


def chunk_from_event(
    event: dict[str, Any], state: StreamState
) -> ChatGenerationChunk | None:
    """Turn one decoded SSE event into a chunk, or None when it carries nothing.

    Raises:
        GptOssStreamError: When the event is not shaped like a completion chunk.
    """
    try:
        return _chunk_from_event(event, state)
    except _SHAPE_ERRORS as exc:
        problem = f"{type(exc).__name__}: {exc}"
    redact = state.redact
    msg = (
        f"Unexpected event shape in the stream ({redact.excerpt(problem, 200)}): "
        f"{redact.excerpt(shown(event), 200)}"
    )
    raise GptOssStreamError(msg)


def chunks_from_events(
    events: Iterable[dict[str, Any]], state: StreamState
) -> Iterator[ChatGenerationChunk]:
    """The chunks of a stream's events, skipping events that carry nothing.

    A generator of its own, so that the event being read when one fails lives
    only in this frame, whose locals are cleared from the error's traceback.
    """
    for event in events:
        chunk = chunk_from_event(event, state)
        if chunk is not None:
            yield chunk


async def achunks_from_events(
    events: AsyncIterable[dict[str, Any]], state: StreamState
) -> AsyncIterator[ChatGenerationChunk]:
    """The async twin of `chunks_from_events`."""
    async for event in events:
        chunk = chunk_from_event(event, state)
        if chunk is not None:
            yield chunk


def _result_from_response(
    response: dict[str, Any], names: ToolNames | None
) -> ChatResult:
    generations = []
    for choice in response.get("choices") or ():
        wire = choice.get("message") or {}
        content = wire.get("content") or ""
        reasoning = reasoning_of(wire)
        raw_calls = wire.get("tool_calls") or []
        calls, invalid_calls = tool_calls_from_wire(raw_calls, names)
        if raw_calls and is_leaked_arguments(content, raw_calls):
            content = ""
        answered = bool(content or raw_calls)
        metadata = _finish_metadata(response, choice, answered=answered)
        if choice.get("logprobs"):
            metadata["logprobs"] = choice["logprobs"]
        fields: dict[str, Any] = {
            "content": content,
            "additional_kwargs": {"reasoning_content": reasoning} if reasoning else {},
            "response_metadata": metadata,
            "usage_metadata": usage_from_wire(response.get("usage")),
            "tool_calls": calls,
            "invalid_tool_calls": invalid_calls,
            "id": response.get("id"),
        }
        info = {"finish_reason": choice.get("finish_reason")}
        if calls or invalid_calls:
            generation = ChatGeneration(
                message=AIMessage(**fields), generation_info=info
            )
        else:
            generation = text_generation(fields, info)
        generations.append(generation)
    llm_output = {
        "id": response.get("id"),
        "model_name": response.get("model"),
        "system_fingerprint": response.get("system_fingerprint"),
        "token_usage": response.get("usage"),
    }
    return _unvalidated(
        ChatResult,
        {"generations", "llm_output"},
        {"generations": generations, "llm_output": llm_output},
    )


def _chunk_from_event(
    event: dict[str, Any], state: StreamState
) -> ChatGenerationChunk | None:
    choices = event.get("choices")
    if not choices:
        return _usage_chunk(event)
    choice = choices[0]
    delta = choice.get("delta") or {}
    content = delta.get("content") or ""
    reasoning = reasoning_of(delta)
    finish_reason = choice.get("finish_reason")
    logprobs = choice.get("logprobs")
    raw_calls = delta.get("tool_calls")
    calls = (
        tool_call_chunks_from_delta(raw_calls, state.calls, state.names)
        if raw_calls
        else []
    )
    if content and calls and content == "".join(c["args"] or "" for c in calls):
        content = ""  # the arguments again, as 0.10.2 writes them into answers
    if not (content or reasoning or finish_reason or logprobs or calls):
        return None
    if content or calls:
        state.saw_content = True
    metadata: dict[str, Any] = {"model_provider": PROVIDER}
    if finish_reason:
        metadata, calls = _finish(event, choice, calls, state)
    if logprobs:
        metadata["logprobs"] = logprobs
    info = {"finish_reason": finish_reason} if finish_reason else None
    if state.v1 or calls:
        return _validated_chunk(
            event, reasoning, content, calls, metadata, info, v1=state.v1
        )
    additional_kwargs = {"reasoning_content": reasoning} if reasoning else {}
    return text_chunk(content, additional_kwargs, metadata, event.get("id"), info)


def _usage_chunk(event: dict[str, Any]) -> ChatGenerationChunk | None:
    """The usage-only chunk at the end, or None for an event without choices.

    Usage on other chunks (continuous_usage_stats) holds running totals and
    would be counted twice.
    """
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


def _finish(
    event: dict[str, Any],
    choice: dict[str, Any],
    calls: list[ToolCallChunk],
    state: StreamState,
) -> tuple[dict[str, Any], list[ToolCallChunk]]:
    """The finishing chunk's metadata, and its calls with every call closed."""
    state.finished = True
    metadata = _finish_metadata(event, choice, answered=state.saw_content)
    calls, errors = close_tool_calls(calls, state.calls, state.redact)
    if errors:
        metadata[LOST_ARGUMENTS_KEY] = errors
    return metadata, calls


def _validated_chunk(  # noqa: PLR0917 - the parts of one chunk
    event: dict[str, Any],
    reasoning: str | None,
    content: str,
    calls: list[ToolCallChunk],
    metadata: dict[str, Any],
    info: dict[str, Any] | None,
    *,
    v1: bool,
) -> ChatGenerationChunk:
    """A chunk built through pydantic: v1 content blocks, or tool-call chunks."""
    if v1:
        message = AIMessageChunk(
            content=_v1_blocks(reasoning, content, calls),
            response_metadata={**metadata, "output_version": "v1"},
            tool_call_chunks=calls,
            id=event.get("id"),
        )
    else:
        message = AIMessageChunk(
            content=content,
            additional_kwargs={"reasoning_content": reasoning} if reasoning else {},
            response_metadata=metadata,
            tool_call_chunks=calls,
            id=event.get("id"),
        )
    return ChatGenerationChunk(message=message, generation_info=info)


def text_generation(
    fields: dict[str, Any], generation_info: dict[str, Any]
) -> ChatGeneration:
    """A whole answer without tool calls, built without pydantic validation.

    Validating the message and its generation cost as much as the rest of our
    work per call. `fields` holds every `AIMessage` field but `type` and `name`,
    each already of its declared type; a unit test checks the result equals the
    validated construction.
    """
    message = _unvalidated(
        AIMessage,
        set(fields),
        {
            "content": fields["content"],
            "additional_kwargs": fields["additional_kwargs"],
            "response_metadata": fields["response_metadata"],
            "type": "ai",
            "name": None,
            "id": fields["id"],
            "tool_calls": fields["tool_calls"],
            "invalid_tool_calls": fields["invalid_tool_calls"],
            "usage_metadata": fields["usage_metadata"],
        },
    )
    return _unvalidated(
        ChatGeneration,
        {"message", "generation_info", "text"},
        {
            "text": fields["content"],
            "generation_info": generation_info,
            "type": "ChatGeneration",
            "message": message,
        },
    )


def text_chunk(
    content: str,
    additional_kwargs: dict[str, Any],
    response_metadata: dict[str, Any],
    message_id: str | None,
    generation_info: dict[str, Any] | None,
) -> ChatGenerationChunk:
    """A text/reasoning chunk, built without pydantic validation.

    This is the per-event hot path: every value already has the right type, and
    validating two models per event cost more than parsing the event. A unit test
    checks that the result equals the validated construction, field for field.
    """
    message = _unvalidated(
        AIMessageChunk,
        {"content", "additional_kwargs", "response_metadata", "id"},
        {
            "content": content,
            "additional_kwargs": additional_kwargs,
            "response_metadata": response_metadata,
            "type": "AIMessageChunk",
            "name": None,
            "id": message_id,
            "tool_calls": [],
            "invalid_tool_calls": [],
            "usage_metadata": None,
            "tool_call_chunks": [],
            "chunk_position": None,
        },
    )
    return _unvalidated(
        ChatGenerationChunk,
        {"message", "generation_info", "text"},
        {
            "text": content,
            "generation_info": generation_info,
            "type": "ChatGenerationChunk",
            "message": message,
        },
    )


_Model = TypeVar("_Model", bound=BaseModel)
_set = object.__setattr__  # BaseModel's own __setattr__ would validate


def _unvalidated(
    cls: type[_Model], fields_set: set[str], values: dict[str, Any]
) -> _Model:
    """What `model_construct` does, without its per-field default handling."""
    instance = cls.__new__(cls)
    _set(instance, "__dict__", values)
    _set(instance, "__pydantic_fields_set__", fields_set)
    _set(instance, "__pydantic_extra__", None)
    _set(instance, "__pydantic_private__", None)
    return instance


def _v1_blocks(
    reasoning: str | None, content: str, calls: list[ToolCallChunk]
) -> list[str | dict[str, Any]]:
    """Standard blocks, each kind under its own stable index.

    Core would number blocks by position and so merge a tool call into the
    reasoning block before it (both at index 0); string indices keep them apart.
    """
    blocks: list[str | dict[str, Any]] = []
    if reasoning:
        blocks.append(
            {"type": "reasoning", "reasoning": reasoning, "index": "lc_reasoning"}
        )
    if content:
        blocks.append({"type": "text", "text": content, "index": "lc_text"})
    blocks.extend(
        {
            "type": "tool_call_chunk",
            "id": call["id"],
            "name": call["name"],
            "args": call["args"],
            "index": f"lc_tc_{call['index']}",
        }
        for call in calls
    )
    return blocks
