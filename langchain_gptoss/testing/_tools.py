"""The default model's tool use and structured output (protocol §2.a, §2.b, §2.d).

Deterministic rules stand in for the model's judgement: a tool is *relevant* when
its name, or a word of four letters or more from its name or description, occurs in
the last user message; arguments are filled from that message by ``_schema``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from langchain_gptoss.testing._answer import default_reply
from langchain_gptoss.testing._schema import Source, fill, quoted
from langchain_gptoss.testing._tokens import text_of
from langchain_gptoss.testing._types import Reply, ToolCall

_LETTERS = re.compile(r"[^\W\d_]+")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_MIN_KEYWORD = 4
_STOPWORDS = frozenset({
    "about", "after", "also", "been", "before", "being", "both", "call", "calls",
    "could", "does", "each", "from", "given", "have", "into", "just", "like",
    "make", "more", "most", "must", "only", "other", "over", "returns", "said",
    "same", "should", "some", "such", "than", "that", "their", "them", "then",
    "there", "these", "they", "this", "those", "thus", "under", "used", "uses",
    "using", "very", "what", "when", "where", "which", "while", "will", "with",
    "would", "your",
})  # fmt: skip
_KEY_WORDS = frozenset(["key", "keys", "field", "fields", "property", "properties"])


@dataclass(frozen=True)
class Habits:
    """Version-specific habits of the default model (the emulator's knobs).

    Attributes:
        legacy_tool_choice_none: ``tool_choice: "none"`` still calls tools
            (before vLLM PR #30867).
        ignore_required_tool_choice: ``required`` and named choices act like
            ``auto`` (vLLM v0.20.1, issue #44216).
        require_tool_message_name: A ``tool`` message is only understood with a
            ``name`` key (vLLM 0.10.x-0.11.1, PR #24954).
        flaky_structured_output: Structured output comes back cut off (§3 row 15).
    """

    legacy_tool_choice_none: bool = False
    ignore_required_tool_choice: bool = False
    require_tool_message_name: bool = False
    flaky_structured_output: bool = False


@dataclass(frozen=True)
class _Turn:
    """The current turn: the last user message and the tool results after it."""

    text: str
    called: frozenset[str]
    results: tuple[tuple[str | None, str], ...]
    """``(name the model understood, or None; result text)`` per tool message."""


def _turn(messages: list[dict[str, Any]], habits: Habits) -> _Turn:
    last = max(
        (i for i, message in enumerate(messages) if message.get("role") == "user"),
        default=-1,
    )
    text = text_of(messages[last].get("content")).strip() if last >= 0 else ""
    names = {
        call.get("id"): call["function"]["name"]
        for message in messages
        if message.get("role") == "assistant"
        for call in message.get("tool_calls") or []
    }
    called: set[str] = set()
    results: list[tuple[str | None, str]] = []
    for message in messages[last + 1 :]:
        if message.get("role") != "tool":
            continue
        given = message.get("name") if isinstance(message.get("name"), str) else None
        looked_up = names.get(message.get("tool_call_id"))
        if given or looked_up:
            called.add(str(given or looked_up))
        # Old builds render a nameless result as author "functions.": not understood.
        understood = given if habits.require_tool_message_name else looked_up or given
        results.append((understood or None, text_of(message.get("content")).strip()))
    return _Turn(text, frozenset(called), tuple(results))


def _keywords(function: dict[str, Any]) -> set[str]:
    words = set(str(function["name"]).lower().split("_"))
    words |= {w.lower() for w in _LETTERS.findall(str(function.get("description", "")))}
    return {w for w in words if len(w) >= _MIN_KEYWORD and w not in _STOPWORDS}


def relevant(function: dict[str, Any], text: str) -> bool:
    """Return whether ``text`` asks for what ``function`` does."""
    lowered = text.lower()
    name = re.escape(str(function["name"]).lower())
    if re.search(rf"(?<!\w){name}(?!\w)", lowered):
        return True
    words = set(_LETTERS.findall(lowered))
    return any(k in words or f"{k}s" in words for k in _keywords(function))


def _choice(body: dict[str, Any], habits: Habits) -> str | dict[str, Any]:
    choice = body.get("tool_choice") or "auto"
    if choice == "none":
        return "auto" if habits.legacy_tool_choice_none else "none"
    if habits.ignore_required_tool_choice:
        return "auto"
    return choice


def _pick(
    tools: list[dict[str, Any]], choice: str | dict[str, Any], turn: _Turn
) -> dict[str, Any] | None:
    """Return the function to call now, or ``None`` to answer in text."""
    functions: list[dict[str, Any]] = [tool["function"] for tool in tools]
    if choice == "none":
        return None
    if isinstance(choice, dict):
        name = choice["function"]["name"]
        if name in turn.called:
            return None
        return next(f for f in functions if f["name"] == name)
    pending = [f for f in functions if f["name"] not in turn.called]
    wanted = [f for f in pending if relevant(f, turn.text)]
    if wanted:
        return wanted[0]
    if choice == "required" and pending and not turn.results:
        return pending[0]
    return None


def _effort(body: dict[str, Any], sentences: list[str]) -> str:
    effort = body.get("reasoning_effort") or "medium"
    keep = {"low": 1, "medium": 2}.get(effort, len(sentences))
    return " ".join(sentences[:keep])


def _call(body: dict[str, Any], function: dict[str, Any], turn: _Turn) -> Reply:
    name = str(function["name"])
    parameters = function.get("parameters")
    schema = {"type": "object", **(parameters if isinstance(parameters, dict) else {})}
    arguments = fill(schema, Source(turn.text))
    # The model writes compact JSON; vLLM re-serializes it for non-streaming answers.
    raw = json.dumps(arguments, ensure_ascii=False, separators=(",", ":"))
    reasoning = _effort(
        body,
        [
            f"Need to call {name} for this.",
            "Its arguments come straight from the request.",
            "Check the argument types against the schema once more.",
        ],
    )
    return Reply(reasoning=reasoning, content=None, tool_calls=(ToolCall(name, raw),))


def _final(body: dict[str, Any], turn: _Turn) -> Reply:
    parts = [f"{name}: {text}" for name, text in turn.results if name]
    missing = len(turn.results) - len(parts)
    if not parts:
        return Reply(
            reasoning="A result arrived from functions. without a name; it is unknown.",
            content="The tool result was missing, so I cannot answer that yet.",
        )
    content = "Based on " + "; ".join(parts)
    if not content.endswith((".", "!", "?")):
        content += "."
    if missing:
        content += f" {missing} tool result(s) were missing."
    reasoning = _effort(
        body,
        [
            "The tool results are in, so answer from them.",
            "Quote each result as it came back.",
            "Nothing else needs calling.",
        ],
    )
    return Reply(reasoning=reasoning, content=content)


def _structured(body: dict[str, Any], reply: Reply, text: str) -> Reply | None:
    """Return ``reply`` rewritten as JSON if ``response_format`` asks for it."""
    form = body.get("response_format")
    kind = form.get("type") if isinstance(form, dict) else None
    if kind == "json_schema":
        spec = form["json_schema"]  # type: ignore[index]
        value = fill(spec["schema"], Source(text, prose=True))
        reasoning = f"The reply must be JSON matching {spec.get('name', 'the schema')}."
    elif kind == "json_object":
        words = {w.lower() for w in _LETTERS.findall(text)}
        keys = [q for q in quoted(text) if _IDENTIFIER.fullmatch(q)]
        source = Source(text, prose=True)
        source.quotes = []
        if keys and words & _KEY_WORDS:
            value = {key: source.string(key, {}) for key in dict.fromkeys(keys)}
        else:
            value = {"answer": reply.content or ""}
        reasoning = "The reply must be a single JSON object."
    else:
        return None
    return Reply(reasoning=reasoning, content=json.dumps(value, ensure_ascii=False))


def model_reply(body: dict[str, Any], index: int, habits: Habits) -> Reply:
    """Answer one choice: call a tool, answer from tool results, or reply in text."""
    turn = _turn(body["messages"], habits)
    tools = body.get("tools") or []
    function = _pick(tools, _choice(body, habits), turn) if tools else None
    if function is not None:
        return _call(body, function, turn)
    reply = _final(body, turn) if turn.results else default_reply(body, index)
    structured = _structured(body, reply, turn.text)
    if structured is None:
        return reply
    if habits.flaky_structured_output and structured.content:
        cut = structured.content[: len(structured.content) // 2]
        return Reply(reasoning=structured.reasoning, content=cut)
    return structured
