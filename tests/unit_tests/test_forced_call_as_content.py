"""A forced tool call that vLLM answers as JSON content still parses as the call.

Up to vLLM 0.26 a named or `required` `tool_choice` becomes a JSON grammar on the
final channel only (protocol.md §2.a, §3 row 9): the answer can be JSON content
with no `tool_calls`. `with_structured_output(method="function_calling")` reads
it as the call; a plain `bind_tools(..., tool_choice=name)` user gets the message
as the server sent it.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from langchain_core.exceptions import OutputParserException
from langchain_core.messages import AIMessage
from pydantic import BaseModel
from typing_extensions import TypedDict

from langchain_gptoss._structured import JsonAnswerParser
from tests.golden import RELEASES, load
from tests.unit_tests.conftest import (
    Recorder,
    make_model,
    run_invoke,
    run_stream,
    sse_bytes,
    sse_response,
)
from tests.unit_tests.wire import chunk as event
from tests.unit_tests.wire import completion


class Weather(BaseModel):
    """Weather in a city."""

    city: str
    unit: str = "c"


class WeatherDict(TypedDict):
    """Weather in a city."""

    city: str
    unit: str


WEATHER_SCHEMA = {
    "title": "Weather",
    "description": "Weather in a city.",
    "type": "object",
    "properties": {"city": {"type": "string"}, "unit": {"type": "string"}},
    "required": ["city", "unit"],
}
ARGS = {"city": "Rome", "unit": "f"}


def shapes(name: str) -> dict[str, str]:
    """The JSON answers a forced call can come back as, by shape."""
    return {
        "arguments": json.dumps(ARGS),
        "parameters": json.dumps({"name": name, "parameters": ARGS}),
        "wrapped_arguments": json.dumps({"name": name, "arguments": ARGS}),
        "arguments_string": json.dumps({"name": name, "arguments": json.dumps(ARGS)}),
        "required_array": json.dumps([{"name": name, "parameters": ARGS}]),
        "indented": json.dumps(ARGS, indent=2),
    }


SCHEMAS = {"pydantic": Weather, "typeddict": WeatherDict, "dict": WEATHER_SCHEMA}
NAMES = {"pydantic": "Weather", "typeddict": "WeatherDict", "dict": "Weather"}


def expected(schema: str) -> Any:
    return Weather(**ARGS) if schema == "pydantic" else ARGS


def content_answer(text: str) -> httpx.Response:
    return httpx.Response(200, json=completion("reasoning", content=text))


def streamed_content(text: str) -> httpx.Response:
    pieces = [text[i : i + 3] for i in range(0, len(text), 3)]
    events = [
        event({"role": "assistant", "content": ""}),
        event({"reasoning": "Answer with the tool."}),
        *(event({"content": piece}) for piece in pieces),
        event({}, finish_reason="stop"),
    ]
    return sse_response(sse_bytes(*events))


def structured(response: httpx.Response, schema: str, **kw: Any) -> Any:
    chat = make_model(Recorder(response))
    return chat.with_structured_output(SCHEMAS[schema], method="function_calling", **kw)


# ------------------------------------------------------------------- the parser


@pytest.mark.parametrize("shape", list(shapes("Weather")))
def test_the_parser_reads_each_shape_as_the_call(shape: str) -> None:
    parser = JsonAnswerParser(model_class=Weather, tool_name="Weather")
    message = AIMessage(content=shapes("Weather")[shape])
    assert parser.invoke(message) == Weather(**ARGS)


@pytest.mark.parametrize(
    "content",
    [
        "No call.",
        "",
        '{"city": "Ro',
        "[1, 2]",
        '"Rome"',
        json.dumps([{"name": "Other", "parameters": ARGS}]),
    ],
)
def test_content_that_is_not_the_call_still_raises(content: str) -> None:
    parser = JsonAnswerParser(tool_name="Weather")
    with pytest.raises(OutputParserException) as caught:
        parser.invoke(AIMessage(content=content))
    assert caught.value.llm_output == content


def test_a_real_call_wins_over_content() -> None:
    parser = JsonAnswerParser(tool_name="Weather")
    message = AIMessage(
        content='{"city": "Paris"}',
        tool_calls=[{"name": "Weather", "args": ARGS, "id": "c1"}],
    )
    assert parser.invoke(message) == ARGS


def test_content_not_matching_the_schema_raises_with_the_text() -> None:
    parser = JsonAnswerParser(model_class=Weather, tool_name="Weather")
    content = json.dumps({"name": "Other", "parameters": ARGS})
    with pytest.raises(OutputParserException) as caught:
        parser.invoke(AIMessage(content=content))
    assert caught.value.llm_output == content


def test_the_golden_grammars_are_the_shapes_we_read() -> None:
    """0.10.2/0.11.0 send a named choice's grammar: the parameters; required's:
    an array of `{name, parameters}`. Later releases up to 0.26 send none."""
    grammars = {}
    for release in RELEASES:
        results = load("requests", release)["results"]
        for case in ("tool_choice_named", "tool_choice_required"):
            params = results[case]["sampling_params"]
            guided = params.get("guided_decoding") or params.get("structured_outputs")
            grammars[release, case] = guided
    named = grammars["0.10.2", "tool_choice_named"]["json"]
    assert named["type"] == "object"
    assert "name" not in named.get("properties", {})
    required = grammars["0.10.2", "tool_choice_required"]["json"]
    assert required["type"] == "array"
    assert required["items"]["anyOf"][0]["required"] == ["name", "parameters"]
    for release in ("0.11.2", "0.13.0", "0.15.1", "0.16.0", "0.20.1", "0.26.0"):
        assert grammars[release, "tool_choice_named"] is None


# -------------------------------------------------------------- through ChatGptOss


@pytest.mark.parametrize("schema", list(SCHEMAS))
@pytest.mark.parametrize("shape", ["arguments", "parameters", "required_array"])
def test_invoke_parses_a_content_answer(schema: str, shape: str, mode: str) -> None:
    text = shapes(NAMES[schema])[shape]
    parsed = run_invoke(structured(content_answer(text), schema), mode, "Rome?")
    assert parsed == expected(schema)


@pytest.mark.parametrize("schema", list(SCHEMAS))
@pytest.mark.parametrize("shape", ["arguments", "wrapped_arguments"])
def test_stream_parses_a_content_answer(schema: str, shape: str, mode: str) -> None:
    text = shapes(NAMES[schema])[shape]
    streamed = run_stream(structured(streamed_content(text), schema), mode, "Rome?")
    assert streamed[-1] == expected(schema)


@pytest.mark.parametrize("streaming", [False, True])
def test_include_raw_reports_the_content_answer(streaming: bool, mode: str) -> None:
    text = shapes("Weather")["parameters"]
    response = streamed_content(text) if streaming else content_answer(text)
    runnable = structured(response, "pydantic", include_raw=True)
    if streaming:
        result: dict[str, Any] = {}
        for part in run_stream(runnable, mode, "Rome?"):
            result.update(part)
    else:
        result = run_invoke(runnable, mode, "Rome?")
    assert result["parsed"] == Weather(**ARGS)
    assert result["parsing_error"] is None
    assert result["raw"].content == text
    assert result["raw"].tool_calls == []


def test_include_raw_reports_content_that_is_no_call(mode: str) -> None:
    runnable = structured(content_answer("It is sunny."), "pydantic", include_raw=True)
    result = run_invoke(runnable, mode, "Rome?")
    assert result["parsed"] is None
    assert isinstance(result["parsing_error"], OutputParserException)


def test_plain_bind_tools_keeps_the_content(mode: str) -> None:
    """Only structured output reads content as a call; bind_tools users see it."""
    text = json.dumps(ARGS)
    chat = make_model(Recorder(content_answer(text)))
    bound = chat.bind_tools([Weather], tool_choice="Weather")
    message = run_invoke(bound, mode, "Rome?")
    assert message.content == text
    assert message.tool_calls == []


def test_an_invalid_call_without_an_error_says_why() -> None:
    """invoke(streaming=True) sums chunks, and core leaves `error` None."""
    parser = JsonAnswerParser(tool_name="Weather")
    message = AIMessage(
        content="",
        invalid_tool_calls=[
            {
                "type": "invalid_tool_call",
                "name": "Weather",
                "args": "[1]",
                "id": "c1",
                "error": None,
            }
        ],
    )
    with pytest.raises(OutputParserException, match="not a JSON object") as caught:
        parser.invoke(message)
    assert caught.value.llm_output == "[1]"
