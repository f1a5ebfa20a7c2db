"""Request validation with vLLM's statuses, error types and messages (§2.a, §2.e)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from langchain_gptoss.testing._errors import ApiError, Invalid, vllm_error
from langchain_gptoss.testing._prompt_errors import ROLES, harmony_rejection
from langchain_gptoss.testing._union_errors import message_union, tool_call_union
from langchain_gptoss.testing._wording import worded

if TYPE_CHECKING:
    from langchain_gptoss.testing._releases import Profile

_ROLES = ROLES
_EFFORTS = ("low", "medium", "high")
_NUMBERS = ("temperature", "top_p", "frequency_penalty", "presence_penalty",
            "repetition_penalty", "min_p")  # fmt: skip
_INTEGERS = (
    "max_tokens",
    "max_completion_tokens",
    "n",
    "top_logprobs",
    "seed",
    "top_k",
)
_BOOLEANS = ("stream", "logprobs", "include_reasoning", "echo", "ignore_eos",
             "add_generation_prompt", "continue_final_message",
             "parallel_tool_calls")  # fmt: skip
_FORMATS = ("text", "json_object", "json_schema", "structural_tag")
_POSITIVE = ("n",)
"""Checked by pydantic; ``max_tokens`` < 1 is SamplingParams' to refuse."""
_MAX_TOP_LOGPROBS = 20


def _literal(options: tuple[str, ...]) -> str:
    quoted = [f"'{option}'" for option in options]
    return ", ".join(quoted[:-1]) + f" or {quoted[-1]}"


def invalid(
    kind: str, loc: tuple[str | int, ...], msg: str, value: Any, **ctx: Any
) -> ApiError:
    """Return FastAPI's validation error as vLLM relays it (type ``Bad Request``).

    The body is the oldest releases' wording; ``worded`` rewords it per release.
    """
    found = Invalid(kind, loc, msg, value, ctx or None)
    error: dict[str, Any] = {
        "type": kind,
        "loc": ("body", *loc),
        "msg": msg,
        "input": value,
    }
    if ctx:
        error["ctx"] = ctx
    message = f"1 validation error:\n  {error}"
    return ApiError(400, vllm_error(message, "Bad Request", 400), found)


def _value_error(text: str, body: dict[str, Any], param: str | None = None) -> ApiError:
    """A model validator's error: ``param`` is the parameter it may name."""
    error = {
        "type": "value_error",
        "loc": ("body",),
        "msg": f"Value error, {text}",
        "input": body,
        "ctx": {"error": ValueError(text)},
    }
    message = f"1 validation error:\n  {error}"
    found = Invalid("value_error", (), text, body, param=param)
    return ApiError(400, vllm_error(message, "Bad Request", 400), found)


def _engine_error(
    text: str, profile: Profile | None = None, param: str = "", value: Any = None
) -> ApiError:
    """A SamplingParams error; from 0.15 it names its parameter (§2.e)."""
    if profile is None or profile.error_style == "plain" or not param:
        return ApiError(400, vllm_error(text, "BadRequestError", 400))
    text += f" (parameter={param}, value={value})"
    return ApiError(400, vllm_error(text, "BadRequestError", 400, param))


def _is_int(value: Any) -> bool:
    return (isinstance(value, int) and not isinstance(value, bool)) or (
        isinstance(value, float) and value.is_integer()
    )


def _check_content(
    loc: tuple[str | int, ...], content: Any, *, required: bool
) -> ApiError | None:
    if content is None:
        return invalid("missing", loc, "Field required", content) if required else None
    if isinstance(content, str):
        return None
    if not isinstance(content, list):
        return invalid("string_type", loc, "Input should be a valid string", content)
    for j, part in enumerate(content):
        kind = part.get("type") if isinstance(part, dict) else None
        if kind not in {"text", "refusal"}:
            text = f"gpt-oss accepts only text content parts, got {kind!r}."
            return invalid("value_error", (*loc, j), f"Value error, {text}", part)
    return None


def _check_tool_calls(i: int, calls: Any, *, at_render: bool) -> ApiError | None:
    loc: tuple[str | int, ...] = ("messages", i, "tool_calls")
    if not isinstance(calls, list):
        return invalid("list_type", loc, "Input should be a valid list", calls)
    for j, call in enumerate(calls):
        if not isinstance(call, dict):
            return invalid(
                "dict_type", (*loc, j), "Input should be a valid dictionary", call
            )
        if not at_render:  # from 0.20 vLLM validates each call against the union
            if error := tool_call_union(j, call):
                return error
            continue
        for key in ("id", "type", "function"):
            if key not in call:
                return invalid("missing", (*loc, j, key), "Field required", call)
        if call["type"] != "function":
            msg = "Input should be 'function'"
            return invalid("literal_error", (*loc, j, "type"), msg, call["type"])
        function = call["function"]
        if not isinstance(function, dict):
            msg = "Input should be a valid dictionary"
            return invalid("dict_type", (*loc, j, "function"), msg, function)
        for key in ("name", "arguments"):
            if key == "arguments" and key in function:
                continue  # <= 0.16: refused while the prompt is built
            if not isinstance(function.get(key), str):
                floc = (*loc, j, "function", key)
                return invalid(
                    "string_type",
                    floc,
                    "Input should be a valid string",
                    function.get(key),
                )
    return None


def _refused_content(message: dict[str, Any]) -> bool:
    """A content no message type takes: null (but for the assistant) or a scalar."""
    content = message.get("content")
    if content is None:
        return "content" in message and message.get("role") != "assistant"
    return not isinstance(content, str | list | dict)


def _check_message(
    i: int, message: Any, profile: Profile, *, at_render: bool
) -> ApiError | None:
    if not isinstance(message, dict):
        return invalid(
            "dict_type", ("messages", i), "Input should be a valid dictionary", message
        )
    role = message.get("role")
    if isinstance(role, str) and role not in _ROLES:
        return None  # a custom role passes; harmony's Author refuses it later
    if role not in _ROLES:
        msg = f"Input should be {_literal(_ROLES)}"
        return invalid("literal_error", ("messages", i, "role"), msg, role)
    if _refused_content(message) and (error := message_union(i, message, profile)):
        return error
    loc: tuple[str | int, ...] = ("messages", i, "content")
    # A missing `content` is served (vllm-golden `user_content_missing`); null not.
    required = role != "assistant" and "content" in message
    error = _check_content(loc, message.get("content"), required=required)
    if error is None and role == "assistant" and message.get("tool_calls") is not None:
        error = _check_tool_calls(i, message["tool_calls"], at_render=at_render)
    if (
        error is None
        and role == "tool"
        and not isinstance(message.get("tool_call_id"), str)
    ):
        return invalid(
            "missing", ("messages", i, "tool_call_id"), "Field required", message
        )
    return error


def _check_scalars(body: dict[str, Any], efforts: tuple[str, ...]) -> ApiError | None:
    for key in _NUMBERS:
        value = body.get(key)
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int | float)
        ):
            if isinstance(value, str):
                msg = (
                    "Input should be a valid number, unable to parse string as a number"
                )
                return invalid("float_parsing", (key,), msg, value)
            return invalid(
                "float_type", (key,), "Input should be a valid number", value
            )
    for key in _INTEGERS:
        value = body.get(key)
        if value is not None and not _is_int(value):
            return invalid("int_type", (key,), "Input should be a valid integer", value)
        if value is not None and key in _POSITIVE and value < 1:
            msg = "Input should be greater than or equal to 1"
            return invalid("greater_than_equal", (key,), msg, value, ge=1)
    for key in _BOOLEANS:
        value = body.get(key)
        if value is not None and not isinstance(value, bool):
            return invalid(
                "bool_type", (key,), "Input should be a valid boolean", value
            )
    effort = body.get("reasoning_effort")
    if effort is not None and effort not in efforts:
        msg = f"Input should be {_literal(efforts)}"
        return invalid(
            "literal_error",
            ("reasoning_effort",),
            msg,
            effort,
            expected=_literal(efforts),
        )
    stop = body.get("stop")
    if (
        stop is not None
        and not isinstance(stop, str)
        and not (isinstance(stop, list) and all(isinstance(s, str) for s in stop))
    ):
        return invalid("string_type", ("stop",), "Input should be a valid string", stop)
    model = body.get("model")
    if model is not None and not isinstance(model, str):
        return invalid(
            "string_type", ("model",), "Input should be a valid string", model
        )
    return None


def _check_tool(j: int, tool: Any) -> ApiError | None:
    loc: tuple[str | int, ...] = ("tools", j)
    if not isinstance(tool, dict):
        return invalid("dict_type", loc, "Input should be a valid dictionary", tool)
    for key in ("type", "function"):
        if key not in tool:
            return invalid("missing", (*loc, key), "Field required", tool)
    if tool["type"] != "function":
        msg = "Input should be 'function'"
        return invalid("literal_error", (*loc, "type"), msg, tool["type"])
    function = tool["function"]
    if not isinstance(function, dict):
        msg = "Input should be a valid dictionary"
        return invalid("dict_type", (*loc, "function"), msg, function)
    if not isinstance(function.get("name"), str):
        floc = (*loc, "function", "name")
        if "name" not in function:
            return invalid("missing", floc, "Field required", function)
        msg = "Input should be a valid string"
        return invalid("string_type", floc, msg, function["name"])
    parameters = function.get("parameters")
    if parameters is not None and not isinstance(parameters, dict):
        msg = "Input should be a valid dictionary"
        return invalid("dict_type", (*loc, "function", "parameters"), msg, parameters)
    return None


def _check_tools(body: dict[str, Any], profile: Profile) -> ApiError | None:
    tools = body.get("tools")
    if tools is not None:
        if not isinstance(tools, list):
            return invalid(
                "list_type", ("tools",), "Input should be a valid list", tools
            )
        if not tools and (error := _empty_tools(body, profile)):
            return error
        for j, tool in enumerate(tools):
            if error := _check_tool(j, tool):
                return error
    choice = body.get("tool_choice")
    if choice is None:
        return None
    if tools is None:
        return _value_error(
            "When using `tool_choice`, `tools` must be set.", body, "tool_choice"
        )
    if isinstance(choice, dict):
        function = choice.get("function")
        name = function.get("name") if isinstance(function, dict) else None
        if name not in {tool["function"]["name"] for tool in tools}:
            text = (
                "The tool specified in `tool_choice` does not match "
                "any of the specified `tools`"
            )
            return _value_error(text, body, "tool_choice")
    elif choice not in {"none", "auto", "required"}:
        text = (
            f"Invalid value for `tool_choice`: {choice}! "
            'Only named tools, "none", "auto" or "required" are supported.'
        )
        return _value_error(text, body)
    return None


def _missing_json_schema(body: dict[str, Any], profile: Profile) -> ApiError:
    """``json_schema`` without its object: an AssertionError before 0.20 (§2.a)."""
    if profile.json_schema_missing_validated:
        return _value_error(
            "When response_format type is 'json_schema', the 'json_schema' field "
            "must be provided.",
            body,
            "response_format",
        )
    kind = (
        "Internal Server Error" if profile.type_names_spaced else "InternalServerError"
    )
    status = 200 if profile.exceptions_as_200 else 500
    return ApiError(status, vllm_error("", kind, 500))


def _check_response_format(body: dict[str, Any], profile: Profile) -> ApiError | None:
    form = body.get("response_format")
    if form is None:
        return None
    loc: tuple[str | int, ...] = ("response_format",)
    if not isinstance(form, dict):
        return invalid("dict_type", loc, "Input should be a valid dictionary", form)
    kind = form.get("type")
    if kind not in _FORMATS:
        msg = f"Input should be {_literal(_FORMATS)}"
        return invalid("literal_error", (*loc, "type"), msg, kind)
    if kind != "json_schema":
        return None
    spec = form.get("json_schema")
    if spec is None:
        return _missing_json_schema(body, profile)
    if not isinstance(spec, dict) or not isinstance(spec.get("schema"), dict):
        return _value_error(
            "When response_format type is 'json_schema', the 'json_schema' field "
            "must be provided with a 'schema' object.",
            body,
        )
    if not isinstance(spec.get("name"), str):
        return invalid("missing", (*loc, "json_schema", "name"), "Field required", spec)
    return None


def _check_effort(body: dict[str, Any], profile: Profile) -> ApiError | None:
    """What the schema let through, harmony may still refuse (0.26+, §2.a)."""
    effort = body.get("reasoning_effort")
    if effort is None or effort in _EFFORTS:
        return None
    text = (
        f"reasoning_effort={effort!r} is not supported by Harmony. "
        "Supported values are: high, medium, low."
    )
    if profile.error_style != "typed":
        return ApiError(400, vllm_error(text, "BadRequestError", 400))
    text += " (parameter=reasoning_effort)"
    return ApiError(400, vllm_error(text, "BadRequestError", 400, "reasoning_effort"))


def _check_sampling(body: dict[str, Any], profile: Profile) -> ApiError | None:
    for key in ("max_completion_tokens", "max_tokens"):
        budget = body.get(key)
        if budget is not None and budget < 1:
            text = f"max_tokens must be at least 1, got {budget}."
            return _engine_error(text, profile, "max_tokens", budget)
    temperature = body.get("temperature")
    if temperature is not None and temperature < 0:
        return _engine_error(
            f"temperature must be non-negative, got {float(temperature)}."
        )
    top_p = body.get("top_p")
    if top_p is not None and not 0 < top_p <= 1:
        return _engine_error(f"top_p must be in (0, 1], got {float(top_p)}.")
    for key in ("presence_penalty", "frequency_penalty"):
        value = body.get(key)
        if value is not None and not -2 <= value <= 2:  # noqa: PLR2004
            return _engine_error(f"{key} must be in [-2, 2], got {float(value)}.")
    top = body.get("top_logprobs")
    if top is not None and not 0 <= top <= _MAX_TOP_LOGPROBS:
        which = "which is is" if profile.logprobs_message_typo else "which is"
        return _engine_error(
            f"Requested sample logprobs of {top}, {which} greater than max allowed: "
            f"{_MAX_TOP_LOGPROBS}",
            profile,
            "logprobs",
            top,
        )
    return None


def validate(body: Any, profile: Profile) -> ApiError | None:
    """Check a parsed request body; return the error vLLM would answer, if any.

    ``profile`` (the release the emulator plays) decides the rules that depend
    on the vLLM release.
    """
    error = _validate(body, profile)
    return None if error is None else worded(error, profile)


def _validate(body: Any, profile: Profile) -> ApiError | None:
    if not isinstance(body, dict):
        msg = "Input should be a valid dictionary or object to extract fields from"
        return invalid("model_attributes_type", (), msg, body)
    messages = body.get("messages")
    if messages is None:
        return invalid("missing", ("messages",), "Field required", body)
    if not isinstance(messages, list):
        return invalid(
            "list_type", ("messages",), "Input should be a valid list", messages
        )
    # `messages: []` is served: vLLM renders only its own harmony messages.
    for i, message in enumerate(messages):
        at_render = profile.tool_calls_checked_at_render
        if error := _check_message(i, message, profile, at_render=at_render):
            return error
    error = _check_scalars(body, profile.reasoning_efforts)
    if error is None and body.get("stream_options") and not body.get("stream"):
        error = _value_error(
            "Stream options can only be defined when `stream=True`.",
            body,
            "stream_options",
        )
    if error is None and body.get("top_logprobs") and not body.get("logprobs"):
        error = _value_error(
            "when using `top_logprobs`, `logprobs` must be set to true.",
            body,
            "top_logprobs",
        )
    if (
        error is None
        and (options := body.get("stream_options"))
        and not isinstance(options, dict)
    ):
        error = invalid(
            "dict_type",
            ("stream_options",),
            "Input should be a valid dictionary",
            options,
        )
    # vLLM validates the request (FastAPI), then builds the harmony prompt (tools
    # first, then messages), then the sampling parameters.
    return (
        error
        or _check_tools(body, profile)
        or _check_response_format(body, profile)
        or harmony_rejection(body, profile)
        or _check_effort(body, profile)
        or _check_sampling(body, profile)
    )


# ------------------------------------------------- rules that depend on the release
# Bodies and messages as vllm-golden/requests/X.json has them (protocol §2.a, §2.d).

_EMPTY_TOOLS = (
    "`tools` must not be an empty array. Either provide at least one tool or omit "
    "the field entirely."
)


def _empty_tools(body: dict[str, Any], profile: Profile) -> ApiError | None:
    """``tools: []``: served (as no tools) before vLLM 0.20, rejected from 0.20."""
    if not profile.empty_tools_rejected:
        return None
    return _value_error(_EMPTY_TOOLS, body, "tools")
