"""Response and chunk JSON exactly as each vLLM era serializes them (§2.b, §2.c)."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from itertools import zip_longest
from json.encoder import encode_basestring
from typing import TYPE_CHECKING, Any

from langchain_gptoss.testing._answer import CALL_STOP
from langchain_gptoss.testing._calls import redump, tool_call_id
from langchain_gptoss.testing._releases import DEFAULT_RELEASE, profile
from langchain_gptoss.testing._steps import Entry, Play, Step, quirky, steps
from langchain_gptoss.testing._tokens import logprob_entry

if TYPE_CHECKING:
    from collections.abc import Iterator

    from langchain_gptoss.testing._answer import Outcome
    from langchain_gptoss.testing._harmony_tokens import Token
    from langchain_gptoss.testing._types import Era


@dataclass(frozen=True)
class BodyKeys:
    """Keys of the non-streamed body that come and go with the release (§2.b)."""

    fingerprint: str | None = None
    prompt_text: bool = False
    response_extras: tuple[str, ...] = ()
    choice_extras: tuple[str, ...] = ()
    drop_empty_tool_calls: bool = False
    reasoning_tokens: bool = False


@dataclass(frozen=True)
class StreamKeys:
    """Chunks and keys of a stream that come and go with the release (§2.c)."""

    role_extras: tuple[str, ...] = ("prompt_token_ids",)
    """Top-level null keys of the role chunk."""
    chunk_extras: tuple[str, ...] = ()
    """Top-level null keys of every later choice chunk (0.33)."""
    finish_extras: tuple[str, ...] = ()
    """Null keys of the finishing choice (0.33)."""


@dataclass(frozen=True)
class Shape:
    """Everything besides the outcomes that decides the JSON of one response."""

    era: Era
    model: str
    request_id: str
    created: int
    prompt_tokens: int
    token_ids_key: bool
    top_logprobs: int | None
    """``None`` when logprobs were not requested."""
    leak_tool_args: bool = False
    """vLLM 0.10.2 bug #25560: tool-call arguments also land in ``content``."""
    tool_stream_quirks: bool = False
    """Stream tool calls with the three live quirks of protocol §2.c (ii)."""
    id_hex_digits: int = 32
    """Hex digits of tool-call ids: 32 up to vLLM 0.11.x, 16 from 0.12.0."""
    redump_arguments: bool = True
    """Non-streamed arguments re-serialized (from 0.11.0), else the raw text."""
    body_keys: BodyKeys = BodyKeys()
    """The release's extra and dropped keys of the non-streamed body."""
    stream_keys: StreamKeys = StreamKeys()
    """The release's extra and dropped chunks and keys of a stream."""
    play: Play = field(default_factory=lambda: Play(profile(DEFAULT_RELEASE)))
    """The release's handling of engine steps, and the request's switches."""


# One shared encoder: json.dumps() with options builds a new one per call.
_ENCODE = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def _dump(payload: dict[str, Any]) -> bytes:
    return _ENCODE(payload).encode()


def _message(
    era: Era,
    content: str | None,
    reasoning: str | None,
    tool_calls: list[dict[str, Any]],
) -> dict[str, Any]:
    message: dict[str, Any] = {
        "role": "assistant",
        "content": content,
        "refusal": None,
        "annotations": None,
        "audio": None,
        "function_call": None,
        "tool_calls": tool_calls,
    }
    if era != "reasoning_content":
        message["reasoning"] = reasoning
    if era != "reasoning":
        message["reasoning_content"] = reasoning
    return message


def _delta(
    era: Era, content: str | None, reasoning: str | None
) -> dict[str, str | None]:
    """Build a delta with vLLM's field order; the both-era mirror is always set."""
    delta: dict[str, str | None] = {}
    if content is not None:
        delta["content"] = content
    if reasoning is not None and era != "reasoning_content":
        delta["reasoning"] = reasoning
    if era == "both" or (era == "reasoning_content" and reasoning is not None):
        delta["reasoning_content"] = reasoning
    return delta


def _usage(prompt: int, completion: int) -> dict[str, int]:
    return {
        "prompt_tokens": prompt,
        "total_tokens": prompt + completion,
        "completion_tokens": completion,
    }


def _logprobs(
    shape: Shape, tokens: tuple[Token, ...], start: int
) -> dict[str, Any] | None:
    """One entry per generated token, control tokens included (golden `logprobs`)."""
    if shape.top_logprobs is None or not tokens:
        return None
    top = shape.top_logprobs
    entries = [
        logprob_entry(start + n, token.text, top) for n, token in enumerate(tokens)
    ]
    return {"content": entries}


def response_body(shape: Shape, outcomes: list[Outcome]) -> bytes:
    """Serialize the non-streaming ``chat.completion`` body."""
    choices = []
    digits, keys = shape.id_hex_digits, shape.body_keys
    for index, outcome in enumerate(outcomes):
        reasoning = outcome.reasoning if shape.play.show_reasoning else None
        content = None if outcome.content is None else "".join(outcome.content)
        if shape.leak_tool_args and outcome.calls:
            content = "".join("".join(call.tokens) for call in outcome.calls)
        calls = [
            {
                "id": tool_call_id(shape.request_id, index, number, digits),
                "type": "function",
                "function": {
                    "name": call.name,
                    "arguments": (
                        redump("".join(call.tokens))
                        if shape.redump_arguments
                        else "".join(call.tokens)
                    ),
                },
            }
            for number, call in enumerate(outcome.calls)
        ]
        choice: dict[str, Any] = {
            "index": index,
            "message": _message(
                shape.era,
                content,
                None if reasoning is None else "".join(reasoning),
                calls,
            ),
            "logprobs": _logprobs(shape, outcome.tokens, 0),
            "finish_reason": outcome.finish_reason,
            "stop_reason": outcome.stop_reason,
        }
        if shape.token_ids_key:
            choice["token_ids"] = None
        for key in keys.choice_extras:
            choice[key] = None
        if keys.drop_empty_tool_calls and not calls:
            del choice["message"]["tool_calls"]
        choices.append(choice)
    usage: dict[str, Any] = _usage(
        shape.prompt_tokens, sum(o.completion_tokens for o in outcomes)
    )
    usage["prompt_tokens_details"] = None
    if keys.reasoning_tokens:
        reasoning_tokens = sum(len(o.reasoning or []) for o in outcomes)
        usage["completion_tokens_details"] = {"reasoning_tokens": reasoning_tokens}
    body: dict[str, Any] = {
        "id": shape.request_id,
        "object": "chat.completion",
        "created": shape.created,
        "model": shape.model,
        "choices": choices,
        "service_tier": None,
        "system_fingerprint": keys.fingerprint,
        "usage": usage,
        "prompt_logprobs": None,
    }
    if shape.token_ids_key:
        body["prompt_token_ids"] = None
    if keys.prompt_text:
        body["prompt_text"] = None
    body["kv_transfer_params"] = None
    for key in keys.response_extras:
        body[key] = None
    return _dump(body)


def _entries(entries: tuple[Entry, ...], ids: list[str]) -> list[dict[str, Any]]:
    """The ``delta.tool_calls`` list of one step, in vLLM's key order."""
    found: list[dict[str, Any]] = []
    for entry in entries:
        function: dict[str, Any] = {"arguments": entry.arguments}
        if entry.name is not None:
            function = {"name": entry.name, "arguments": entry.arguments}
            found.append(
                {
                    "id": ids[entry.call],
                    "type": "function",
                    "index": entry.index,
                    "function": function,
                }
            )
        elif entry.typed:
            found.append(
                {"type": "function", "index": entry.index, "function": function}
            )
        else:
            found.append({"index": entry.index, "function": function})
    return found


def _text(value: str | None) -> bytes:
    return b"null" if value is None else encode_basestring(value).encode()


def _flat(fields: dict[str, str | None]) -> bytes:
    """Encode a flat dict of strings; per-token chunks skip the json machinery."""
    items = b",".join(
        b'"%b":%b' % (key.encode(), _text(v)) for key, v in fields.items()
    )
    return b"{%b}" % items


@functools.cache
def _delta_template(era: Era, channel: str) -> tuple[bytes, int]:
    """Derive from ``_delta`` a one-channel delta with ``%b`` holes for the text."""
    hole = "\x00hole\x00"
    fields = _delta(era, hole, None) if channel == "c" else _delta(era, None, hole)
    encoded, placeholder = _flat(fields), _text(hole)
    template = encoded.replace(b"%", b"%%").replace(placeholder, b"%b")
    return template, encoded.count(placeholder)


def _step_fields(era: Era, step: Step, ids: list[str]) -> dict[str, Any]:
    """The delta of one step as a dict (``{}``-like when it carries nothing)."""
    delta: dict[str, Any] = dict(_delta(era, step.content, step.reasoning))
    if step.hidden_reasoning and "reasoning" not in delta:
        delta["reasoning"] = None
    if step.calls:
        delta["tool_calls"] = _entries(step.calls, ids)
    return delta


def _step_delta(era: Era, step: Step, ids: list[str]) -> bytes:
    """Serialize the delta of one step; one channel's text takes a fast path."""
    content, reasoning = step.content, step.reasoning
    if step.calls or step.hidden_reasoning or (content is None) == (reasoning is None):
        return _dump(_step_fields(era, step, ids))
    channel, text = ("c", content) if reasoning is None else ("r", reasoning)
    template, holes = _delta_template(era, channel)
    return template % ((_text(text),) * holes)


_ERROR = (
    b'{"error":{"message":"list index out of range",'
    b'"type":"InternalServerError","param":null,"code":500}}'
)
"""0.15/0.16's in-stream event for arguments that share the ``<|call|>`` step."""


class _Error(bytes):
    """A choice's stream ends in an error event instead of its finish chunk."""


def _choice_chunks(
    shape: Shape, index: int, outcome: Outcome, continuous: bool, size: int
) -> Iterator[bytes]:
    """Serialize one choice's chunks from ``choices`` on; ``stream`` adds the rest.

    Each chunk is made when it is asked for, as vLLM makes it when its step is
    generated: the first event leaves before the last one exists. A step that
    sends nothing leaves no chunk (and its tokens' log-probabilities are lost,
    as in vLLM); the finishing step's delta rides on the finish chunk.
    """
    tail = b',"token_ids":null' if shape.token_ids_key else b""
    role: dict[str, Any] = {"role": "assistant", "content": ""}
    if shape.era == "both":
        role["reasoning_content"] = None
    first = {"index": index, "delta": role, "logprobs": None, "finish_reason": None}

    keys = shape.stream_keys
    reasoning = len(outcome.reasoning or [])
    role_tail, chunk_tail = _nulls(keys.role_extras), _nulls(keys.chunk_extras)

    def finish(choice: bytes, generated: int, nulls: bytes = chunk_tail) -> bytes:
        if not continuous:
            return b"%b]%b}" % (choice, nulls)
        usage = _dump(_stream_usage(shape, generated, reasoning))
        return b'%b],"usage":%b%b}' % (choice, usage, nulls)

    yield finish(_ENCODE(first).encode(), 0, role_tail)
    ids = [
        tool_call_id(shape.request_id, index, n, shape.id_hex_digits)
        for n in range(_call_count(outcome))
    ]
    found = steps(outcome.tokens, size, shape.play)
    if shape.tool_stream_quirks:
        found = quirky(found, CALL_STOP)
    # 0.33 sends even a silent step when it has log-probabilities to carry.
    silent_sent = (
        shape.top_logprobs is not None and shape.play.release.silent_steps_with_logprobs
    )
    generated = 0
    for step in found[:-1]:
        start, generated = generated, generated + len(step.tokens)
        if not (step.delta or silent_sent):
            continue
        lp = _logprobs(shape, step.tokens, start)
        stop = (
            b"" if step.stop_reason is None else b',"stop_reason":%d' % step.stop_reason
        )
        yield finish(
            b'{"index":%d,"delta":%b,"logprobs":%b,"finish_reason":null%b%b}'
            % (
                index,
                _step_delta(shape.era, step, ids),
                b"null" if lp is None else _dump(lp),
                stop,
                tail,
            ),
            generated,
        )
    step = found[-1]
    if step.error:
        yield _Error(_ERROR)
        return
    start = generated
    lp = _logprobs(shape, step.tokens, start)
    last: dict[str, Any] = {
        "index": index,
        "delta": _step_fields(shape.era, step, ids),
        "logprobs": lp,
        "finish_reason": outcome.finish_reason,
        "stop_reason": outcome.stop_reason,
    }
    if shape.token_ids_key:
        last["token_ids"] = None
    for key in keys.finish_extras:
        last[key] = None
    yield finish(_dump(last), outcome.completion_tokens)


def _call_count(outcome: Outcome) -> int:
    """Calls begun in the tokens (a stream may open one the answer cannot parse)."""
    return len({t.message for t in outcome.tokens if t.recipient})


def _stream_usage(shape: Shape, generated: int, reasoning: int) -> dict[str, Any]:
    """A stream's usage; from 0.28 with the reasoning tokens (§2.c iii)."""
    usage: dict[str, Any] = _usage(shape.prompt_tokens, generated)
    if shape.body_keys.reasoning_tokens:
        usage["completion_tokens_details"] = {"reasoning_tokens": reasoning}
    return usage


def _fingerprint_last(events: Iterator[bytes], fingerprint: str) -> Iterator[bytes]:
    """Without a usage chunk the last chunk carries ``system_fingerprint`` (0.21+)."""
    previous = None
    for event in events:
        if previous is not None:
            yield previous
        previous = event
    if previous is not None:
        cut = previous.rindex(b"]") + 1
        value = _ENCODE(fingerprint).encode()
        yield b'%b,"system_fingerprint":%b%b' % (previous[:cut], value, previous[cut:])


def _nulls(keys: tuple[str, ...]) -> bytes:
    """Encode ``,"key":null`` for each key."""
    return b"".join(b',"%b":null' % key.encode() for key in keys)


def stream(
    shape: Shape,
    outcomes: list[Outcome],
    *,
    include_usage: bool,
    continuous: bool,
    tokens_per_chunk: int,
) -> Iterator[bytes]:
    """Serialize the SSE ``data`` payloads of a stream, ``[DONE]`` excluded."""
    envelope = {
        "id": shape.request_id,
        "object": "chat.completion.chunk",
        "created": shape.created,
        "model": shape.model,
    }
    # Every chunk starts with the same envelope: encode it once per response.
    prefix = _ENCODE(envelope).encode()[:-1] + b',"choices":['
    per_choice = [
        _choice_chunks(shape, i, outcome, continuous, max(1, tokens_per_chunk))
        for i, outcome in enumerate(outcomes)
    ]
    fingerprint = shape.body_keys.fingerprint
    failed = False

    def interleaved() -> Iterator[bytes]:
        # Choices interleave one chunk at a time, as vLLM emits them per step;
        # an error event ends the whole stream.
        nonlocal failed
        for step in zip_longest(*per_choice):
            for choice in step:
                if isinstance(choice, _Error):
                    failed = True
                    yield bytes(choice)
                    return
                if choice is not None:
                    yield prefix + choice

    if include_usage or fingerprint is None:
        yield from interleaved()
    else:
        yield from _fingerprint_last(interleaved(), fingerprint)
    if include_usage and not failed:
        used = sum(outcome.completion_tokens for outcome in outcomes)
        reasoning = sum(len(outcome.reasoning or []) for outcome in outcomes)
        usage = {
            **envelope,
            "choices": [],
            "usage": _stream_usage(shape, used, reasoning),
        }
        if fingerprint is not None:
            usage["system_fingerprint"] = fingerprint
        yield _dump(usage)
