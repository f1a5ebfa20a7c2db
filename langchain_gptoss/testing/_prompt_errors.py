"""Errors vLLM raises while it builds the harmony prompt (protocol §2.d, §2.e).

Request validation passed; harmony's own pydantic models (``Author``,
``ToolDescription``, ``Message``) or vLLM's conversion refuse the shape, with a
``BadRequestError`` whose text is pydantic's (`` None`` appended up to 0.13).
Which shapes are refused depends on the release (``_releases``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from langchain_gptoss.testing._errors import ApiError, vllm_error

if TYPE_CHECKING:
    from langchain_gptoss.testing._releases import Profile

ROLES = ("system", "developer", "user", "assistant", "tool")
"""The roles request validation knows; any other string passes it."""
_AUTHORS = ("user", "assistant", "system", "developer", "tool")
"""harmony's ``Role`` enum, in the order its error message lists them."""
# Pydantic's documentation link names its minor version; the golden runs had 2.14.
_PYDANTIC_LINK = (
    "\n    For further information visit https://errors.pydantic.dev/2.14/v/"
)
_INPUT_REPR_LIMIT = 50


def _literal(options: tuple[str, ...]) -> str:
    quoted = [f"'{option}'" for option in options]
    return ", ".join(quoted[:-1]) + f" or {quoted[-1]}"


def _input_repr(value: Any) -> str:
    """``repr(value)`` cut as pydantic-core cuts ``input_value`` (25 ... 24)."""
    text = repr(value)
    if len(text) > _INPUT_REPR_LIMIT:
        return f"{text[:25]}...{text[-24:]}"
    return text


def _harmony_error(
    profile: Profile, model: str, loc: str, text: str, *, kind: str, value: Any
) -> ApiError:
    """A pydantic error raised while vLLM builds the harmony prompt (§2.e)."""
    message = (
        f"1 validation error for {model}\n{loc}\n  {text} [type={kind}, "
        f"input_value={_input_repr(value)}, input_type={type(value).__name__}]"
        f"{_PYDANTIC_LINK}{kind}"
    )
    # Up to 0.13 vLLM appends the text of the error's cause, which is None here.
    if profile.harmony_error_cause:
        message += " None"
    return ApiError(400, vllm_error(message, "BadRequestError", 400))


def harmony_rejection(body: dict[str, Any], profile: Profile) -> ApiError | None:
    """Shapes harmony's own models refuse, in the order vLLM renders them."""
    return _tool_rejection(body, profile) or _message_rejection(body, profile)


def _object_arguments(calls: list[dict[str, Any]], profile: Profile) -> ApiError | None:
    """Up to 0.16 the calls are validated while the prompt is built (§2.d)."""
    for j, call in enumerate(calls):
        arguments = call["function"]["arguments"]
        if isinstance(arguments, str):
            continue
        link = _PYDANTIC_LINK.removeprefix("\n")
        message = (
            "3 validation errors for ValidatorIterator\n"
            f"{j}.ChatCompletionMessageFunctionToolCallParam.function.arguments\n"
            "  Input should be a valid string [type=string_type, input_value="
            f"{_input_repr(arguments)}, input_type={type(arguments).__name__}]\n"
            f"{link}string_type\n"
            f"{j}.ChatCompletionMessageCustomToolCallParam.custom\n"
            f"  Field required [type=missing, input_value={_input_repr(call)}, "
            f"input_type=dict]\n{link}missing\n"
            f"{j}.ChatCompletionMessageCustomToolCallParam.type\n"
            "  Input should be 'custom' [type=literal_error, input_value="
            f"{call['type']!r}, input_type=str]\n{link}literal_error"
        )
        if profile.harmony_error_cause:
            message += " None"
        return ApiError(400, vllm_error(message, "BadRequestError", 400))
    return None


def _message_rejection(body: dict[str, Any], profile: Profile) -> ApiError | None:
    for message in body["messages"]:
        role = message.get("role")
        calls = message.get("tool_calls")
        if (
            profile.tool_calls_checked_at_render
            and role == "assistant"
            and calls
            and (error := _object_arguments(calls, profile))
        ):
            return error
        if (
            profile.assistant_null_content_rejected
            and role == "assistant"
            and message.get("content") is None
            and not message.get("tool_calls")
        ):
            # <= 0.12 iterate the content; the cause's text (None) is appended.
            text = "'NoneType' object is not iterable None"
            return ApiError(400, vllm_error(text, "BadRequestError", 400))
        if role not in ROLES:
            return _harmony_error(
                profile,
                "Author",
                "role",
                f"Input should be {_literal(_AUTHORS)}",
                kind="enum",
                value=role,
            )
    return None


def _tool_rejection(body: dict[str, Any], profile: Profile) -> ApiError | None:
    if profile.tool_description_required:
        # harmony's ToolDescription needs a string; 0.24 sends `description or ""`.
        for tool in body.get("tools") or []:
            description = tool["function"].get("description")
            if description is None:
                return _harmony_error(
                    profile,
                    "ToolDescription",
                    "description",
                    "Input should be a valid string",
                    kind="string_type",
                    value=description,
                )
    if profile.list_tool_content_rejected:
        # The whole list becomes one harmony Content; 0.11.1 joins the parts ("").
        for message in body["messages"]:
            content = message.get("content")
            if message.get("role") == "tool" and isinstance(content, list):
                # vLLM validated the parts as OpenAI's text part: `text` first.
                parts = [
                    {key: part[key] for key in ("text", "type") if key in part}
                    for part in content
                ]
                return _harmony_error(
                    profile,
                    "Message",
                    "content.0",
                    "Input should be a valid dictionary or instance of Content",
                    kind="model_type",
                    value=parts,
                )
    return None
