"""Request shapes real vLLM releases refuse, end to end against the emulator.

Each test first shows that the emulator, playing the release that refuses the old
shape, answers it with that release's real error body (vllm-golden), then that
ChatGptOss gets an answer from the same emulator.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from langchain.agents import create_agent
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langchain_core.tools import tool
from pydantic import BaseModel

from langchain_gptoss.testing import TirEmulator
from tests.golden import request_answers
from tests.integration_tests.conftest import needs_emulator

pytestmark = needs_emulator

GOLDEN = request_answers(
    ("tools_empty_list", "tool_loop_list_content", "tool_without_description")
)


@pytest.fixture(params=["sync", "async"])
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def run(runnable: Any, mode: str, *args: Any, **kwargs: Any) -> Any:
    if mode == "sync":
        return runnable.invoke(*args, **kwargs)
    return asyncio.run(runnable.ainvoke(*args, **kwargs))


def stream(runnable: Any, mode: str, *args: Any, **kwargs: Any) -> str:
    if mode == "sync":
        return "".join(str(c.content) for c in runnable.stream(*args, **kwargs))

    async def collect() -> str:
        return "".join(
            [str(c.content) async for c in runnable.astream(*args, **kwargs)]
        )

    return asyncio.run(collect())


def assert_refuses_old_shape(emulator: TirEmulator, case: str) -> None:
    """The emulator answers the golden body of `case` as its release did."""
    golden = GOLDEN["answers"][emulator.vllm_version][case]
    reply = httpx.post(
        emulator.chat_url,
        headers={"Authorization": f"Bearer {emulator.token}"},
        json=GOLDEN["bodies"][case],
    )
    assert reply.status_code == golden["status"] == 400
    assert reply.json() == golden["error"]
    emulator.clear()


def sent(emulator: TirEmulator) -> list[dict[str, Any]]:
    return [request.body for request in emulator.requests]


# ------------------------------------------------------------- 1. empty tool lists


class Forecast(BaseModel):
    """A weather forecast."""

    city: str
    summary: str


def test_bind_tools_with_no_tools_on_0_20(emulator: TirEmulator, mode: str) -> None:
    emulator.vllm_version = "0.20.1"
    assert_refuses_old_shape(emulator, "tools_empty_list")
    model = emulator.chat_model(max_retries=0)
    answer = run(model.bind_tools([]), mode, "Hello there")
    assert answer.content
    assert stream(model.bind_tools([], tool_choice="auto"), mode, "Hello there")
    for body in sent(emulator):
        assert "tools" not in body
        assert "tool_choice" not in body


def test_agent_with_a_schema_and_no_tools_on_0_20(
    emulator: TirEmulator, mode: str
) -> None:
    emulator.vllm_version = "0.20.1"
    assert_refuses_old_shape(emulator, "tools_empty_list")
    agent = create_agent(
        emulator.chat_model(max_retries=0), tools=[], response_format=Forecast
    )
    state = run(agent, mode, {"messages": [HumanMessage("Forecast for 'Oslo'?")]})
    assert isinstance(state["structured_response"], Forecast)
    assert isinstance(state["messages"][-1], AIMessage)
    (body,) = sent(emulator)
    assert body["response_format"]["type"] == "json_schema"
    assert "tools" not in body


# ----------------------------------------------------------------- 3. extra_body


def test_extra_body_reaches_vllm_at_the_top_level(
    emulator: TirEmulator, mode: str
) -> None:
    """vLLM ignores a nested `extra_body` silently: the keys must be top-level."""
    model = emulator.chat_model(
        max_retries=0,
        extra_body={"top_k": 20, "chat_template_kwargs": {"enable_thinking": False}},
    )
    assert run(model, mode, "Hello there", extra_body={"top_k": 5}).content
    assert stream(model.bind(extra_body={"repetition_penalty": 1.1}), mode, "Hi")
    invoked, streamed = sent(emulator)
    for body in (invoked, streamed):
        assert "extra_body" not in body
        assert body["chat_template_kwargs"] == {"enable_thinking": False}
    assert invoked["top_k"] == 5
    assert (streamed["top_k"], streamed["repetition_penalty"]) == (20, 1.1)


# ------------------------------------------------------ 4. tool message content

LOOKUP_WEATHER = {
    "type": "function",
    "function": {
        "name": "lookup_weather",
        "description": "Weather for a town",
        "parameters": {"type": "object", "properties": {"town": {"type": "string"}}},
    },
}


@pytest.mark.parametrize("version", ["0.10.2", "0.11.0"])
def test_mcp_style_tool_result_on_0_11_0(
    emulator: TirEmulator, mode: str, version: str
) -> None:
    emulator.vllm_version = version
    assert_refuses_old_shape(emulator, "tool_loop_list_content")
    call = {"id": "call_oslo_1", "name": "lookup_weather", "args": {"town": "Oslo"}}
    history = [
        HumanMessage("Is it raining in Oslo?"),
        AIMessage("", tool_calls=[call]),
        ToolMessage(
            [
                {"type": "text", "text": "rain: yes"},
                {"type": "text", "text": "temp: 4C"},
            ],
            tool_call_id="call_oslo_1",
        ),
    ]
    answer = run(
        emulator.chat_model(max_retries=0).bind_tools([LOOKUP_WEATHER]), mode, history
    )
    assert "rain: yes\ntemp: 4C" in answer.content
    (body,) = sent(emulator)
    assert body["messages"][2]["content"] == "rain: yes\ntemp: 4C"


# --------------------------------------------------- 5. tools without description


@pytest.mark.parametrize(
    "tool",
    [
        {"type": "function", "function": {"name": "roll_die", "parameters": {}}},
        {"name": "roll_die", "parameters": {"type": "object", "properties": {}}},
    ],
    ids=["openai-dict", "bare-dict"],
)
def test_tool_without_description_on_0_20(
    emulator: TirEmulator, mode: str, tool: dict[str, Any]
) -> None:
    emulator.vllm_version = "0.20.1"
    assert_refuses_old_shape(emulator, "tool_without_description")
    answer = run(
        emulator.chat_model(max_retries=0).bind_tools([tool]), mode, "Roll a die."
    )
    assert [call["name"] for call in answer.tool_calls] == ["roll_die"]
    (body,) = sent(emulator)
    assert body["tools"][0]["function"]["description"] == ""


# ------------------------------------------- 6. other block types in any message


@tool
def get_forecast(city: str) -> list[dict[str, Any]]:
    """Weather forecast for a city."""
    forecast = {"city": city, "temp_c": 4, "rain": True, "note": "Grüße"}
    return [{"type": "json", "json": forecast}]


def test_agent_loop_with_a_json_tool_result(emulator: TirEmulator, mode: str) -> None:
    emulator.vllm_version = "0.11.0"
    agent = create_agent(emulator.chat_model(max_retries=0), [get_forecast])
    state = run(agent, mode, {"messages": [HumanMessage("Forecast for 'Oslo'?")]})
    result = state["messages"][2]
    assert isinstance(result, ToolMessage)
    assert result.content == [
        {
            "type": "json",
            "json": {"city": "Oslo", "temp_c": 4, "rain": True, "note": "Grüße"},
        }
    ]
    text = '{"city":"Oslo","temp_c":4,"rain":true,"note":"Grüße"}'
    assert text in state["messages"][-1].content
    _, second = sent(emulator)
    assert second["messages"][-1]["content"] == text


def test_search_results_and_a_refusal_in_history(
    emulator: TirEmulator, mode: str
) -> None:
    emulator.vllm_version = "0.11.0"
    call = {"id": "call_1", "name": "lookup_weather", "args": {"town": "Oslo"}}
    search = {
        "type": "search_result",
        "source": "https://example.org/oslo",
        "title": "Oslo weather",
        "content": [{"type": "text", "text": "Rain all day."}],
        "citations": {"enabled": True},
    }
    history = [
        HumanMessage("Hack the weather service."),
        AIMessage([{"type": "refusal", "refusal": "I can't help with that."}]),
        HumanMessage("Is it raining in Oslo?"),
        AIMessage("", tool_calls=[call]),
        ToolMessage(
            [search, {"type": "non_standard", "value": {}}], tool_call_id="call_1"
        ),
    ]
    answer = run(
        emulator.chat_model(max_retries=0).bind_tools([LOOKUP_WEATHER]), mode, history
    )
    assert "Rain all day." in answer.content
    (body,) = sent(emulator)
    assert body["messages"][1]["content"] == "I can't help with that."
    assert body["messages"][4]["content"] == (
        "Title: Oslo weather\nSource: https://example.org/oslo\nRain all day."
    )
