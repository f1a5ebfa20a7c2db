"""A chat-completions body -> the harmony messages a given vLLM release renders (pure).

vLLM turns the request into harmony messages (its own system message, a developer
message with the tools, one or more messages per chat message) and openai-harmony
renders them into the prompt tokens. This module reproduces the first step, release
by release (protocol.md §2.d, checked against vllm-golden/requests/X.json); the
rendering itself is openai-harmony's, in `_tokens`.

The messages here are plain frozen dataclasses, so this module needs nothing beyond
the standard library; `_tokens` turns them into openai-harmony objects.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

Version = tuple[int, int, int]

# Where each rendering rule starts. Releases the golden files do not cover are
# placed by the changelog (protocol.md §2.0) or, marked "placed", between the two
# releases run that differ. The public ones are also rows of the emulator's
# release table (`testing/_releases.py`), which reads them from here.
_TOOL_AWARE_CHANNELS: Version = (0, 11, 1)  # placed: 0.11.0 drops commentary always
HISTORY_RULES: Version = (0, 13, 0)  # vllm#28729: ids, reasoning, final channel
_DEVELOPER_ONLY_WITH_TOOLS: Version = (0, 14, 0)
REASONING_KEY_ONLY: Version = (0, 16, 0)  # `reasoning_content` input ignored ...
REASONING_CONTENT_RENAMED: Version = (0, 22, 0)  # ... until a validator renames it
_ALL_CHANNELS: Version = (0, 17, 0)  # placed (vllm#32114): 0.16.0 strips, 0.20.1 not
INSTRUCTIONS: Version = (0, 23, 0)  # system/developer -> developer `# Instructions`
OLDEST: Version = (0, 10, 1)
"""The first vLLM release that serves gpt-oss chat completions."""

_ALL = ("analysis", "commentary", "final")
_NO_COMMENTARY = ("analysis", "final")
_VERSION = re.compile(r"v?(\d+)\.(\d+)(?:\.(\d+))?(?:[.+-]?[0-9A-Za-z.+-]*)?")


@dataclass(frozen=True, slots=True)
class Tool:
    """A function tool as harmony describes it to the model.

    `parameters` is the JSON schema as JSON text (None: no parameters), which
    keeps every message hashable, so counts can be cached per message.
    """

    name: str
    description: str
    parameters: str | None


@dataclass(frozen=True, slots=True)
class System:
    """vLLM's harmony system message: effort, date and the valid channels."""

    reasoning_effort: str
    date: str
    channels: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Developer:
    """A harmony developer message: instructions and/or function tools."""

    instructions: str | None = None
    tools: tuple[Tool, ...] = ()


@dataclass(frozen=True, slots=True)
class Frame:
    """One harmony message with text content (one text part per entry of `texts`).

    `name` is the author name (tool results: `functions.<tool>`); `channel`,
    `recipient` and `content_type` go into the message header.
    """

    role: str
    texts: tuple[str, ...]
    name: str | None = None
    channel: str | None = None
    recipient: str | None = None
    content_type: str | None = None


Message = System | Developer | Frame


def parse_version(text: str) -> Version:
    """Read a vLLM release such as `"0.13.0"`, `"0.11"` or `"0.10.1+gptoss"`.

    Raises:
        ValueError: For text that is not a version, or a release before gpt-oss.
    """
    match = _VERSION.fullmatch(text.strip()) if isinstance(text, str) else None
    if match is None:
        msg = (
            f"vllm_version must be a vLLM release like '0.13.0', got {text!r}. "
            "Use the version TIR runs (`vllm --version` on the server), or leave "
            "the default."
        )
        raise ValueError(msg)
    major, minor, patch = match.groups()
    version = (int(major), int(minor), int(patch or 0))
    if version < OLDEST:
        msg = (
            f"vllm_version {text!r} predates gpt-oss support in vLLM (0.10.1); "
            "give the release TIR runs, 0.10.1 or later."
        )
        raise ValueError(msg)
    return version


def body_to_messages(
    body: Mapping[str, Any], version: Version, date: str
) -> list[Message]:
    """The harmony messages vLLM `version` builds for a chat-completions `body`.

    `date` is the server's current date, `YYYY-MM-DD`. Rendered, the messages are
    followed by `<|start|>assistant` (the turn the model completes).
    """
    chat = list(body.get("messages") or [])
    raw_tools = body.get("tools")
    tools = tuple(_tool(tool) for tool in raw_tools or () if _is_function(tool))
    instructions: str | None = None
    if version >= INSTRUCTIONS and chat and chat[0].get("role") in _INSTRUCTION_ROLES:
        instructions = _flatten(chat[0].get("content"))
        chat = chat[1:]
    messages: list[Message] = [
        System(
            reasoning_effort=body.get("reasoning_effort") or "medium",
            date=date,
            channels=_channels(version, has_tools_key=raw_tools is not None),
        )
    ]
    if version < _DEVELOPER_ONLY_WITH_TOOLS or tools or instructions:
        messages.append(Developer(instructions=instructions or None, tools=tools))
    if version < HISTORY_RULES:
        messages.extend(_early_history(chat, version))
    else:
        messages.extend(_drop_old_analysis(_history(chat, version)))
    return messages


_INSTRUCTION_ROLES = ("system", "developer")


def _channels(version: Version, *, has_tools_key: bool) -> tuple[str, ...]:
    """Valid channels: vLLM drops `commentary` without tools until 0.17."""
    if version >= _ALL_CHANNELS:
        return _ALL
    if version >= _TOOL_AWARE_CHANNELS and has_tools_key:
        return _ALL
    return _NO_COMMENTARY


def _is_function(tool: Any) -> bool:
    return isinstance(tool, dict) and tool.get("type", "function") == "function"


def _tool(tool: Mapping[str, Any]) -> Tool:
    function = tool.get("function") or {}
    parameters = function.get("parameters")
    # Before 0.24 vLLM refuses a tool without a description; later ones use "".
    return Tool(
        name=str(function.get("name") or ""),
        description=str(function.get("description") or ""),
        parameters=None if parameters is None else json.dumps(parameters),
    )


def _texts(content: Any) -> tuple[str, ...]:
    """A user/system/assistant `content` as vLLM keeps it: one text per part."""
    if content is None:
        return ("",)
    if isinstance(content, str):
        return (content,)
    return tuple(
        str(part.get("text", "")) for part in content if isinstance(part, dict)
    )


def _flatten(content: Any) -> str | None:
    """`content` joined into one string (tool results, instructions, preambles)."""
    if content is None or isinstance(content, str):
        return content
    parts = [
        part if isinstance(part, str) else str(part.get("text", ""))
        for part in content
        if isinstance(part, str) or (isinstance(part, dict) and "text" in part)
    ]
    return "".join(parts) if parts else None


def _calls(message: Mapping[str, Any]) -> list[Frame]:
    frames = []
    for call in message.get("tool_calls") or []:
        function = call.get("function") or {}
        frames.append(
            Frame(
                role="assistant",
                texts=(str(function.get("arguments") or ""),),
                channel="commentary",
                recipient=f"functions.{function.get('name') or ''}",
                content_type="json",
            )
        )
    return frames


def _early_history(chat: Sequence[Mapping[str, Any]], version: Version) -> list[Frame]:
    """0.10.1-0.12.x: calls without their text or reasoning, tools by `name`."""
    del version  # one rule set for the whole span
    frames: list[Frame] = []
    for message in chat:
        role = message.get("role")
        if role == "assistant" and message.get("tool_calls"):
            frames.extend(_calls(message))
        elif role == "tool":
            frames.append(
                Frame(
                    role="tool",
                    texts=(_flatten(message.get("content")) or "",),
                    name=f"functions.{message.get('name') or ''}",
                    channel="commentary",
                )
            )
        else:
            # Assistant text has no channel yet; reasoning is ignored.
            frames.append(Frame(role=str(role), texts=_texts(message.get("content"))))
    return frames


def _reasoning(message: Mapping[str, Any], version: Version) -> str | None:
    reasoning = message.get("reasoning")
    if REASONING_KEY_ONLY <= version < REASONING_CONTENT_RENAMED:
        return reasoning if isinstance(reasoning, str) else None
    found = reasoning or message.get("reasoning_content")
    return found if isinstance(found, str) else None


def _history(chat: Sequence[Mapping[str, Any]], version: Version) -> list[Message]:
    """0.13 on: reasoning and preambles replayed, tool results found by call id."""
    names = {
        call.get("id"): (call.get("function") or {}).get("name")
        for message in chat
        for call in message.get("tool_calls") or []
    }
    frames: list[Message] = []
    for message in chat:
        role = message.get("role")
        reasoning = _reasoning(message, version)
        analysis = Frame(role="assistant", texts=(reasoning or "",), channel="analysis")
        if role == "assistant" and message.get("tool_calls"):
            preamble = _flatten(message.get("content"))
            if preamble:
                frames.append(
                    Frame(role="assistant", texts=(preamble,), channel="commentary")
                )
            if reasoning:
                frames.append(analysis)
            frames.extend(_calls(message))
        elif role == "tool":
            name = names.get(message.get("tool_call_id", "")) or ""
            frames.append(
                Frame(
                    role="tool",
                    texts=(_flatten(message.get("content")) or "",),
                    name=f"functions.{name}",
                    channel="commentary",
                    recipient="assistant",
                )
            )
        elif role == "assistant":
            if reasoning:
                frames.append(analysis)
            texts = _texts(message.get("content") or "")
            # vLLM tests the first part only.
            if texts and texts[0]:
                frames.append(Frame(role="assistant", texts=texts, channel="final"))
        elif role in _INSTRUCTION_ROLES and version >= INSTRUCTIONS:
            text = _flatten(message.get("content"))
            if text is not None:
                frames.append(Developer(instructions=text))
        else:
            frames.append(Frame(role=str(role), texts=_texts(message.get("content"))))
    return frames


def _drop_old_analysis(messages: list[Message]) -> list[Message]:
    """Drop the reasoning that precedes the last assistant `final` message."""
    last_final = max(
        (
            index
            for index, message in enumerate(messages)
            if isinstance(message, Frame)
            and message.role == "assistant"
            and message.channel == "final"
        ),
        default=-1,
    )
    return [
        message
        for index, message in enumerate(messages)
        if not (
            index < last_final
            and isinstance(message, Frame)
            and message.channel == "analysis"
        )
    ]
