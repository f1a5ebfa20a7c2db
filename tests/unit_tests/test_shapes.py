"""Request shapes some vLLM releases refuse never leave the client (over MockTransport)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from langchain_core.messages import HumanMessage

from langchain_gptoss._request import build_request_body
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
