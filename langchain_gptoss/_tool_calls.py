"""Tool calls in answers and streams -> LangChain calls, vLLM's quirks undone (pure)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from langchain_core.messages.content import InvalidToolCall
from langchain_core.messages.tool import (
    ToolCall,
    ToolCallChunk,
    invalid_tool_call,
    tool_call,
    tool_call_chunk,
)

if TYPE_CHECKING:
    from langchain_gptoss._names import ToolNames
    from langchain_gptoss._redact import Redactor


@dataclass(slots=True)
class CallTracker:
    """The tool calls one stream has opened, and their arguments so far.

    Attributes:
        opened: Tool-call indexes that arrived with an id or a name.
        last_opened: The index opened most recently.
        arguments: Each call's argument fragments so far, by index, to check
            at the finish that they add up to JSON.
        callers: Each call's name and id, by index, for the error about it.
    """

    opened: set[int] = field(default_factory=set)
    last_opened: int | None = None
    arguments: dict[int, list[str]] = field(default_factory=dict)
    callers: dict[int, tuple[str | None, str | None]] = field(default_factory=dict)


def tool_calls_from_wire(
    raw_calls: list[dict[str, Any]] | None, names: ToolNames | None = None
) -> tuple[list[ToolCall], list[InvalidToolCall]]:
    """Parse `message.tool_calls`; unparsable arguments become invalid calls.

    `names` gives calls of tools renamed for the wire their own names back.
    """
    calls: list[ToolCall] = []
    invalid: list[InvalidToolCall] = []
    for raw in raw_calls or ():
        function = raw.get("function") or {}
        name, arguments, call_id = (
            function.get("name"),
            function.get("arguments"),
            raw.get("id"),
        )
        if names is not None:
            name = names.user(name)
        try:
            args = json.loads(arguments) if arguments and arguments.strip() else {}
        except (TypeError, ValueError, RecursionError) as exc:
            invalid.append(
                invalid_tool_call(name=name, args=arguments, id=call_id, error=str(exc))
            )
            continue
        if args is None:
            args = {}
        if not isinstance(args, dict):
            error = f"arguments must be a JSON object, got {type(args).__name__}"
            invalid.append(
                invalid_tool_call(name=name, args=arguments, id=call_id, error=error)
            )
            continue
        calls.append(tool_call(name=name or "", args=args, id=call_id))
    return calls, invalid


def is_leaked_arguments(content: str, raw_calls: list[dict[str, Any]]) -> bool:
    """Whether `content` is a copy of the arguments (a vLLM 0.10.2 bug, #25560)."""
    text = content.strip()
    if not text.startswith("{"):
        return False
    leaked = [(c.get("function") or {}).get("arguments") or "" for c in raw_calls]
    if text in leaked or text == "".join(leaked):
        return True
    try:
        shown = json.loads(text)
        return any(shown == json.loads(args) for args in leaked if args)
    except (ValueError, RecursionError):
        return False


def tool_call_chunks_from_delta(
    entries: list[dict[str, Any]], state: CallTracker, names: ToolNames | None
) -> list[ToolCallChunk]:
    """Turn a delta's `tool_calls` into chunks, undoing vLLM's streaming quirks.

    One delta may hold an opener and a fragment under the same index: they are
    merged into one chunk. A fragment under an index that was never opened (no
    id, no name) belongs to the call opened last: vLLM counts a call that is
    finishing and labels its last fragment with the next index.
    """
    merged: dict[int, dict[str, Any]] = {}
    for entry in entries:
        function = entry.get("function") or {}
        index = entry.get("index", 0)
        if entry.get("id") or function.get("name"):
            state.opened.add(index)
            state.last_opened = index
        elif index not in state.opened:
            if state.last_opened is None:
                state.opened.add(index)
                state.last_opened = index
            else:
                index = state.last_opened
        part = merged.setdefault(index, {"id": None, "name": None, "args": ""})
        part["id"] = part["id"] or entry.get("id")
        if function.get("name") and not part["name"]:
            name = function["name"]
            part["name"] = name if names is None else names.user(name)
        part["args"] += function.get("arguments") or ""
    for index, part in merged.items():
        state.arguments.setdefault(index, []).append(part["args"])
        if index not in state.callers or part["name"] or part["id"]:
            known = state.callers.get(index, (None, None))
            state.callers[index] = (part["name"] or known[0], part["id"] or known[1])
    return [
        tool_call_chunk(name=p["name"], args=p["args"], id=p["id"], index=i)
        for i, p in merged.items()
    ]


LOST_ARGUMENTS_KEY = "tool_call_errors"
_LOST_MARK = " <- incomplete arguments"
_SHOWN_ARGUMENTS = 1000  # characters of the arguments quoted in the error


def _lost_arguments_error(name: str | None, call_id: str | None, shown: str) -> str:
    """The error for a call whose arguments do not add up; `shown` quotes them."""
    return (
        f"The server lost part of the arguments of tool call {name!r} (id "
        f"{call_id}): the stream ended with arguments {shown}, which are not "
        "complete JSON. This is a known vLLM bug (releases up to 0.14) when the "
        "engine emits several tokens per step. Retry the request (non-streaming "
        "calls are not affected), or upgrade the server's vLLM."
    )


def _breaking_suffix(args: str) -> str:
    """Text that, appended to `args`, stops LangChain parsing them as a call.

    `parse_partial_json` closes open strings and brackets, but gives up on a
    closing bracket that does not match the innermost open one. The suffix
    closes an open string and adds such a bracket (a unit test pins this).
    """
    stack: list[str] = []
    in_string = escaped = False
    for char in args:
        if in_string:
            if char == '"' and not escaped:
                in_string = False
            escaped = char == "\\" and not escaped
        elif char == '"':
            in_string = True
        elif char in "{[":
            stack.append("}" if char == "{" else "]")
        elif char in "}]" and stack and stack[-1] == char:
            stack.pop()
    closing = ("x" if escaped else "") + '"' if in_string else ""
    bracket = "]" if stack and stack[-1] == "}" else "}"
    return closing + bracket + _LOST_MARK


def close_tool_calls(
    calls: list[ToolCallChunk], state: CallTracker, redact: Redactor
) -> tuple[list[ToolCallChunk], list[InvalidToolCall]]:
    """At the finish: calls whose arguments are not JSON are made invalid.

    vLLM <= 0.14 drops argument text with several tokens per engine step, and
    LangChain would close `{"city":"` into a valid call. Such a call gets a
    chunk that makes LangChain's merge list it in `invalid_tool_calls`; the
    error text goes to the caller for `response_metadata` (chunk merging
    rebuilds invalid calls without their `error`).
    """
    errors: list[InvalidToolCall] = []
    by_index = {c["index"]: c for c in calls}
    for index, fragments in state.arguments.items():
        args = "".join(fragments)
        if not args.strip() or _is_json(args):
            continue
        name, call_id = state.callers.get(index, (None, None))
        shown = redact.excerpt(repr(args), _SHOWN_ARGUMENTS)
        error = _lost_arguments_error(name, call_id, shown)
        errors.append(invalid_tool_call(name=name, args=args, id=call_id, error=error))
        suffix = _breaking_suffix(args)
        if index in by_index:
            by_index[index]["args"] = (by_index[index]["args"] or "") + suffix
        else:
            calls = [*calls, tool_call_chunk(args=suffix, index=index)]
    state.arguments.clear()
    return calls, errors


def _is_json(text: str) -> bool:
    """Whether `text` is whole JSON (raw control characters allowed, as core).

    Nesting too deep to decode counts as whole: nothing says text was lost, and
    core lists such a call as invalid anyway.
    """
    try:
        json.loads(text, strict=False)
    except ValueError:
        return False
    except RecursionError:
        return True
    return True
