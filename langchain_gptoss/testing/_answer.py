"""The emulated model: a deterministic answer, then the budget and stop strings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

from langchain_gptoss.testing._tokens import text_of, tokenize
from langchain_gptoss.testing._types import Reply

_OPENING = "The request is clear, so a brief echo reply works."
_MIDDLE = "The latest message has {count} {noun}; no tools are needed."
_EXTRA = "Check the wording once more before answering. Keep the reply short and exact."


CALL_STOP = 200012
"""The token id of harmony's ``<|call|>``: ``stop_reason`` after a tool call."""


class CallOut(NamedTuple):
    """A complete tool call as generated: function name and raw argument tokens."""

    name: str
    tokens: list[str]


@dataclass(frozen=True)
class Outcome:
    """What one choice generated once the budget and stop strings were applied.

    Attributes:
        reasoning: Generated reasoning tokens (``None``: no analysis channel).
        content: Generated answer tokens (``None``: ``content`` is null).
        finish_reason: ``stop``, ``length`` or ``tool_calls``.
        stop_reason: The stop string that fired, ``CALL_STOP`` after a tool call,
            else ``None``.
        completion_tokens: Tokens billed, including a token cut by a stop string.
        calls: Complete tool calls (``finish_reason`` is then ``tool_calls``).
    """

    reasoning: list[str] | None
    content: list[str] | None
    finish_reason: str
    stop_reason: str | int | None
    completion_tokens: int
    calls: tuple[CallOut, ...] = ()


def _last_user_text(messages: list[dict[str, Any]]) -> str | None:
    for message in reversed(messages):
        if message.get("role") == "user":
            return text_of(message.get("content")).strip()
    return None


def default_reply(body: dict[str, Any], index: int) -> Reply:
    """Answer like a tiny model would: a short analysis, then echo the user."""
    text = _last_user_text(body["messages"])
    words = len(text.split()) if text else 0
    sentences = [_OPENING]
    effort = body.get("reasoning_effort") or "medium"
    if effort != "low":
        noun = "word" if words == 1 else "words"
        sentences.append(_MIDDLE.format(count=words, noun=noun))
    if effort == "high":
        sentences.append(_EXTRA)
    content = f"You said: {text}" if text else "Hello! How can I help?"
    if index:
        # Distinct texts per choice let tests catch choices being mixed up.
        content += f" (choice {index + 1})"
    return Reply(reasoning=" ".join(sentences), content=content)


def _find_stop(text: str, stops: list[str]) -> tuple[int, int, str] | None:
    """Return ``(start, end, stop)`` of the match that completes first."""
    best: tuple[int, int, str] | None = None
    for stop in stops:
        start = text.find(stop)
        if start >= 0 and (best is None or start + len(stop) < best[1]):
            best = (start, start + len(stop), stop)
    return best


def _prefix(tokens: list[str], chars: int) -> list[str]:
    """Return the tokens covering the first ``chars`` characters, last one cut."""
    kept: list[str] = []
    for token in tokens:
        if chars <= 0:
            break
        kept.append(token[:chars])
        chars -= len(token)
    return kept


def _tokens_through(tokens: list[str], chars: int) -> int:
    """Return how many tokens the engine generated to reach ``chars`` characters."""
    seen = 0
    for number, token in enumerate(tokens, 1):
        seen += len(token)
        if seen >= chars:
            return number
    return len(tokens)


def generate(reply: Reply, *, budget: int, stops: list[str]) -> Outcome:
    """Play ``reply`` token by token until it ends, the budget runs out or a stop fires.

    Stop strings are matched on the raw text of each channel, so one can fire inside
    the reasoning (protocol §2.a), which leaves ``content`` null. A tool call cut
    short is not parsed: its partial text becomes ``content``, as vLLM's
    ``parse_chat_output`` reports an unfinished message.
    """
    stops = [stop for stop in stops if stop]
    full_reasoning = tokenize(reply.reasoning)
    reasoning = full_reasoning[:budget]
    hit = _find_stop("".join(reasoning), stops)
    if hit:
        used = _tokens_through(reasoning, hit[1])
        return Outcome(_prefix(reasoning, hit[0]), None, "stop", hit[2], used)
    if len(reasoning) < len(full_reasoning):
        return Outcome(reasoning, None, "length", None, len(reasoning))
    shown = reasoning or None
    used = len(reasoning)
    content: list[str] | None = None
    texts = [] if reply.content is None else [reply.content]
    texts += [call.arguments for call in reply.tool_calls]
    calls: list[CallOut] = []
    for number, text in enumerate(texts):
        full = tokenize(text)
        part = full[: budget - used]
        hit = _find_stop("".join(part), stops)
        done = tuple(calls)
        if hit:
            used += _tokens_through(part, hit[1])
            return Outcome(shown, _prefix(part, hit[0]), "stop", hit[2], used, done)
        used += len(part)
        if len(part) < len(full):
            return Outcome(shown, part or None, "length", None, used, done)
        if number == 0 and reply.content is not None:
            content = part
        else:
            calls.append(CallOut(reply.tool_calls[len(calls)].name, part))
    if calls:
        return Outcome(shown, content, "tool_calls", CALL_STOP, used, tuple(calls))
    return Outcome(shown, content, "stop", None, used)
