"""LangChain messages -> chat-completions messages: roles, blocks, calls (pure)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from langchain_core.messages.ai import AIMessage
from langchain_core.messages.base import BaseMessage
from langchain_core.messages.chat import ChatMessage
from langchain_core.messages.human import HumanMessage
from langchain_core.messages.system import SystemMessage
from langchain_core.messages.tool import ToolMessage

from langchain_gptoss._json import strict_dumps

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

# Content blocks (langchain_core.messages.content, its block translators, and
# langchain_core.tools' TOOL_MESSAGE_BLOCK_TYPES) are sent as their text:
#   text -> its text; refusal -> its refusal text; json -> its value as compact
#   JSON; search_result (Anthropic) -> title, source and url, then its text;
#   non_standard -> the wrapped block if it is one of these, else its text.
# Dropped, as they hold no text for the model:
#   - reasoning and tool-call echoes the message carries elsewhere
#     (additional_kwargs, tool_calls): tool_use, tool_call, tool_call_chunk,
#     invalid_tool_call, function_call, thinking, redacted_thinking, reasoning,
#     reasoning_content;
#   - calls and results of tools the provider ran itself: server_tool_call,
#     server_tool_call_chunk, server_tool_result;
#   - annotations on their own (citation, non_standard_annotation): the text
#     they cite is in the block they annotate;
#   - non_standard blocks without text, and empty refusals;
#   - every key riding on a block besides its text: citations, annotations,
#     cache_control, extras (prompt_cache_breakpoint), id, index.
_SILENT_BLOCKS = frozenset(
    {
        "tool_use",
        "tool_call",
        "tool_call_chunk",
        "invalid_tool_call",
        "function_call",
        "server_tool_call",
        "server_tool_call_chunk",
        "server_tool_result",
        "thinking",
        "redacted_thinking",
        "reasoning",
        "reasoning_content",
        "citation",
        "non_standard_annotation",
    }
)


_TEXT_BLOCKS = frozenset({"text", "refusal", "json", "search_result"})


# gpt-oss-120b reads text only: langchain_core's data blocks (image, audio, video,
# file, text-plain) and the OpenAI forms (image_url, input_audio, file, and
# input_image and input_file of the Responses API), Anthropic's document and
# Vertex AI's media are refused.
_MEDIA_BLOCKS = frozenset(
    {
        "image",
        "audio",
        "video",
        "file",
        "text-plain",
        "image_url",
        "input_audio",
        "input_image",
        "input_file",
        "document",
        "media",
    }
)


_KNOWN_BLOCKS = _TEXT_BLOCKS | _MEDIA_BLOCKS | _SILENT_BLOCKS


_REASONING_KEY = "reasoning_content"


def messages_to_wire(messages: Sequence[BaseMessage]) -> list[dict[str, Any]]:
    """Convert a conversation, giving each tool result the name of its call."""
    tool_names: dict[str, str] = {}
    wire = []
    for position, message in enumerate(messages):
        if isinstance(message, AIMessage):
            for call in message.tool_calls:
                if call.get("id"):
                    tool_names[call["id"] or ""] = call["name"]
        try:
            wire.append(_message_to_wire(message, tool_names))
        except ValueError as exc:
            msg = f"messages[{position}] ({message.type}): {exc}"
            raise ValueError(msg) from exc
    return wire


def _message_to_wire(
    message: BaseMessage, tool_names: Mapping[str, str]
) -> dict[str, Any]:
    if isinstance(message, HumanMessage):
        return _with_name(
            {"role": "user", "content": _text_content(message.content)}, message
        )
    if isinstance(message, SystemMessage):
        return _with_name(
            {"role": "system", "content": _text_content(message.content)}, message
        )
    if isinstance(message, AIMessage):
        return _assistant_to_wire(message)
    if isinstance(message, ToolMessage):
        name = message.name or tool_names.get(message.tool_call_id)
        wire = {
            "role": "tool",
            "tool_call_id": message.tool_call_id,
            "content": _tool_content(message.content),
        }
        if name:
            wire["name"] = name
        return wire
    if isinstance(message, ChatMessage):
        return _with_name(
            {"role": message.role, "content": _text_content(message.content)}, message
        )
    msg = (
        f"{type(message).__name__} is not supported; use SystemMessage, HumanMessage, "
        "AIMessage or ToolMessage."
    )
    raise ValueError(msg)


def _arguments_json(args: dict[str, Any], index: int) -> str:
    """A tool call's arguments as the JSON string the wire carries."""
    return strict_dumps(
        args,
        lambda where, number: (
            f"Cannot send the conversation: tool call {index} of an AIMessage has "
            f"{number!r} at args.{where}, and JSON has no NaN or infinity."
        ),
    )


def _assistant_to_wire(message: AIMessage) -> dict[str, Any]:
    text = _text_content(message.content)
    calls = [
        _tool_call(call["id"], call["name"], _arguments_json(call["args"], index))
        for index, call in enumerate(message.tool_calls)
    ]
    calls.extend(
        _tool_call(call.get("id"), call.get("name"), call.get("args"))
        for call in message.invalid_tool_calls
    )
    wire: dict[str, Any] = {"role": "assistant", "content": text}
    if calls:
        wire["tool_calls"] = calls
        if not text:
            wire["content"] = None
    reasoning = message.additional_kwargs.get(_REASONING_KEY) or _reasoning_blocks(
        message.content
    )
    if reasoning:
        # vLLM reads `reasoning` now and read `reasoning_content` before; some
        # builds dropped one of them, so both go back.
        wire["reasoning"] = reasoning
        wire["reasoning_content"] = reasoning
    return _with_name(wire, message)


def _tool_call(
    call_id: str | None, name: str | None, arguments: str | None
) -> dict[str, Any]:
    return {
        "id": call_id or "",
        "type": "function",
        "function": {"name": name or "", "arguments": arguments or ""},
    }


def _with_name(wire: dict[str, Any], message: BaseMessage) -> dict[str, Any]:
    if message.name:
        wire["name"] = message.name
    return wire


def _text_content(content: str | list[str | dict[str, Any]]) -> Any:
    """Keep the text of `content`: a string, or a list of text parts."""
    if isinstance(content, str):
        return content
    parts = _text_parts(content)
    if len(parts) == 1:
        return parts[0]
    return [{"type": "text", "text": part} for part in parts] if parts else ""


# vLLM 0.10.2 and 0.11.0 refuse list content in a tool message, and 0.11.1+ glue
# the parts with "" (`rain: yes` + `temp: 4C` -> `rain: yestemp: 4C`): a tool's
# content goes as one string, its parts a newline apart (as MCP tools mean their
# blocks, and as langchain_core's convert_to_openai_messages joins them).
_TOOL_PART_SEPARATOR = "\n"


def _tool_content(content: str | list[str | dict[str, Any]]) -> str:
    """A tool result's text as one string."""
    if isinstance(content, str):
        return content
    return _TOOL_PART_SEPARATOR.join(_text_parts(content))


def _text_parts(content: list[str | dict[str, Any]]) -> list[str]:
    """The text of each block of `content` that carries any, in order."""
    parts = []
    for block in content:
        text = block if isinstance(block, str) else _block_text(block)
        if text is not None:
            parts.append(text)
    return parts


def _block_text(block: dict[str, Any]) -> str | None:
    """The text one content block carries for the model (None: it carries none).

    Raises:
        ValueError: For media, a `json` block that is not JSON, or a block type
            gpt-oss cannot read.
    """
    kind = block.get("type")
    if not isinstance(kind, str):
        msg = f"a content block needs a 'type' naming what it holds, got {kind!r}."
        raise ValueError(msg)  # noqa: TRY004 - as every other content check
    if kind == "text":
        return str(block.get("text") or "")
    if kind == "refusal":
        return block.get("refusal") or None
    if kind == "json":
        return _json_block_text(block)
    if kind == "search_result":
        return _search_result_text(block)
    if kind == "non_standard":
        value = block.get("value")
        if not isinstance(value, dict):
            return None
        inner = value.get("type")
        if isinstance(inner, str) and inner in _KNOWN_BLOCKS:
            return _block_text(value)
        text = value.get("text")
        return text if isinstance(text, str) and text else None
    if kind in _SILENT_BLOCKS:
        return None
    if kind in _MEDIA_BLOCKS:
        msg = (
            f"a {kind!r} content block cannot be sent: gpt-oss-120b reads text "
            "only. Describe the media in text instead."
        )
        raise ValueError(msg)
    msg = (
        f"unsupported content block type {kind!r}; gpt-oss-120b takes text, "
        "refusal, json and search_result blocks ({'type': 'text', 'text': ...})."
    )
    raise ValueError(msg)


def _json_block_text(block: dict[str, Any]) -> str:
    if "json" not in block:
        msg = "a 'json' content block needs its value under 'json'."
        raise ValueError(msg)
    return strict_dumps(
        block["json"],
        lambda where, number: (
            f"a 'json' content block has {number!r} at "
            f"{f'json.{where}' if where else 'json'}, and JSON has no NaN or "
            "infinity: use a finite number, or null."
        ),
        separators=(",", ":"),
    )


def _search_result_text(block: dict[str, Any]) -> str:
    """An Anthropic-style search result: who found it where, then its text."""
    lines = [
        f"{label}: {block[key]}"
        for key, label in (("title", "Title"), ("source", "Source"), ("url", "URL"))
        if isinstance(block.get(key), str) and block[key]
    ]
    content = block.get("content")
    if isinstance(content, str):
        lines.append(content)
    elif isinstance(content, list):
        lines.extend(_text_parts(content))
    return "\n".join(lines)


def _reasoning_blocks(content: str | list[str | dict[str, Any]]) -> str:
    """Reasoning stored as standard content blocks (`output_version="v1"`)."""
    if isinstance(content, str):
        return ""
    return "".join(
        block.get("reasoning", "")
        for block in content
        if isinstance(block, dict) and block.get("type") == "reasoning"
    )
