"""The errors pydantic lists when no member of a union accepts the input (§2.e).

vLLM types a request message as a union of message TypedDicts (the OpenAI SDK's
six, vLLM's ``CustomChatCompletionMessageParam``, harmony's ``Message``) and, from
0.20, a tool call as the SDK's union of function and custom calls. When every
member refuses, pydantic reports each member's errors in member order, and in
each member in field order, under ``loc`` ``(…, member, field, [union tag])``.

Each member is described here as its fields in declaration order, each with the
rule that can fail; ``message_union`` / ``tool_call_union`` run them over the
request's own message or call, so the index, the inputs and the tags all come
from the request and the release (``Profile.custom_content_parts``,
``Profile.union_tags_elided``). ``_wording`` words the list per release.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from langchain_gptoss.testing._errors import ApiError, Invalid, vllm_error

if TYPE_CHECKING:
    from langchain_gptoss.testing._releases import Profile

_TEXT = "ChatCompletionContentPartTextParam"
_IMAGE = "ChatCompletionContentPartImageParam"
_AUDIO = "ChatCompletionContentPartInputAudioParam"
_FILE = "File"
_REFUSAL = "ChatCompletionContentPartRefusalParam"
_SDK_PARTS = frozenset({_TEXT, _IMAGE, _AUDIO, _FILE, _REFUSAL})
"""The OpenAI SDK's part types: from 0.26 pydantic prints each as ``...``."""
_USER_PARTS = (_TEXT, _IMAGE, _AUDIO, _FILE)
_ASSISTANT_PARTS = (_TEXT, _REFUSAL)

_STRING = "Input should be a valid string"
_MISSING = "Field required"


@dataclass(frozen=True)
class Field:
    """One field of a union member, with the rule pydantic applies to it.

    Attributes:
        name: The key in the request.
        rule: ``text``: a string; ``text_or_parts``: a string or an iterable of
            ``parts`` (validated lazily, so any list passes); ``text_or_list``: a
            string or a list of ``parts``; ``list``: a list; ``literal``: equal to
            ``value``; ``present``: any value; ``object``: a dict checked by
            ``fields``.
        required: Whether a missing key fails (``missing``).
        nullable: Whether ``null`` passes.
        parts: The part types named in the union tag.
        value: The literal of a ``literal`` field.
        fields: The fields of an ``object`` field.
    """

    name: str
    rule: str
    required: bool = True
    nullable: bool = False
    parts: tuple[str, ...] = ()
    value: str = ""
    fields: tuple[Field, ...] = ()


def _role(value: str) -> Field:
    return Field("role", "literal", value=value)


def _sdk_message(role: str, parts: tuple[str, ...]) -> tuple[Field, ...]:
    content = Field("content", "text_or_parts", parts=parts)
    return (content, _role(role), Field("name", "text", required=False))


def _message_members(profile: Profile) -> tuple[tuple[str, tuple[Field, ...]], ...]:
    """The message union's members, in the order pydantic tries them."""
    return (
        ("ChatCompletionDeveloperMessageParam", _sdk_message("developer", (_TEXT,))),
        ("ChatCompletionSystemMessageParam", _sdk_message("system", (_TEXT,))),
        ("ChatCompletionUserMessageParam", _sdk_message("user", _USER_PARTS)),
        (
            "ChatCompletionAssistantMessageParam",
            (
                _role("assistant"),
                Field(
                    "content",
                    "text_or_parts",
                    required=False,
                    nullable=True,
                    parts=_ASSISTANT_PARTS,
                ),
            ),
        ),
        (
            "ChatCompletionToolMessageParam",
            (
                Field("content", "text_or_parts", parts=(_TEXT,)),
                _role("tool"),
                Field("tool_call_id", "text"),
            ),
        ),
        (
            "ChatCompletionFunctionMessageParam",
            (
                Field("content", "text", nullable=True),
                Field("name", "text"),
                _role("function"),
            ),
        ),
        (
            "CustomChatCompletionMessageParam",
            (
                Field("role", "text"),
                Field(
                    "content",
                    "text_or_list",
                    required=False,
                    parts=profile.custom_content_parts,
                ),
            ),
        ),
        (
            "Message",
            (Field("author", "present"), Field("content", "list", required=False)),
        ),
    )


_TOOL_CALL_MEMBERS: tuple[tuple[str, tuple[Field, ...]], ...] = (
    (
        "ChatCompletionMessageFunctionToolCallParam",
        (
            Field("id", "text"),
            Field(
                "function",
                "object",
                fields=(Field("arguments", "text"), Field("name", "text")),
            ),
            Field("type", "literal", value="function"),
        ),
    ),
    (
        "ChatCompletionMessageCustomToolCallParam",
        (
            Field("id", "text"),
            Field("custom", "present"),
            Field("type", "literal", value="custom"),
        ),
    ),
)


def _tag(kind: str, parts: tuple[str, ...], elided: bool) -> str:
    """The name pydantic gives a union choice: ``generator[…]``, ``list[union[…]]``."""
    names = ["..." if elided and part in _SDK_PARTS else part for part in parts]
    inner = names[0] if len(names) == 1 else f"union[{','.join(names)}]"
    return f"{kind}[{inner}]"


def _field_errors(
    field: Field, holder: dict[str, Any], loc: tuple[str | int, ...], elided: bool
) -> list[Invalid]:
    """The errors one field gives for ``holder`` (its ``loc`` ends at the field)."""
    at = (*loc, field.name)
    if field.name not in holder:
        return [Invalid("missing", at, _MISSING, holder)] if field.required else []
    value = holder[field.name]
    if value is None and field.nullable:
        return []
    if field.rule == "literal":
        if value == field.value:
            return []
        expected = f"'{field.value}'"
        msg = f"Input should be {expected}"
        return [Invalid("literal_error", at, msg, value, {"expected": expected})]
    if field.rule == "text":
        return (
            []
            if isinstance(value, str)
            else [Invalid("string_type", at, _STRING, value)]
        )
    if field.rule == "list":
        if isinstance(value, list):
            return []
        return [Invalid("list_type", at, "Input should be a valid list", value)]
    if field.rule == "object":
        if not isinstance(value, dict):
            msg = "Input should be a valid dictionary"
            return [Invalid("dict_type", at, msg, value)]
        return [
            error
            for inner in field.fields
            for error in _field_errors(inner, value, at, elided)
        ]
    if field.rule == "present" or isinstance(value, str):
        return []
    if field.rule == "text_or_parts":
        if isinstance(value, list | dict | tuple):
            return []  # an iterable passes; its parts are checked lazily
        tag = _tag("generator", field.parts, elided)
        msg = "Input should be iterable"
        second = Invalid("iterable_type", (*at, tag), msg, value)
    else:  # text_or_list
        if isinstance(value, list):
            return []
        tag = _tag("list", field.parts, elided)
        msg = "Input should be a valid list"
        second = Invalid("list_type", (*at, tag), msg, value)
    return [Invalid("string_type", (*at, "str"), _STRING, value), second]


def _union(
    members: tuple[tuple[str, tuple[Field, ...]], ...],
    value: dict[str, Any],
    loc: tuple[str | int, ...],
    elided: bool,
) -> tuple[Invalid, ...] | None:
    """Every member's errors, or None when some member accepts ``value``."""
    found: list[Invalid] = []
    for member, fields in members:
        errors = [
            error
            for field in fields
            for error in _field_errors(field, value, (*loc, member), elided)
        ]
        if not errors:
            return None
        # vLLM's dotted forms stop at the member's field (vllm-golden 0.26 `param`,
        # 0.33 `loc`: `….content` for `….content.str`, `….function` for
        # `….function.arguments`).
        found.extend(replace(error, cut=len(loc) + 2) for error in errors)
    return tuple(found)


def _as_error(errors: tuple[Invalid, ...]) -> ApiError:
    """The oldest releases' wording; ``worded`` rewords it for the release."""
    details = [
        {
            "type": error.kind,
            "loc": ("body", *error.loc),
            "msg": error.msg,
            "input": error.value,
            **({"ctx": error.ctx} if error.ctx else {}),
        }
        for error in errors
    ]
    lines = "".join(f"\n  {detail}" for detail in details)
    message = f"{len(details)} validation errors:{lines}"
    return ApiError(400, vllm_error(message, "Bad Request", 400), union=errors)


def message_union(i: int, message: dict[str, Any], profile: Profile) -> ApiError | None:
    """Message ``i`` against every message type; None if one accepts it."""
    errors = _union(
        _message_members(profile), message, ("messages", i), profile.union_tags_elided
    )
    return None if errors is None else _as_error(errors)


def tool_call_union(j: int, call: dict[str, Any]) -> ApiError | None:
    """Tool call ``j`` as vLLM validates it from 0.20: ``loc`` ``(j, member, …)``.

    The index is the call's place in its message's ``tool_calls``; the message's
    own index does not appear (vllm-golden `tool_call_arguments_object`).
    """
    errors = _union(_TOOL_CALL_MEMBERS, call, (j,), elided=False)
    return None if errors is None else _as_error(errors)
