"""Tool names on the wire, and back (pure).

Harmony renders each tool as a TypeScript declaration, `type <name> = (_: {...})
=> any;`, and the model calls it as `to=functions.<name>`. vLLM and harmony pass
any name through (`github.create_issue` renders as `type github.create_issue`),
but a name that is not an identifier is not what gpt-oss was trained to read and
repeat; such names have been reported to break the model's call headers
(vllm#23567, `to=functions.web-browsing`). MCP allows `.` and `-` in names, so
they are renamed for the wire only: each unsafe name gets an identifier unique
among the request's tools, and the calls that come back carry the original name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_UNSAFE = re.compile(r"[^A-Za-z0-9_]")


def is_safe(name: str) -> bool:
    """Whether `name` can go on the wire as it is."""
    return _IDENTIFIER.fullmatch(name) is not None


def _identifier(name: str) -> str:
    base = _UNSAFE.sub("_", name)
    return base if base[:1].isalpha() or base[:1] == "_" else f"_{base}"


@dataclass(frozen=True, slots=True)
class ToolNames:
    """The renames of one request's tools: user name <-> wire name."""

    to_wire: Mapping[str, str]
    to_user: Mapping[str, str]

    @classmethod
    def of(cls, names: Iterable[str]) -> ToolNames | None:
        """The renames for tools called `names`; None when none is needed."""
        names = list(dict.fromkeys(names))
        unsafe = [name for name in names if not is_safe(name)]
        if not unsafe:
            return None
        taken = {name for name in names if is_safe(name)}
        to_wire: dict[str, str] = {}
        for name in unsafe:
            base = candidate = _identifier(name)
            suffix = 2
            while candidate in taken:
                candidate = f"{base}_{suffix}"
                suffix += 1
            taken.add(candidate)
            to_wire[name] = candidate
        return cls(to_wire, {wire: user for user, wire in to_wire.items()})

    def wire(self, name: str) -> str:
        """The name to send for `name` (history may name tools no longer bound)."""
        found = self.to_wire.get(name)
        if found is not None:
            return found
        return name if is_safe(name) or not name else _identifier(name)

    def user(self, name: str | None) -> str | None:
        """The name a call that came back under `name` has for the user."""
        return None if name is None else self.to_user.get(name, name)


def wire_names(body: Mapping[str, Any]) -> ToolNames | None:
    """The renames `body` needs: for its tools and the tools its history names."""
    names = [
        str(tool["function"]["name"])
        for tool in body.get("tools") or ()
        if isinstance(tool, dict) and isinstance(tool.get("function"), dict)
    ]
    for message in body["messages"]:
        if message.get("role") == "tool" and message.get("name"):
            names.append(str(message["name"]))
        names.extend(
            str((call.get("function") or {}).get("name") or "")
            for call in message.get("tool_calls") or ()
        )
    return ToolNames.of(name for name in names if name)


def rename_body(body: dict[str, Any], names: ToolNames) -> None:
    """Put wire names into `body` in place: tools, tool_choice and the history."""
    if "tools" in body:
        body["tools"] = [_renamed_tool(tool, names) for tool in body["tools"]]
    choice = body.get("tool_choice")
    if isinstance(choice, dict) and isinstance(choice.get("function"), dict):
        function = choice["function"]
        body["tool_choice"] = {
            **choice,
            "function": {**function, "name": names.wire(str(function.get("name")))},
        }
    body["messages"] = [_renamed_message(m, names) for m in body["messages"]]


def _renamed_tool(tool: dict[str, Any], names: ToolNames) -> dict[str, Any]:
    function = tool.get("function")
    if not isinstance(function, dict) or not isinstance(function.get("name"), str):
        return tool
    return {**tool, "function": {**function, "name": names.wire(function["name"])}}


def _renamed_message(message: dict[str, Any], names: ToolNames) -> dict[str, Any]:
    if message.get("role") == "tool" and isinstance(message.get("name"), str):
        return {**message, "name": names.wire(message["name"])}
    calls = message.get("tool_calls")
    if message.get("role") != "assistant" or not calls:
        return message
    renamed = []
    for call in calls:
        function = call.get("function") or {}
        name = function.get("name")
        if isinstance(name, str):
            call = {**call, "function": {**function, "name": names.wire(name)}}  # noqa: PLW2901
        renamed.append(call)
    return {**message, "tool_calls": renamed}
