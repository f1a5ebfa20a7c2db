"""LangChain messages and settings -> a chat-completions request body (pure)."""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any

from langchain_core.messages.ai import AIMessage
from langchain_core.messages.base import BaseMessage
from langchain_core.messages.chat import ChatMessage
from langchain_core.messages.human import HumanMessage
from langchain_core.messages.system import SystemMessage
from langchain_core.messages.tool import ToolMessage
from langchain_core.utils.function_calling import convert_to_openai_tool

from langchain_gptoss._endpoint import check_model

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

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


def format_tools(
    tools: Sequence[Any], *, strict: bool | None = None
) -> list[dict[str, Any]]:
    """Convert tools to the wire's function form.

    Names are kept as given; `_names` renames the unsafe ones on the wire.

    Raises:
        ValueError: For a tool gpt-oss cannot call.
    """
    formatted = [convert_to_openai_tool(tool, strict=strict) for tool in tools]
    for tool in formatted:
        if tool.get("type") != "function":
            msg = f"Only function tools can be bound to gpt-oss on TIR; got {tool!r}."
            raise ValueError(msg)
    return [_with_description(tool) for tool in formatted]


def _with_description(tool: Any) -> Any:
    """`tool`, its function given `"description": ""` if it has none.

    The field is optional in OpenAI's API, but vLLM 0.10.2-0.23 refuse a tool
    without it (harmony's ToolDescription needs a string). `tool` is not changed.
    """
    function = tool.get("function") if isinstance(tool, dict) else None
    if not isinstance(function, dict) or function.get("description") is not None:
        return tool
    return {**tool, "function": {**function, "description": ""}}


def tool_choice_to_wire(choice: Any, tools: Sequence[dict[str, Any]]) -> Any:
    """Map LangChain's tool_choice forms onto the wire's.

    Raises:
        ValueError: For a name that is not among `tools`, or `True` with several.
    """
    names = [tool["function"]["name"] for tool in tools]
    if choice is True:
        if len(names) != 1:
            msg = (
                f"tool_choice=True needs exactly one tool, got {len(names)}: name one."
            )
            raise ValueError(msg)
        choice = names[0]
    if choice == "any":
        return "required"
    if isinstance(choice, dict) or choice in {"auto", "none", "required"}:
        return choice
    if isinstance(choice, str):
        if choice not in names:
            msg = f"tool_choice {choice!r} is not one of the bound tools {names}."
            raise ValueError(msg)
        return {"type": "function", "function": {"name": choice}}
    msg = (
        f"Unsupported tool_choice {choice!r}: use 'auto', 'none', 'required', "
        "'any', True, a tool name or a dict."
    )
    raise ValueError(msg)


_EFFORTS = ("low", "medium", "high")


def check_params(params: Mapping[str, Any], *, stream: bool) -> None:
    """Refuse settings the server would reject, before anything is sent.

    Per-call overrides skip the constructor's validation, so they are checked
    here as well.

    Raises:
        ValueError: Naming the setting, the value and what is allowed.
    """
    # The model names a path segment of the URL the token is sent to.
    check_model(params.get("model"))
    effort = params.get("reasoning_effort")
    if effort is not None and effort not in _EFFORTS:
        msg = f"reasoning_effort must be one of {_EFFORTS}, got {effort!r}."
        raise ValueError(msg)
    for key in ("max_tokens", "max_completion_tokens", "n"):
        value = params.get(key)
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int) or value < 1
        ):
            msg = f"{key} must be a whole number of at least 1, got {value!r}."
            raise ValueError(msg)
    _check_range(params, "temperature", 0.0, 2.0, low_open=False)
    _check_range(params, "top_p", 0.0, 1.0, low_open=True)
    for key in ("frequency_penalty", "presence_penalty"):
        value = params.get(key)
        if value is not None and not _is_finite_number(value):
            msg = f"{key} must be a finite number, got {value!r}."
            raise ValueError(msg)
    if stream and (params.get("n") or 1) > 1:
        msg = "n > 1 cannot be streamed (the choices would interleave); use invoke."
        raise ValueError(msg)


def _check_range(
    params: Mapping[str, Any], key: str, low: float, high: float, *, low_open: bool
) -> None:
    value = params.get(key)
    if value is None:
        return
    # NaN compares false with everything, so only a finiteness test catches it.
    if (
        not _is_finite_number(value)
        or value > high
        or value < low
        or (low_open and value == low)
    ):
        bracket = "(" if low_open else "["
        msg = f"{key} must be a number in {bracket}{low:g}, {high:g}], got {value!r}."
        raise ValueError(msg)


def _is_finite_number(value: object) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
    )


def find_non_finite(value: Any) -> tuple[str, float] | None:
    """Return where (a dotted path) and what the first NaN or infinity in `value` is.

    Only dicts, lists and tuples are searched (what `json.dumps` walks); a
    container met again on the way down is skipped, as `json.dumps` refuses it.
    """
    return _find_non_finite(value, "", set())


def _find_non_finite(value: Any, path: str, seen: set[int]) -> tuple[str, float] | None:
    if isinstance(value, float):
        return None if math.isfinite(value) else (path, value)
    if id(value) in seen:
        return None
    if isinstance(value, dict):
        items: Any = (
            (f"{path}.{key}" if path else str(key), v) for key, v in value.items()
        )
    elif isinstance(value, list | tuple):
        items = ((f"{path}[{index}]", v) for index, v in enumerate(value))
    else:
        return None
    seen.add(id(value))
    for where, item in items:
        found = _find_non_finite(item, where, seen)
        if found is not None:
            return found
    seen.discard(id(value))
    return None


def _json(value: Any, explain: Callable[[str, float], str], **options: Any) -> str:
    """`json.dumps(value)`, refusing NaN and infinity, which are not JSON.

    Raises:
        ValueError: With `explain(where, number)` for the first one found.
    """
    try:
        return json.dumps(value, ensure_ascii=False, allow_nan=False, **options)
    except ValueError:
        found = find_non_finite(value)
        if found is None:
            raise
    raise ValueError(explain(*found))


def encode_body(body: Mapping[str, Any]) -> bytes:
    """Serialise a request body as compact UTF-8 JSON.

    Raises:
        ValueError: For a NaN or infinity anywhere in it, naming where.
    """
    return _json(
        body,
        lambda where, number: (
            f"Cannot send the request: {where} is {number!r}, and JSON has no NaN "
            "or infinity. Use a finite number, or leave the setting out."
        ),
        separators=(",", ":"),
    ).encode()


# Keys extra_body may not set: the URL names the model and the answer is read as
# a stream or not by `stream`, so the body must agree with both.
_CLIENT_KEYS = ("model", "stream")


def merge_extra_body(*layers: Any) -> dict[str, Any]:
    """Merge `extra_body` dicts (None skipped); a later layer's keys win.

    Raises:
        ValueError: For a layer that is not a dict, holds NaN or infinity, or
            sets `model` or `stream`.
    """
    merged: dict[str, Any] = {}
    for layer in layers:
        if layer is not None:
            check_extra_body(layer)
            merged.update(layer)
    return merged


def check_extra_body(value: Any) -> None:
    """Refuse an `extra_body` that cannot be merged into the request body.

    Raises:
        ValueError: Saying what is wrong and what to do instead.
    """
    if not isinstance(value, dict):
        msg = (
            "extra_body must be a dict of request body fields, e.g. "
            f"{{'top_k': 20}}; got {type(value).__name__}."
        )
        raise ValueError(msg)  # noqa: TRY004 - as every other setting check
    found = find_non_finite(value)
    if found is not None:
        where, number = found
        msg = (
            f"extra_body has {number!r} at {where}, and JSON has no NaN or "
            "infinity: use a finite number, or leave the key out."
        )
        raise ValueError(msg)
    for key in _CLIENT_KEYS:
        if key in value:
            msg = (
                f"extra_body cannot set {key!r}: use the model's `model` setting, "
                "or `stream()` / `streaming=True`, which the client follows too."
            )
            raise ValueError(msg)


def build_request_body(
    messages: Sequence[BaseMessage],
    params: Mapping[str, Any],
    *,
    stream: bool,
    stream_usage: bool,
    extra_body: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Return the JSON body for `/chat/completions`.

    `params` are the sampling settings with per-call overrides already applied;
    keys whose value is None are not sent. `extra_body` is merged into the top
    level last, over everything else, and sent as given (the OpenAI SDK's rule).

    Raises:
        ValueError: For messages gpt-oss cannot take (media, unknown blocks).
    """
    if not messages:
        msg = "No messages to send: pass at least one message."
        raise ValueError(msg)
    body: dict[str, Any] = {"messages": messages_to_wire(messages)}
    body.update((key, value) for key, value in params.items() if value is not None)
    tools = body.get("tools")
    if isinstance(tools, list | tuple) and not tools:
        # vLLM >= 0.20 refuses `tools: []` (and every release a tool_choice without
        # tools); leaving both out is what an empty list means.
        body.pop("tools")
        body.pop("tool_choice", None)
    elif isinstance(tools, list | tuple):
        # Tools given per call or in model_kwargs skip format_tools.
        body["tools"] = [_with_description(tool) for tool in tools]
    if body.get("tool_choice") == "none":
        # Harmony builds before vllm#30867 still offer (and call) the tools.
        body.pop("tool_choice")
        body.pop("tools", None)
    if stream:
        body["stream"] = True
        if stream_usage:
            body["stream_options"] = {"include_usage": True}
    body.update(extra_body or {})
    return body


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
    return _json(
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
    return _json(
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
