"""Request shapes some vLLM releases refuse never leave the client (over MockTransport)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langchain_core.tools import StructuredTool
from pydantic import BaseModel

from langchain_gptoss._messages import messages_to_wire
from langchain_gptoss._request import build_request_body, format_tools
from tests.unit_tests.conftest import (
    Recorder,
    make_model,
    run_invoke,
    run_stream,
    sse_bytes,
    sse_response,
)
from tests.unit_tests.wire import completion, stream_events

ANSWER = completion("both", content="Hi.", reasoning="Greet.")


def answered() -> Recorder:
    return Recorder(httpx.Response(200, json=ANSWER))


def body_of(params: dict[str, Any], **options: Any) -> dict[str, Any]:
    settings = {"stream": False, "stream_usage": True, **options}
    return build_request_body([HumanMessage("hi")], params, **settings)


# ------------------------------------------------------------- 1. empty tool lists


@pytest.mark.parametrize("tools", [[], ()])
@pytest.mark.parametrize("choice", [None, "auto", "required", "none"])
def test_an_empty_tool_list_sends_no_tools_and_no_choice(
    tools: Any, choice: str | None
) -> None:
    body = body_of({"tools": tools, "tool_choice": choice, "parallel_tool_calls": True})
    assert "tools" not in body
    assert "tool_choice" not in body


def test_bind_tools_with_no_tools(mode: str) -> None:
    recorder = answered()
    model = make_model(recorder)
    bound = model.bind_tools([], tool_choice="any")
    assert bound.kwargs["tools"] == []  # type: ignore[attr-defined]
    run_invoke(bound, mode, "hi")
    assert "tools" not in recorder.bodies[0]
    assert "tool_choice" not in recorder.bodies[0]


def test_empty_tools_per_call_and_in_model_kwargs(mode: str) -> None:
    recorder = answered()
    model = make_model(recorder, model_kwargs={"tools": [], "tool_choice": "auto"})
    run_invoke(model, mode, "hi")
    run_invoke(make_model(recorder), mode, "hi", tools=[], tool_choice="auto")
    for body in recorder.bodies:
        assert "tools" not in body
        assert "tool_choice" not in body


def test_empty_tools_when_streaming(mode: str) -> None:
    events = stream_events("both")
    recorder = Recorder(lambda: sse_response(sse_bytes(*events)))
    run_stream(make_model(recorder).bind_tools([]), mode, "hi")
    assert "tools" not in recorder.bodies[0]


# ----------------------------------------------------------------- 3. extra_body

VLLM_EXTRAS = {
    "top_k": 20,
    "repetition_penalty": 1.1,
    "chat_template_kwargs": {"enable_thinking": False},
}


def test_extra_body_is_a_field_merged_into_the_top_level(
    mode: str, caplog: pytest.LogCaptureFixture
) -> None:
    recorder = answered()
    model = make_model(recorder, extra_body=VLLM_EXTRAS)
    assert model.extra_body == VLLM_EXTRAS
    assert model.model_kwargs == {}
    assert not caplog.records  # no "not a ChatGptOss field" warning
    run_invoke(model, mode, "hi")
    body = recorder.bodies[0]
    assert "extra_body" not in body
    assert {key: body[key] for key in VLLM_EXTRAS} == VLLM_EXTRAS


def test_per_call_extra_body_is_merged_over_the_models(mode: str) -> None:
    recorder = answered()
    model = make_model(recorder, extra_body={"top_k": 20, "min_p": 0.05})
    run_invoke(model, mode, "hi", extra_body={"top_k": 5, "seed": 7})
    run_invoke(model.bind(extra_body={"min_p": 0.1}), mode, "hi")
    first, second = recorder.bodies
    assert (first["top_k"], first["min_p"], first["seed"]) == (5, 0.05, 7)
    assert (second["top_k"], second["min_p"]) == (20, 0.1)
    assert "extra_body" not in first
    assert "extra_body" not in second


def test_extra_body_wins_over_everything_else(mode: str) -> None:
    """The OpenAI SDK merges extra_body last, over the body it built; so do we."""
    recorder = answered()
    model = make_model(
        recorder, temperature=0.5, top_p=0.9, extra_body={"temperature": 0.2}
    )
    run_invoke(model, mode, "hi", top_p=0.8, extra_body={"top_p": 0.7})
    body = recorder.bodies[0]
    assert (body["temperature"], body["top_p"]) == (0.2, 0.7)
    options = {"include_usage": True, "continuous_usage_stats": True}
    streamed = Recorder(lambda: sse_response(sse_bytes(*stream_events("both"))))
    run_stream(make_model(streamed), mode, "hi", extra_body={"stream_options": options})
    assert streamed.bodies[0]["stream_options"] == options


def test_extra_body_none_values_are_sent_as_given() -> None:
    body = body_of({"temperature": 0.3}, extra_body={"temperature": None, "x": 1})
    assert body["temperature"] is None
    assert body["x"] == 1


def test_old_model_kwargs_spelling_is_merged_too(mode: str) -> None:
    recorder = answered()
    model = make_model(
        recorder,
        extra_body={"top_k": 1},
        model_kwargs={"extra_body": {"top_k": 2, "min_p": 0.5}},
    )
    run_invoke(model, mode, "hi", extra_body={"min_p": 0.25})
    body = recorder.bodies[0]
    assert (body["top_k"], body["min_p"]) == (2, 0.25)
    assert "extra_body" not in body


def test_extra_body_is_checked_and_sized_as_sent() -> None:
    model = make_model(answered(), extra_body={"reasoning_effort": "minimal"})
    with pytest.raises(ValueError, match="reasoning_effort must be one of"):
        model.invoke("hi")
    model = make_model(answered())
    with pytest.raises(ValueError, match="n > 1 cannot be streamed"):
        list(model.stream("hi", extra_body={"n": 2}))
    plain = model._prepare([HumanMessage("hi")], None, {}, stream=False)
    logprobs = {"logprobs": True, "top_logprobs": 5}
    call = model._prepare(
        [HumanMessage("hi")], None, {"extra_body": logprobs}, stream=False
    )
    assert call.max_response_bytes == 7 * plain.max_response_bytes


@pytest.mark.parametrize(
    ("extra_body", "match"),
    [
        ("top_k=20", "extra_body must be a dict of request body fields"),
        ([("top_k", 20)], "extra_body must be a dict of request body fields"),
        ({"top_k": float("nan")}, "extra_body has nan at top_k"),
        ({"vllm_xargs": {"w": [1.0, float("inf")]}}, r"has inf at vllm_xargs\.w\[1\]"),
        ({"model": "gpt_oss_20b"}, "extra_body cannot set 'model'"),
        ({"stream": True}, "extra_body cannot set 'stream'"),
    ],
)
def test_unusable_extra_body_is_refused(extra_body: Any, match: str) -> None:
    recorder = answered()
    model = make_model(recorder)
    with pytest.raises(ValueError, match=match):
        model.invoke("hi", extra_body=extra_body)
    with pytest.raises(ValueError, match=match):
        model.bind(extra_body=extra_body).invoke("hi")
    if isinstance(extra_body, dict):
        with pytest.raises(ValueError, match=match):
            make_model(recorder, extra_body=extra_body)
    else:
        with pytest.raises(ValueError, match="valid dictionary"):
            make_model(recorder, extra_body=extra_body)
    assert not recorder.requests


@pytest.mark.filterwarnings(
    "ignore::langchain_core._api.beta_decorator.LangChainBetaWarning"
)
def test_extra_body_survives_dumpd_and_load(monkeypatch: pytest.MonkeyPatch) -> None:
    from langchain_core.load import dumpd, load

    from langchain_gptoss import ChatGptOss

    model = ChatGptOss(api_key="t0k", project_id=1, extra_body=VLLM_EXTRAS)
    monkeypatch.setenv("E2E_TIR_ACCESS_TOKEN", "t0k")
    restored = load(
        dumpd(model),
        valid_namespaces=["langchain_gptoss"],
        allowed_objects=[ChatGptOss],
        secrets_from_env=True,
    )
    assert restored.extra_body == VLLM_EXTRAS


# ------------------------------------------------------ 4. tool message content

MCP_RESULT = [
    {"type": "text", "text": "rain: yes"},
    {"type": "text", "text": "temp: 4C"},
]
CALL = AIMessage("", tool_calls=[{"id": "c1", "name": "lookup_weather", "args": {}}])


def tool_wire(content: Any) -> dict[str, Any]:
    return messages_to_wire([CALL, ToolMessage(content=content, tool_call_id="c1")])[1]


@pytest.mark.parametrize(
    ("content", "text"),
    [
        (MCP_RESULT, "rain: yes\ntemp: 4C"),
        (["rain: yes", {"type": "text", "text": "temp: 4C"}], "rain: yes\ntemp: 4C"),
        ([{"type": "text", "text": "only"}], "only"),
        ([], ""),
        ("plain", "plain"),
    ],
)
def test_tool_content_goes_as_one_string(content: Any, text: str) -> None:
    assert tool_wire(content) == {
        "role": "tool",
        "tool_call_id": "c1",
        "content": text,
        "name": "lookup_weather",
    }


def test_tool_content_is_one_string_on_the_wire(mode: str) -> None:
    recorder = answered()
    history = [HumanMessage("Rain?"), CALL, ToolMessage(MCP_RESULT, tool_call_id="c1")]
    run_invoke(make_model(recorder), mode, history)
    assert recorder.bodies[0]["messages"][2]["content"] == "rain: yes\ntemp: 4C"


def test_other_roles_keep_their_text_parts() -> None:
    (human,) = messages_to_wire([HumanMessage(MCP_RESULT)])  # type: ignore[arg-type]
    assert human["content"] == MCP_RESULT


# --------------------------------------------------- 5. tools without description

ROLL = {"type": "object", "properties": {"sides": {"type": "integer"}}}


class RollDie(BaseModel):
    sides: int


def roll_die(sides: int) -> int:
    return sides


NO_DOC_TOOL = StructuredTool.from_function(roll_die, name="roll_die", description="")


@pytest.mark.parametrize(
    "tool",
    [
        {"type": "function", "function": {"name": "roll_die", "parameters": ROLL}},
        {"type": "function", "function": {"name": "roll_die", "description": None}},
        {"name": "roll_die", "parameters": ROLL},
        {"name": "roll_die"},
        RollDie,
        roll_die,
        NO_DOC_TOOL,
    ],
    ids=[
        "openai-dict",
        "null",
        "bare-dict",
        "bare-name",
        "pydantic",
        "function",
        "tool",
    ],
)
def test_every_tool_form_gets_a_description(tool: Any) -> None:
    before = repr(tool)
    (formatted,) = format_tools([tool])
    assert formatted["function"]["description"] == ""
    assert repr(tool) == before  # the caller's dict is not changed


def test_a_description_is_kept() -> None:
    tool = {"type": "function", "function": {"name": "f", "description": "Does f."}}
    assert format_tools([tool]) == [tool]


def test_bound_and_per_call_tools_are_sent_with_a_description(mode: str) -> None:
    bare = {"type": "function", "function": {"name": "roll_die", "parameters": ROLL}}
    recorder = answered()
    model = make_model(recorder)
    run_invoke(model.bind_tools([bare, {"name": "other"}]), mode, "hi")
    run_invoke(model, mode, "hi", tools=[bare])
    run_invoke(make_model(recorder, model_kwargs={"tools": [bare]}), mode, "hi")
    for body in recorder.bodies:
        assert all(tool["function"]["description"] == "" for tool in body["tools"])
    assert "description" not in bare["function"]


# ------------------------------------------- 6. other block types in any message

FORECAST = {"city": "Zürich", "temp_c": 4, "rain": True, "hours": [1, 2]}
FORECAST_TEXT = '{"city":"Zürich","temp_c":4,"rain":true,"hours":[1,2]}'
SEARCH_RESULT = {
    "type": "search_result",
    "source": "https://example.org/oslo",
    "title": "Oslo weather",
    "content": [
        {"type": "text", "text": "Rain all day."},
        {"type": "text", "text": "4 C."},
    ],
    "citations": {"enabled": True},
    "cache_control": {"type": "ephemeral"},
}
SEARCH_TEXT = (
    "Title: Oslo weather\nSource: https://example.org/oslo\nRain all day.\n4 C."
)


def wire_of(kind: str, content: list[Any]) -> Any:
    """`content` as the wire carries it in a message of `kind`."""
    if kind == "tool":
        return tool_wire(content)["content"]
    if kind == "human":
        (message,) = messages_to_wire([HumanMessage(content)])
        return message["content"]
    (message,) = messages_to_wire([AIMessage(content)])
    return message["content"]


KINDS = ["tool", "human", "ai"]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    ("block", "text"),
    [
        ({"type": "json", "json": FORECAST}, FORECAST_TEXT),
        ({"type": "json", "json": [1, "ü", None]}, '[1,"ü",null]'),
        ({"type": "json", "json": "plain"}, '"plain"'),
        (SEARCH_RESULT, SEARCH_TEXT),
        (
            {"type": "search_result", "source": "doc-7", "content": "Loose text."},
            "Source: doc-7\nLoose text.",
        ),
        (
            {"type": "search_result", "url": "https://x.org", "content": []},
            "URL: https://x.org",
        ),
        ({"type": "refusal", "refusal": "I can't help with that."}, None),
        ({"type": "non_standard", "value": {"text": "provider text"}}, None),
        (
            {"type": "non_standard", "value": {"type": "json", "json": {"a": 1}}},
            '{"a":1}',
        ),
        (
            {
                "type": "text",
                "text": "cited",
                "annotations": [{"type": "citation", "url": "https://x.org"}],
                "citations": [{"type": "char_location", "cited_text": "c"}],
                "cache_control": {"type": "ephemeral"},
                "extras": {"prompt_cache_breakpoint": True},
            },
            "cited",
        ),
    ],
)
def test_blocks_with_text_are_sent_as_text(
    kind: str, block: dict[str, Any], text: str | None
) -> None:
    expected = text
    if expected is None:
        expected = block.get("refusal") or block["value"]["text"]
    assert wire_of(kind, [block]) == expected


@pytest.mark.parametrize("kind", KINDS)
def test_several_blocks_keep_their_order(kind: str) -> None:
    content = [{"type": "text", "text": "Found:"}, {"type": "json", "json": FORECAST}]
    if kind == "tool":
        assert wire_of(kind, content) == f"Found:\n{FORECAST_TEXT}"
    else:
        assert wire_of(kind, content) == [
            {"type": "text", "text": "Found:"},
            {"type": "text", "text": FORECAST_TEXT},
        ]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    "block",
    [
        {"type": "non_standard", "value": {"type": "cachePoint", "cachePoint": {}}},
        {"type": "non_standard", "value": {"text": ""}},
        {"type": "non_standard", "value": "opaque"},
        {"type": "non_standard", "value": {"type": "thinking", "thinking": "x"}},
        {"type": "citation", "url": "https://x.org", "cited_text": "c"},
        {"type": "non_standard_annotation", "value": {"k": 1}},
        {"type": "refusal", "refusal": ""},
        {"type": "server_tool_call_chunk", "name": "web_search", "args": "{"},
        {"type": "function_call", "call_id": "c", "name": "f", "arguments": "{}"},
        {"type": "server_tool_result", "tool_call_id": "c", "status": "success"},
    ],
)
def test_blocks_without_text_are_dropped(kind: str, block: dict[str, Any]) -> None:
    assert wire_of(kind, [{"type": "text", "text": "kept"}, block]) == "kept"


def test_a_refusal_in_history_is_replayed_as_text() -> None:
    refused = AIMessage([{"type": "refusal", "refusal": "I can't help with that."}])
    wire = messages_to_wire([HumanMessage("Do it"), refused, HumanMessage("Why?")])
    assert wire[1] == {"role": "assistant", "content": "I can't help with that."}


@pytest.mark.parametrize("kind", KINDS)
def test_json_without_json_is_refused_clearly(kind: str) -> None:
    with pytest.raises(ValueError, match=r"\(\w+\): a 'json' content block needs"):
        wire_of(kind, [{"type": "json", "data": {}}])
    nan = {"type": "json", "json": {"temps": [1.0, float("nan")]}}
    with pytest.raises(ValueError, match=r"has nan at json\.temps\[1\], and JSON"):
        wire_of(kind, [nan])
    with pytest.raises(ValueError, match=r"has inf at json, and JSON"):
        wire_of(kind, [{"type": "json", "json": float("inf")}])


MEDIA = [
    {"type": "image", "url": "https://x/y.png"},
    {"type": "image", "base64": "AAAA", "mime_type": "image/png"},
    {"type": "audio", "base64": "AAAA", "mime_type": "audio/wav"},
    {"type": "video", "url": "https://x/y.mp4"},
    {"type": "file", "file_id": "file-1"},
    {"type": "text-plain", "text": "notes", "mime_type": "text/plain"},
    {"type": "image_url", "image_url": {"url": "https://x/y.png"}},
    {"type": "input_audio", "input_audio": {"data": "AAAA", "format": "wav"}},
    {"type": "file", "file": {"file_data": "AAAA", "filename": "a.pdf"}},
    {"type": "input_image", "image_url": "https://x/y.png"},
    {"type": "input_file", "file_id": "file-1"},
    {"type": "document", "source": {"type": "base64", "data": "AAAA"}},
    {"type": "media", "mime_type": "image/png", "data": b"AAAA"},
    {"type": "non_standard", "value": {"type": "image", "url": "https://x/y.png"}},
]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("block", MEDIA, ids=[str(i) for i in range(len(MEDIA))])
def test_media_is_still_refused_clearly(kind: str, block: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=r"content block cannot be sent: gpt-oss"):
        wire_of(kind, [{"type": "text", "text": "see"}, block])


def test_unknown_blocks_are_still_refused() -> None:
    with pytest.raises(ValueError, match="unsupported content block type 'mystery'"):
        wire_of("tool", [{"type": "mystery"}])
    for block in ({"text": "no type"}, {"type": ["text"]}):
        with pytest.raises(ValueError, match="a content block needs a 'type'"):
            wire_of("human", [block])
    wrapped = {"type": "non_standard", "value": {"type": ["x"], "text": "t"}}
    assert wire_of("tool", [wrapped]) == "t"


def test_a_json_tool_result_reaches_the_wire(mode: str) -> None:
    recorder = answered()
    result = ToolMessage([{"type": "json", "json": FORECAST}], tool_call_id="c1")
    run_invoke(make_model(recorder), mode, [HumanMessage("Rain?"), CALL, result])
    assert recorder.bodies[0]["messages"][2]["content"] == FORECAST_TEXT
