"""The emulated model: a deterministic answer, then the budget and stop strings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

from langchain_gptoss.testing._harmony_tokens import Token, harmony_tokens, messages
from langchain_gptoss.testing._tokens import text_of
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
        tokens: Every generated harmony token, control tokens included.
    """

    reasoning: list[str] | None
    content: list[str] | None
    finish_reason: str
    stop_reason: str | int | None
    completion_tokens: int
    calls: tuple[CallOut, ...] = ()
    tokens: tuple[Token, ...] = ()


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


def _stopped(tokens: list[Token], stops: list[str]) -> tuple[list[Token], str | None]:
    """Cut ``tokens`` at the first stop string, matched on each message's text.

    The token that completes the match is the last one generated (and billed);
    text from the match on is removed from the tokens that hold it.
    """
    if not stops:
        return tokens, None
    start = 0
    while start < len(tokens):
        number = tokens[start].message
        end = start
        while end < len(tokens) and tokens[end].message == number:
            end += 1
        texts = [i for i in range(start, end) if tokens[i].delta is not None]
        hit = _find_stop("".join(tokens[i].text for i in texts), stops)
        if hit:
            return _cut_at(tokens, texts, hit[0], hit[1]), hit[2]
        start = end
    return tokens, None


def _cut_at(
    tokens: list[Token], texts: list[int], keep: int, through: int
) -> list[Token]:
    """Keep ``tokens`` through the one reaching ``through`` characters of text.

    The text of the kept ones is limited to the first ``keep`` characters.
    """
    out = tokens[: texts[0]]
    seen = 0
    for index in texts:
        token = tokens[index]
        room = max(0, keep - seen)
        seen += len(token.text)
        if room < len(token.text):
            token = token._replace(text=token.text[:room], delta=token.text[:room])
        out.append(token)
        if seen >= through:
            break
    return out


def _texts(tokens: list[Token], message: int) -> list[str]:
    return [t.text for t in tokens if t.message == message and t.delta is not None]


def generate(reply: Reply, *, budget: int, stops: list[str]) -> Outcome:
    """Play ``reply`` token by token until it ends, the budget runs out or a stop fires.

    The budget counts every generated token, harmony's control tokens included
    (vLLM's ``max_tokens``; vllm-golden `length_cut_in_reasoning`). Stop strings
    are matched on the raw text of each message, so one can fire inside the
    reasoning (protocol §2.a), which leaves ``content`` null. A tool call cut
    short is not parsed: its partial text becomes ``content``, as vLLM's
    ``parse_chat_output`` reports an unfinished message.
    """
    found = messages(reply)
    every = harmony_tokens(found)
    tokens, stop = _stopped(every[:budget], [stop for stop in stops if stop])
    complete = tokens[-1].done if tokens else 0
    analysis = [n for n, m in enumerate(found) if m.channel == "analysis"]
    reasoning = [text for n in analysis for text in _texts(tokens, n)] or None
    content: list[str] | None = None
    calls: list[CallOut] = []
    for number, message in enumerate(found[:complete]):
        if message.recipient is not None:
            name = message.recipient.removeprefix("functions.")
            calls.append(CallOut(name, _texts(tokens, number)))
        elif message.channel != "analysis":
            content = _texts(tokens, number)
    cut = stop is not None or len(tokens) < len(every)
    if cut and tokens and complete <= tokens[-1].message < len(found):
        unfinished = tokens[-1].message
        if found[unfinished].channel != "analysis":
            content = _texts(tokens, unfinished) or None
    reason: str | int | None
    if stop is not None:
        finish, reason = "stop", stop
    elif cut:
        finish, reason = "length", None
    elif calls:
        finish, reason = "tool_calls", CALL_STOP
    else:
        finish, reason = "stop", None
    return Outcome(
        reasoning, content, finish, reason, len(tokens), tuple(calls), tuple(tokens)
    )
