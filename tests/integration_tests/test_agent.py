"""A real agent (langchain's create_agent, a LangGraph graph) with two tools."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from langchain.agents import create_agent
from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage, ToolMessage
from langchain_core.tools import tool

from langchain_gptoss.testing import TirEmulator
from tests.integration_tests.conftest import needs_emulator

pytestmark = needs_emulator


@pytest.fixture
def emulator(release_emulator: TirEmulator) -> TirEmulator:
    """Every test here runs against each supported vLLM release."""
    return release_emulator


QUESTION = "What is the weather in 'Paris'? Also add the numbers 2 and 3."


@tool
def get_weather(city: str) -> str:
    """Current weather in a city."""
    return f"{city}: 21 C and sunny"


@tool
def add_numbers(a: int, b: int) -> int:
    """Add two integer numbers."""
    return a + b


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("era", ["reasoning_content", "reasoning"])
def test_agent_runs_several_steps_and_replays_reasoning(
    emulator: TirEmulator, mode: str, era: str
) -> None:
    emulator.reasoning_field = era  # type: ignore[assignment]
    emulator.tool_stream_quirks = True
    model = emulator.chat_model()
    agent = create_agent(model, [get_weather, add_numbers])
    state = {"messages": [HumanMessage(QUESTION)]}
    streamed: list[Any] = []
    if mode == "sync":
        for chunk, _meta in agent.stream(state, stream_mode="messages"):
            streamed.append(chunk)
        final = agent.invoke(state)
    else:

        async def run() -> dict[str, Any]:
            async for chunk, _meta in agent.astream(state, stream_mode="messages"):
                streamed.append(chunk)
            return await agent.ainvoke(state)

        final = asyncio.run(run())

    messages = final["messages"]
    calls = [m for m in messages if isinstance(m, AIMessage) and m.tool_calls]
    results = [m for m in messages if isinstance(m, ToolMessage)]
    assert [c.tool_calls[0]["name"] for c in calls] == ["get_weather", "add_numbers"]
    assert calls[0].tool_calls[0]["args"] == {"city": "Paris"}
    assert calls[1].tool_calls[0]["args"] == {"a": 2, "b": 3}
    assert [r.content for r in results] == ["Paris: 21 C and sunny", "5"]
    assert "21 C and sunny" in messages[-1].content
    assert all(m.additional_kwargs.get("reasoning_content") for m in calls)

    # The model streamed each step: reasoning, tool-call chunks and the answer.
    model_chunks = [c for c in streamed if isinstance(c, AIMessageChunk)]
    assert any(c.tool_call_chunks for c in model_chunks)
    assert any(c.additional_kwargs.get("reasoning_content") for c in model_chunks)

    # Each later step sent the earlier steps' reasoning and named tool results back.
    chat_requests = [r.body for r in emulator.requests]
    assert len(chat_requests) == 6  # three steps streamed, three invoked
    last = chat_requests[-1]["messages"]
    assistants = [m for m in last if m["role"] == "assistant"]
    tools = [m for m in last if m["role"] == "tool"]
    assert [a["reasoning"] for a in assistants] == [
        c.additional_kwargs["reasoning_content"] for c in calls
    ]
    assert all(a["reasoning_content"] == a["reasoning"] for a in assistants)
    assert all(a["content"] is None for a in assistants)
    assert [t["name"] for t in tools] == ["get_weather", "add_numbers"]
    assert [t["tool_call_id"] for t in tools] == [c.tool_calls[0]["id"] for c in calls]


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_an_agent_on_the_leaking_release_neither_shows_nor_resends_arguments(
    emulator: TirEmulator, mode: str
) -> None:
    """vLLM 0.10.2 copies a call's arguments into the answer's `content`."""
    emulator.leak_tool_args_into_content = True
    model = emulator.chat_model()
    agent = create_agent(model, [get_weather, add_numbers])
    state = {"messages": [HumanMessage(QUESTION)]}
    shown: list[str] = []
    if mode == "sync":
        for chunk, _meta in agent.stream(state, stream_mode="messages"):
            if isinstance(chunk, AIMessageChunk):
                shown.append(chunk.text)
        final = agent.invoke(state)
    else:

        async def run() -> dict[str, Any]:
            async for chunk, _meta in agent.astream(state, stream_mode="messages"):
                if isinstance(chunk, AIMessageChunk):
                    shown.append(chunk.text)
            return await agent.ainvoke(state)

        final = asyncio.run(run())
    assert '"city"' not in "".join(shown)
    assert all(
        not m.content
        for m in final["messages"]
        if isinstance(m, AIMessage) and m.tool_calls
    )
    for request in emulator.requests:
        sent = [m for m in request.body["messages"] if m["role"] == "assistant"]
        assert all(m["content"] is None for m in sent if m.get("tool_calls"))


@tool("github.create_issue")
def create_issue(title: str) -> str:
    """Open a GitHub issue with a title."""
    return f"opened issue {title!r}"


@tool("get-weather")
def get_weather_mcp(city: str) -> str:
    """Current weather in a city."""
    return f"{city}: 4 C and raining"


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_an_agent_calls_tools_whose_names_are_not_identifiers(
    emulator: TirEmulator, mode: str
) -> None:
    """MCP names (`github.create_issue`, `get-weather`) travel as identifiers."""
    model = emulator.chat_model()
    agent = create_agent(model, [create_issue, get_weather_mcp])
    state = {"messages": [HumanMessage("What is the weather in 'Oslo'?")]}
    final = agent.invoke(state) if mode == "sync" else asyncio.run(agent.ainvoke(state))
    calls = [m for m in final["messages"] if isinstance(m, AIMessage) and m.tool_calls]
    results = [m for m in final["messages"] if isinstance(m, ToolMessage)]
    assert [c.tool_calls[0]["name"] for c in calls] == ["get-weather"]
    assert [(r.name, r.content) for r in results] == [
        ("get-weather", "Oslo: 4 C and raining")
    ]
    for request in emulator.requests:
        body = request.body
        assert [t["function"]["name"] for t in body["tools"]] == [
            "github_create_issue",
            "get_weather",
        ]
        for message in body["messages"]:
            for call in message.get("tool_calls") or ():
                assert call["function"]["name"] == "get_weather"
            if message["role"] == "tool":
                assert message["name"] == "get_weather"
    assert len(emulator.requests) == 2
