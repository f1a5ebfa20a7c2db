"""Union errors built from the request, checked against pydantic itself.

The OpenAI SDK's message and tool-call TypedDicts are the first members of the
unions vLLM validates; pydantic (the golden runs' 2.14) run over them gives the
errors the emulator must list for those members, for any index and value.
"""

from __future__ import annotations

import ast
from typing import Any

import pytest

from langchain_gptoss.testing._releases import profile
from langchain_gptoss.testing._validate import validate

pydantic = pytest.importorskip("pydantic")
chat = pytest.importorskip("openai.types.chat")

_SDK_MESSAGES = 6
"""Members from the OpenAI SDK; vLLM's custom message and harmony's follow."""


def _pydantic_errors(annotation: Any, value: Any) -> list[dict[str, Any]]:
    with pytest.raises(pydantic.ValidationError) as caught:
        pydantic.TypeAdapter(annotation).validate_python(value)
    return caught.value.errors(include_url=False)


def _listed(body: dict[str, Any], release: str) -> tuple[str, list[dict[str, Any]]]:
    error = validate(body, profile(release))
    assert error is not None
    message = error.payload["error"]["message"]
    head, *lines = message.split("\n\n")[0].split("\n")
    return head, [ast.literal_eval(line.strip()) for line in lines]


def _body(messages: list[dict[str, Any]]) -> dict[str, Any]:
    return {"model": "m", "messages": messages}


@pytest.mark.parametrize("content", [None, 5, True])
def test_bad_content_on_message_2_lists_pydantic_errors(content: Any) -> None:
    messages = [
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello"},
        {"role": "system", "content": content},
    ]
    head, errors = _listed(_body(messages), "0.20.1")
    union = chat.ChatCompletionMessageParam
    want = _pydantic_errors(list[union], messages)
    assert all(error["loc"][0] == 2 for error in want)
    sdk = [e for e in errors if e["loc"][3] in {m.__name__ for m in union.__args__}]
    assert [{**e, "loc": ("body", "messages", *e["loc"])} for e in want] == sdk
    others = [e["loc"][3] for e in errors[len(sdk) :]]
    assert set(others) == {"CustomChatCompletionMessageParam", "Message"}
    assert head == f"{len(errors)} validation errors:"
    assert len({e["loc"][3] for e in sdk}) == _SDK_MESSAGES


def test_null_tool_content_spares_the_tool_member_its_role() -> None:
    message = {"role": "tool", "tool_call_id": "c1", "content": None}
    _, errors = _listed(_body([{"role": "user", "content": "Hi"}, message]), "0.13.0")
    tool = [e for e in errors if e["loc"][3] == "ChatCompletionToolMessageParam"]
    assert [e["type"] for e in tool] == ["string_type", "iterable_type"]
    assert {e["loc"][2] for e in errors} == {1}


def test_0_33_lists_ten_with_dotted_locations() -> None:
    messages = [{"role": "user", "content": "Hi"}] * 2 + [
        {"role": "developer", "content": None}
    ]
    error = validate(_body(messages), profile("0.33.0"))
    assert error is not None
    body = error.payload["error"]
    lines = body["message"].split("\n")
    # The developer member loses its role error, the user member gains one.
    assert lines[0] == "19 validation errors:"
    assert lines[-1] == "  ...and 9 more errors"
    first = ast.literal_eval(lines[1].strip())
    assert first["loc"] == "body.messages.2.ChatCompletionDeveloperMessageParam.content"
    assert first["input"] == "None"
    assert body["param"] == first["loc"]


def test_tool_call_union_for_call_1() -> None:
    calls = [
        {"id": "a", "type": "function", "function": {"name": "f", "arguments": "{}"}},
        {"id": "b", "type": "function", "function": {"arguments": [1, 2]}},
    ]
    body = _body([{"role": "assistant", "content": None, "tool_calls": calls}])
    head, errors = _listed(body, "0.20.1")
    want = _pydantic_errors(list[chat.ChatCompletionMessageToolCallUnionParam], calls)
    assert errors == [{**e, "loc": ("body", *e["loc"])} for e in want]
    assert head == f"{len(want)} validation errors:"
    param = validate(body, profile("0.26.0"))
    assert param is not None
    assert (
        param.payload["error"]["param"]
        == "body.1.ChatCompletionMessageFunctionToolCallParam.function"
    )


def _custom_tag(release: str) -> str:
    _, errors = _listed(_body([{"role": "user", "content": None}]), release)
    (tag,) = [
        e["loc"][-1]
        for e in errors
        if e["loc"][3] == "CustomChatCompletionMessageParam"
        and e["type"] == "list_type"
    ]
    return str(tag)


def test_custom_parts_follow_the_release() -> None:
    assert "ContentPartAudioEmbedsParam" not in _custom_tag("0.11.2")
    assert "ContentPartAudioEmbedsParam" in _custom_tag("0.13.0")
    newest = _custom_tag("0.26.0")
    assert newest.startswith(
        "list[union[...,...,...,...,ChatCompletionContentPartAudio"
    )
    assert "ChatCompletionContentPartPromptEmbedsParam" in newest
