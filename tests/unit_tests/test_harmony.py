"""The pure body -> harmony messages conversion, rule by rule and release by release."""

from __future__ import annotations

import json
from typing import Any

import pytest

from langchain_gptoss._harmony import (
    Developer,
    Frame,
    System,
    Tool,
    body_to_messages,
    parse_version,
)

DATE = "2026-06-01"
TOOL = {
    "type": "function",
    "function": {
        "name": "lookup_weather",
        "description": "Weather for a town",
        "parameters": {"type": "object", "properties": {"town": {"type": "string"}}},
    },
}
CALL = {
    "id": "call_1",
    "type": "function",
    "function": {"name": "lookup_weather", "arguments": '{"town": "Oslo"}'},
}
USER = {"role": "user", "content": "Rain in Oslo?"}


def convert(version: str, messages: list[dict[str, Any]], **body: Any) -> list[Any]:
    return body_to_messages(
        {"messages": messages, **body}, parse_version(version), DATE
    )


# ------------------------------------------------------------------ versions


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0.13.0", (0, 13, 0)),
        ("0.11", (0, 11, 0)),
        ("v0.20.1", (0, 20, 1)),
        ("0.10.1+gptoss", (0, 10, 1)),
        ("0.15.0rc1", (0, 15, 0)),
        (" 1.2.3 ", (1, 2, 3)),
    ],
)
def test_parse_version_reads_releases(text: str, expected: tuple[int, ...]) -> None:
    assert parse_version(text) == expected


@pytest.mark.parametrize("text", ["", "latest", "13", "0.x.1", "0.13.0 beta"])
def test_parse_version_refuses_what_is_not_a_release(text: str) -> None:
    with pytest.raises(ValueError, match=r"vllm_version must be a vLLM release"):
        parse_version(text)


def test_parse_version_refuses_releases_before_gpt_oss() -> None:
    with pytest.raises(ValueError, match=r"predates gpt-oss .*0\.10\.1 or later"):
        parse_version("0.9.2")


# ------------------------------------------------------------- system header


def test_system_message_carries_effort_and_date() -> None:
    system = convert("0.13.0", [USER], reasoning_effort="low")[0]
    assert system == System("low", DATE, ("analysis", "final"))
    assert convert("0.13.0", [USER])[0].reasoning_effort == "medium"


@pytest.mark.parametrize(
    ("version", "tools", "channels"),
    [
        ("0.10.2", [TOOL], ("analysis", "final")),  # never commentary
        ("0.11.0", [TOOL], ("analysis", "final")),
        ("0.11.2", [TOOL], ("analysis", "commentary", "final")),
        ("0.11.2", None, ("analysis", "final")),
        ("0.15.1", [], ("analysis", "commentary", "final")),  # `tools` key present
        ("0.16.0", None, ("analysis", "final")),
        ("0.17.0", None, ("analysis", "commentary", "final")),  # always from here
        ("0.33.0", None, ("analysis", "commentary", "final")),
    ],
)
def test_commentary_channel_per_release(
    version: str, tools: list[Any] | None, channels: tuple[str, ...]
) -> None:
    body = {} if tools is None else {"tools": tools}
    assert convert(version, [USER], **body)[0].channels == channels


# --------------------------------------------------------- developer message


def test_developer_message_is_empty_without_tools_up_to_0_13() -> None:
    assert convert("0.13.0", [USER])[1] == Developer()
    assert convert("0.13.0", [USER], tools=[])[1] == Developer()
    assert not any(isinstance(m, Developer) for m in convert("0.14.0", [USER]))


def test_developer_message_describes_the_tools() -> None:
    bare = {"type": "function", "function": {"name": "roll"}}
    developer = convert("0.15.1", [USER], tools=[TOOL, bare])[1]
    params = json.dumps(TOOL["function"]["parameters"])
    assert developer == Developer(
        tools=(
            Tool("lookup_weather", "Weather for a town", params),
            Tool("roll", "", None),
        )
    )


@pytest.mark.parametrize("role", ["system", "developer"])
def test_leading_instructions_stay_a_message_before_0_23(role: str) -> None:
    message = {"role": role, "content": "Be terse."}
    assert convert("0.20.1", [message, USER])[1:] == [
        Frame(role, ("Be terse.",)),
        Frame("user", ("Rain in Oslo?",)),
    ]


@pytest.mark.parametrize("role", ["system", "developer"])
def test_leading_instructions_join_the_developer_message_from_0_23(role: str) -> None:
    parts = [{"type": "text", "text": "Be "}, {"type": "text", "text": "terse."}]
    messages = [{"role": role, "content": parts}, USER]
    converted = convert("0.23.0", messages, tools=[TOOL])
    assert converted[1] == Developer(
        instructions="Be terse.",
        tools=(
            Tool(
                "lookup_weather",
                "Weather for a town",
                json.dumps(TOOL["function"]["parameters"]),
            ),
        ),
    )
    assert converted[2:] == [Frame("user", ("Rain in Oslo?",))]


def test_later_system_messages_become_developer_instructions_from_0_23() -> None:
    later = {"role": "system", "content": "Now answer in French."}
    assert convert("0.26.0", [USER, later])[1:] == [
        Frame("user", ("Rain in Oslo?",)),
        Developer(instructions="Now answer in French."),
    ]


# -------------------------------------------------------------- user content


def test_user_parts_stay_separate_texts() -> None:
    parts = [{"type": "text", "text": "Part one."}, {"type": "text", "text": "Two."}]
    messages = [{"role": "user", "content": parts}]
    assert convert("0.20.1", messages)[1:] == [Frame("user", ("Part one.", "Two."))]
    assert convert("0.20.1", [{"role": "user"}])[1:] == [Frame("user", ("",))]


# -------------------------------------------------------- assistant messages


REASONED = {"role": "assistant", "content": "Seven.", "reasoning": "Any will do."}


def test_assistant_text_has_no_channel_and_no_reasoning_before_0_13() -> None:
    assert convert("0.12.0", [USER, REASONED])[3:] == [Frame("assistant", ("Seven.",))]


def test_assistant_text_goes_to_final_from_0_13() -> None:
    assert convert("0.13.0", [USER, REASONED, USER])[2:] == [
        Frame("user", ("Rain in Oslo?",)),
        # its reasoning precedes the last final answer, so it is dropped
        Frame("assistant", ("Seven.",), channel="final"),
        Frame("user", ("Rain in Oslo?",)),
    ]


def test_empty_assistant_text_is_a_frame_before_0_13_and_omitted_after() -> None:
    empty = {"role": "assistant", "content": ""}
    assert convert("0.11.2", [USER, empty])[3:] == [Frame("assistant", ("",))]
    assert convert("0.13.0", [USER, empty])[3:] == []


def test_only_the_last_answer_keeps_reasoning_after_it() -> None:
    thinking = {"role": "assistant", "content": "", "reasoning": "Still thinking."}
    converted = convert("0.13.0", [USER, REASONED, USER, thinking])[3:]
    assert converted == [
        Frame("assistant", ("Seven.",), channel="final"),
        Frame("user", ("Rain in Oslo?",)),
        Frame("assistant", ("Still thinking.",), channel="analysis"),
    ]


def test_tool_calls_alone_before_0_13() -> None:
    asks = {
        "role": "assistant",
        "content": "Checking.",
        "reasoning": "Need the tool.",
        "tool_calls": [CALL],
    }
    call = Frame(
        "assistant",
        ('{"town": "Oslo"}',),
        channel="commentary",
        recipient="functions.lookup_weather",
        content_type="json",
    )
    assert convert("0.11.2", [USER, asks], tools=[TOOL])[2:] == [
        Frame("user", ("Rain in Oslo?",)),
        call,
    ]
    assert convert("0.13.0", [USER, asks], tools=[TOOL])[2:] == [
        Frame("user", ("Rain in Oslo?",)),
        Frame("assistant", ("Checking.",), channel="commentary"),
        Frame("assistant", ("Need the tool.",), channel="analysis"),
        call,
    ]


@pytest.mark.parametrize(
    ("version", "read"),
    [
        ("0.12.0", False),  # input reasoning ignored
        ("0.13.0", True),
        ("0.15.1", True),
        ("0.16.0", False),  # only `reasoning`
        ("0.21.0", False),
        ("0.22.0", True),  # renamed by a validator
    ],
)
def test_reasoning_content_key_per_release(version: str, read: bool) -> None:
    asks = {"role": "assistant", "reasoning_content": "Tool.", "tool_calls": [CALL]}
    channels = [m.channel for m in convert(version, [USER, asks])[2:]]
    assert ("analysis" in channels) is read


# ------------------------------------------------------------- tool results


def tool_result(**extra: Any) -> dict[str, Any]:
    return {"role": "tool", "content": "rain", **extra}


def test_tool_result_author_by_name_before_0_13() -> None:
    asks = {"role": "assistant", "content": None, "tool_calls": [CALL]}
    by_name = tool_result(tool_call_id="call_1", name="lookup_weather")
    assert convert("0.12.0", [USER, asks, by_name])[-1] == Frame(
        "tool", ("rain",), name="functions.lookup_weather", channel="commentary"
    )
    assert convert("0.12.0", [USER, asks, tool_result(tool_call_id="call_1")])[
        -1
    ].name == ("functions.")


def test_tool_result_author_by_call_id_from_0_13() -> None:
    asks = {"role": "assistant", "content": None, "tool_calls": [CALL]}
    wrong_name = tool_result(tool_call_id="call_1", name="other")
    assert convert("0.13.0", [USER, asks, wrong_name])[-1] == Frame(
        "tool",
        ("rain",),
        name="functions.lookup_weather",
        channel="commentary",
        recipient="assistant",
    )
    unknown = tool_result(tool_call_id="call_9", name="lookup_weather")
    assert convert("0.13.0", [USER, asks, unknown])[-1].name == "functions."


def test_tool_result_parts_are_joined() -> None:
    parts = [{"type": "text", "text": "rain: yes"}, {"type": "text", "text": "4C"}]
    result = tool_result(tool_call_id="call_1", content=parts)
    asks = {"role": "assistant", "content": None, "tool_calls": [CALL]}
    assert convert("0.13.0", [USER, asks, result])[-1].texts == ("rain: yes4C",)


def test_messages_are_hashable_for_the_count_cache() -> None:
    asks = {"role": "assistant", "content": None, "tool_calls": [CALL]}
    messages = convert("0.13.0", [{"role": "system", "content": "x"}, USER, asks])
    assert len({*messages, *convert("0.13.0", [USER], tools=[TOOL])}) >= len(messages)
