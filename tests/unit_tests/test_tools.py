"""Tools, structured output and v1 content blocks over MockTransport, sync and async."""

from __future__ import annotations

import json
from functools import reduce
from operator import add
from typing import Any

import httpx
import pytest
from langchain_core.exceptions import OutputParserException
from langchain_core.messages import AIMessageChunk
from pydantic import BaseModel, Field
from typing_extensions import TypedDict

from langchain_gptoss import ChatGptOss
from tests.unit_tests.conftest import (
    Recorder,
    make_model,
    run_invoke,
    run_stream,
    sse_bytes,
    sse_response,
)
from tests.unit_tests.wire import ERAS, RESPONSE_ID, completion, reasoning_keys
from tests.unit_tests.wire import chunk as event

TOOL_ID = "chatcmpl-tool-5f1c0c9a2b3d4e6f8a9b0c1d2e3f4a5b"


class GetWeather(BaseModel):
    """Current weather in a city."""

    city: str = Field(description="City name")


class Joke(BaseModel):
    """A joke."""

    setup: str
    punchline: str


class JokeDict(TypedDict):
    """A joke."""

    setup: str
    punchline: str


def tool_completion(
    era: str, arguments: str, content: str | None = None
) -> dict[str, Any]:
    payload = completion(
        era, content=content, reasoning="Need the weather.", finish_reason="tool_calls"
    )
    choice = payload["choices"][0]
    choice["stop_reason"] = 200012
    choice["message"]["tool_calls"] = [
        {
            "id": TOOL_ID,
            "type": "function",
            "function": {"name": "GetWeather", "arguments": arguments},
        }
    ]
    return payload


def tool_stream(era: str, *, quirks: bool) -> list[dict[str, Any]]:
    """A streamed call of GetWeather(city="Zürich"), plain or with vLLM's quirks."""
    opener = {
        "id": TOOL_ID,
        "type": "function",
        "index": 0,
        "function": {"name": "GetWeather", "arguments": ""},
    }
    events = [
        event({"role": "assistant", "content": ""}),
        event(reasoning_keys(era, "Need")),
    ]
    if quirks:
        # Reasoning, opener and first fragment in one delta; last fragment bumped.
        events.append(
            event(
                {
                    **reasoning_keys(era, " the weather."),
                    "tool_calls": [
                        opener,
                        {
                            "type": "function",
                            "index": 0,
                            "function": {"arguments": '{"city"'},
                        },
                    ],
                }
            )
        )
        events.append(
            event({"tool_calls": [{"index": 0, "function": {"arguments": ': "Zü'}}]})
        )
        events.append(
            event(
                {
                    "tool_calls": [
                        {
                            "type": "function",
                            "index": 1,
                            "function": {"arguments": 'rich"}'},
                        }
                    ]
                },
                stop_reason=200012,
            )
        )
    else:
        events.append(event(reasoning_keys(era, " the weather.")))
        events.append(event({"tool_calls": [opener]}))
        events += [
            event({"tool_calls": [{"index": 0, "function": {"arguments": part}}]})
            for part in ('{"city"', ': "Zü', 'rich"}')
        ]
    events.append(event({}, finish_reason="tool_calls", stop_reason=200012))
    events.append(
        {
            "id": RESPONSE_ID,
            "choices": [],
            "usage": {"prompt_tokens": 9, "completion_tokens": 8, "total_tokens": 17},
        }
    )
    return events


def summed(chunks: list[AIMessageChunk]) -> AIMessageChunk:
    return reduce(add, chunks)


def without_index(blocks: list[Any]) -> list[Any]:
    """Stream blocks carry the merge index that invoke's never had."""
    return [{k: v for k, v in b.items() if k != "index"} for b in blocks]


# ------------------------------------------------------------------ tool calls


@pytest.mark.parametrize("era", ERAS)
@pytest.mark.parametrize("quirks", [False, True], ids=["plain", "quirks"])
@pytest.mark.parametrize("output_version", [None, "v1"])
def test_streamed_tool_call_equals_invoked(
    mode: str, era: str, quirks: bool, output_version: str | None
) -> None:
    invoked = run_invoke(
        make_model(
            Recorder(
                httpx.Response(200, json=tool_completion(era, '{"city": "Zürich"}'))
            ),
            output_version=output_version,
        ).bind_tools([GetWeather]),
        mode,
        "Weather in Zürich?",
    )
    streamed = summed(
        run_stream(
            make_model(
                Recorder(
                    sse_response(sse_bytes(*tool_stream(era, quirks=quirks)), split=9)
                ),
                output_version=output_version,
            ).bind_tools([GetWeather]),
            mode,
            "Weather in Zürich?",
        )
    )
    expected = [
        {
            "name": "GetWeather",
            "args": {"city": "Zürich"},
            "id": TOOL_ID,
            "type": "tool_call",
        }
    ]
    assert invoked.tool_calls == expected
    assert streamed.tool_calls == expected
    assert streamed.invalid_tool_calls == invoked.invalid_tool_calls == []
    assert streamed.content_blocks[0] == {
        **streamed.content_blocks[0],
        "type": "reasoning",
    }
    assert without_index(streamed.content_blocks) == without_index(
        invoked.content_blocks
    )
    assert [b["type"] for b in invoked.content_blocks] == ["reasoning", "tool_call"]
    assert (
        invoked.response_metadata["finish_reason"]
        == streamed.response_metadata["finish_reason"]
        == "tool_calls"
    )
    assert invoked.response_metadata["stop_reason"] == 200012
    assert "truncated_during_reasoning" not in streamed.response_metadata


def test_unparsable_arguments_become_invalid_tool_calls(mode: str) -> None:
    model = make_model(
        Recorder(httpx.Response(200, json=tool_completion("both", '{"city": "Zür')))
    )
    message = run_invoke(model.bind_tools([GetWeather]), mode, "q")
    assert message.tool_calls == []
    assert len(message.invalid_tool_calls) == 1
    assert message.invalid_tool_calls[0]["args"] == '{"city": "Zür'
    assert message.invalid_tool_calls[0]["id"] == TOOL_ID


def test_arguments_leaked_into_content_are_removed(mode: str) -> None:
    leaked = tool_completion(
        "reasoning_content", '{"city": "Paris"}', content='{"city":"Paris"}'
    )
    message = run_invoke(
        make_model(Recorder(httpx.Response(200, json=leaked))), mode, "q"
    )
    assert message.content == ""
    assert message.tool_calls[0]["args"] == {"city": "Paris"}
    preamble = tool_completion("both", '{"city": "Paris"}', content="Let me check.")
    message = run_invoke(
        make_model(Recorder(httpx.Response(200, json=preamble))), mode, "q"
    )
    assert message.content == "Let me check."


def test_no_argument_tool_call(mode: str) -> None:
    payload = tool_completion("both", "")
    message = run_invoke(
        make_model(Recorder(httpx.Response(200, json=payload))), mode, "q"
    )
    assert message.tool_calls[0]["args"] == {}


# ------------------------------------------------------------------- binding


@pytest.mark.parametrize(
    ("choice", "wire"),
    [
        ("auto", "auto"),
        ("required", "required"),
        ("any", "required"),
        (True, {"type": "function", "function": {"name": "GetWeather"}}),
        ("GetWeather", {"type": "function", "function": {"name": "GetWeather"}}),
        (
            {"type": "function", "function": {"name": "GetWeather"}},
            {"type": "function", "function": {"name": "GetWeather"}},
        ),
    ],
)
def test_tool_choice_forms(mode: str, choice: Any, wire: Any) -> None:
    recorder = Recorder(httpx.Response(200, json=completion("both")))
    run_invoke(
        make_model(recorder).bind_tools([GetWeather], tool_choice=choice, strict=True),
        mode,
        "q",
    )
    body = recorder.bodies[0]
    assert body["tool_choice"] == wire
    assert body["tools"][0]["function"]["name"] == "GetWeather"
    assert body["tools"][0]["function"]["strict"] is True


def test_tool_choice_none_sends_no_tools(mode: str) -> None:
    recorder = Recorder(httpx.Response(200, json=completion("both")))
    run_invoke(
        make_model(recorder).bind_tools([GetWeather], tool_choice="none"), mode, "q"
    )
    assert "tools" not in recorder.bodies[0]
    assert "tool_choice" not in recorder.bodies[0]


def test_bad_tools_fail_at_bind_time() -> None:
    model = make_model(Recorder(httpx.Response(500)))

    def web_search(query: str) -> str:
        """Search."""
        return query

    web_search.__name__ = "web-search"
    model.bind_tools([web_search])  # renamed on the wire only: see test_names.py
    with pytest.raises(ValueError, match="not one of the bound tools"):
        model.bind_tools([GetWeather], tool_choice="other")
    with pytest.raises(ValueError, match="exactly one tool"):
        model.bind_tools([GetWeather, Joke], tool_choice=True)


# --------------------------------------------------------- structured output


def json_answer(text: str) -> httpx.Response:
    return httpx.Response(200, json=completion("both", content=text))


@pytest.mark.parametrize("schema", [Joke, JokeDict, Joke.model_json_schema()])
def test_json_schema_method(mode: str, schema: Any) -> None:
    recorder = Recorder(json_answer('{"setup": "Why?", "punchline": "Because."}'))
    result = run_invoke(
        make_model(recorder).with_structured_output(schema), mode, "joke"
    )
    body = recorder.bodies[0]
    assert body["response_format"]["type"] == "json_schema"
    assert body["response_format"]["json_schema"]["name"] == getattr(
        schema, "__name__", "Joke"
    )
    assert set(body["response_format"]["json_schema"]["schema"]["properties"]) == {
        "setup",
        "punchline",
    }
    if schema is Joke:
        assert result == Joke(setup="Why?", punchline="Because.")
    else:
        assert result == {"setup": "Why?", "punchline": "Because."}


def test_json_mode_and_function_calling_methods(mode: str) -> None:
    recorder = Recorder(json_answer('{"setup": "a", "punchline": "b"}'))
    parsed = run_invoke(
        make_model(recorder).with_structured_output(Joke, method="json_mode"),
        mode,
        "joke",
    )
    assert recorder.bodies[0]["response_format"] == {"type": "json_object"}
    assert parsed == Joke(setup="a", punchline="b")

    call = tool_completion("both", '{"setup": "a", "punchline": "b"}')
    call["choices"][0]["message"]["tool_calls"][0]["function"]["name"] = "JokeDict"
    recorder = Recorder(httpx.Response(200, json=call))
    parsed = run_invoke(
        make_model(recorder).with_structured_output(
            JokeDict, method="function_calling"
        ),
        mode,
        "joke",
    )
    assert recorder.bodies[0]["tool_choice"] == {
        "type": "function",
        "function": {"name": "JokeDict"},
    }
    assert parsed == {"setup": "a", "punchline": "b"}


def test_parse_failures_raise_or_come_back_with_include_raw(mode: str) -> None:
    broken = '{"setup": "Why?", "punch'
    with pytest.raises(OutputParserException) as caught:
        run_invoke(
            make_model(Recorder(json_answer(broken))).with_structured_output(Joke),
            mode,
            "joke",
        )
    assert broken in str(caught.value.llm_output)
    result = run_invoke(
        make_model(Recorder(json_answer(broken))).with_structured_output(
            Joke, include_raw=True
        ),
        mode,
        "joke",
    )
    assert result["parsed"] is None
    assert isinstance(result["parsing_error"], OutputParserException)
    assert result["raw"].content == broken
    good = run_invoke(
        make_model(
            Recorder(json_answer('{"setup": "a", "punchline": "b"}'))
        ).with_structured_output(Joke, include_raw=True),
        mode,
        "joke",
    )
    assert good["parsed"] == Joke(setup="a", punchline="b")
    assert good["parsing_error"] is None


def test_structured_output_schema_is_traced() -> None:
    from langchain_core.callbacks import BaseCallbackHandler

    class Capture(BaseCallbackHandler):
        options: dict[str, Any] = {}

        def on_chat_model_start(
            self, serialized: Any, messages: Any, **kwargs: Any
        ) -> None:
            Capture.options = kwargs.get("invocation_params", {}) | kwargs.get(
                "options", {}
            )

    recorder = Recorder(json_answer('{"setup": "a", "punchline": "b"}'))
    make_model(recorder).with_structured_output(Joke).invoke(
        "joke", config={"callbacks": [Capture()]}
    )
    assert Capture.options["ls_structured_output_format"]["schema"]["title"] == "Joke"
    assert "ls_structured_output_format" not in recorder.bodies[0]


def test_profile() -> None:
    profile = ChatGptOss(api_key="t", project_id=1).profile
    assert profile is not None
    assert profile["max_input_tokens"] == 131_072
    assert profile["reasoning_output"] is True
    assert profile["tool_calling"] is True
    assert profile["structured_output"] is True
    assert profile["image_inputs"] is False


def test_request_body_is_compact_json_with_unicode() -> None:
    recorder = Recorder(httpx.Response(200, json=completion("both")))
    make_model(recorder).invoke("Grüße")
    assert "Grüße".encode() in recorder.requests[0].content
    assert json.loads(recorder.requests[0].content)["messages"][0]["content"] == "Grüße"
