"""Settings, tools and messages -> the request body as sent, checked (pure)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from langchain_core.messages.base import BaseMessage
from langchain_core.utils.function_calling import convert_to_openai_tool

from langchain_gptoss._endpoint import check_model
from langchain_gptoss._json import find_non_finite, strict_dumps
from langchain_gptoss._messages import messages_to_wire
from langchain_gptoss._names import ToolNames, rename_body, wire_names

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

# Keyword arguments that steer the client rather than go into the request body
# as they are (extra_body is merged into it).
_CALL_OPTIONS = ("stream", "stream_usage", "extra_body")


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


def encode_body(body: Mapping[str, Any]) -> bytes:
    """Serialise a request body as compact UTF-8 JSON.

    Raises:
        ValueError: For a NaN or infinity anywhere in it, naming where.
    """
    return strict_dumps(
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


def wire_body(
    messages: Sequence[BaseMessage],
    params: dict[str, Any],
    *,
    stop: list[str] | None,
    stream: bool,
    stream_usage: bool,
    extra_body: dict[str, Any],
) -> tuple[dict[str, Any], dict[str, Any], ToolNames | None]:
    """The settings as sent, the body as sent, and the tool names renamed in it.

    `params` are the model's body fields with the call's keyword arguments
    over them (changed in place); `extra_body` is merged over them last. With
    no messages the body is only built to be counted.

    Raises:
        ValueError: For settings or messages that cannot be sent.
    """
    for option in _CALL_OPTIONS:
        params.pop(option, None)
    if stop:
        params["stop"] = stop
    # Checked (and sized) as sent: extra_body wins over the settings.
    sent = {**params, **extra_body}
    check_params(sent, stream=stream)
    if not messages:  # only counted (build_request_body refuses to send none)
        body = {"messages": [], **{k: v for k, v in sent.items() if v is not None}}
    else:
        body = build_request_body(
            messages,
            params,
            stream=stream,
            stream_usage=stream_usage,
            extra_body=extra_body,
        )
    names = wire_names(body)
    if names is not None:
        rename_body(body, names)
    return sent, body, names
