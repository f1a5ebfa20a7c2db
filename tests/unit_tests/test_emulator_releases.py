"""The emulator's release rules (`vllm`) against real vLLM answers (vllm-golden)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from langchain_gptoss.testing import TirEmulator
from langchain_gptoss.testing._errors import ApiError
from langchain_gptoss.testing._release import Release
from langchain_gptoss.testing._releases import DEFAULT_RELEASE, TABLE, profile
from langchain_gptoss.testing._vllm import JsonAnswer, Settings, complete
from tests.golden import request_answers

GOLDEN = request_answers(
    ("tools_empty_list", "tool_loop_list_content", "tool_without_description")
)
RELEASES = sorted(GOLDEN["answers"], key=lambda text: Release.parse(text).parts)
CASES = sorted(GOLDEN["bodies"])


def answer(body: dict[str, Any], version: str) -> ApiError | JsonAnswer:
    settings = Settings(
        model="gpt_oss_120b",
        era="both",
        context_window=131072,
        token_ids_key=True,
        tokens_per_chunk=1,
        force_include_usage=False,
        responder=None,
        profile=profile(version),
    )
    result = complete(body, settings, request_id="chatcmpl-1", created=0)
    assert isinstance(result, ApiError | JsonAnswer)
    return result


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("version", RELEASES)
def test_each_release_answers_as_the_real_one(version: str, case: str) -> None:
    golden = GOLDEN["answers"][version][case]
    result = answer(GOLDEN["bodies"][case], version)
    if golden["status"] == 200:
        assert isinstance(result, JsonAnswer)
    else:
        assert isinstance(result, ApiError)
        assert result.status == golden["status"]
        assert result.payload == golden["error"]


@pytest.mark.parametrize(
    ("case", "refused", "served"),
    [
        ("tools_empty_list", "0.20.1", "0.16.0"),
        ("tool_loop_list_content", "0.11.0", "0.11.2"),
        ("tool_without_description", "0.20.1", "0.26.0"),
    ],
)
def test_boundaries(case: str, refused: str, served: str) -> None:
    """Both sides of each boundary are golden releases, checked above; here by name."""
    assert GOLDEN["answers"][refused][case]["status"] == 400
    assert GOLDEN["answers"][served][case]["status"] == 200
    assert isinstance(answer(GOLDEN["bodies"][case], refused), ApiError)
    assert isinstance(answer(GOLDEN["bodies"][case], served), JsonAnswer)


def test_releases_between_the_golden_ones_follow_the_protocol() -> None:
    body = GOLDEN["bodies"]
    assert isinstance(answer(body["tools_empty_list"], "0.19.9"), JsonAnswer)
    assert isinstance(answer(body["tools_empty_list"], "0.20.0"), ApiError)
    assert isinstance(answer(body["tool_loop_list_content"], "0.11.1"), JsonAnswer)
    assert isinstance(answer(body["tool_without_description"], "0.23.5"), ApiError)
    assert isinstance(answer(body["tool_without_description"], "0.24.0"), JsonAnswer)
    # description: null is what harmony saw for a missing one.
    tool = {"type": "function", "function": {"name": "roll_die", "description": None}}
    nulled = {**body["tool_without_description"], "tools": [tool]}
    assert isinstance(answer(nulled, "0.20.1"), ApiError)


def test_list_tool_content_is_glued_from_0_11_1() -> None:
    """What the model reads: the parts joined with "" (protocol §2.d)."""
    result = answer(GOLDEN["bodies"]["tool_loop_list_content"], "0.11.2")
    assert isinstance(result, JsonAnswer)
    content = json.loads(result.body)["choices"][0]["message"]["content"]
    assert "rain: yestemp: 4C" in content


def test_without_a_version_the_default_release_plays() -> None:
    """0.13.0: `tools: []` and list tool content served, no description refused."""
    assert DEFAULT_RELEASE == "0.13.0"
    assert TirEmulator().vllm == "0.13.0"
    body = GOLDEN["bodies"]
    assert isinstance(answer(body["tools_empty_list"], DEFAULT_RELEASE), JsonAnswer)
    listed = answer(body["tool_loop_list_content"], DEFAULT_RELEASE)
    assert isinstance(listed, JsonAnswer)
    nameless = answer(body["tool_without_description"], DEFAULT_RELEASE)
    assert isinstance(nameless, ApiError)


def test_the_table_has_one_row_per_profile_attribute() -> None:
    names = [row.name for row in TABLE]
    assert len(set(names)) == len(names)
    played = profile("0.13.0")
    for row in TABLE:
        assert getattr(played, row.name) == row.value((0, 13, 0))
        assert row.source
        starts = [since for since, _ in row.steps]
        assert starts == sorted(starts)


@pytest.mark.parametrize(
    ("version", "name", "value"),
    [
        ("0.10.2", "reasoning_field", "reasoning_content"),
        ("0.11.1", "reasoning_field", "both"),
        ("0.16.0", "reasoning_field", "reasoning"),
        ("0.12.9", "input_reasoning_keys", ()),
        ("0.15.1", "input_reasoning_keys", ("reasoning", "reasoning_content")),
        ("0.21.0", "input_reasoning_keys", ("reasoning",)),
        ("0.22.0", "input_reasoning_keys", ("reasoning", "reasoning_content")),
        ("0.12.0", "tool_message_key", "name"),
        ("0.13.0", "tool_message_key", "tool_call_id"),
        ("0.22.9", "system_as_instructions", False),
        ("0.23.0", "system_as_instructions", True),
        ("0.11.2", "id_hex_digits", 32),
        ("0.12.0", "id_hex_digits", 16),
        ("0.17.0", "empty_stream_options_usage", True),
        ("0.18.0", "empty_stream_options_usage", False),
        ("0.10.2", "tool_args_in_content", True),
        ("0.11.0", "tool_args_in_content", False),
        ("0.13.0", "exceptions_as_200", False),
        ("0.15.1", "exceptions_as_200", True),
        ("0.16.0", "exceptions_as_200", True),
        ("0.20.1", "exceptions_as_200", False),
        ("0.20.1", "prompt_text_key", False),
        ("0.21.0", "prompt_text_key", True),
        ("0.17.1", "overflow_message", "max_tokens"),
        ("0.18.0", "overflow_message", "input_length"),
        ("0.15.1", "max_tokens_over_window_rejected", False),
        ("0.16.0", "max_tokens_over_window_rejected", True),
        ("0.16.1", "max_tokens_over_window_rejected", False),
    ],
)
def test_profile_values(version: str, name: str, value: object) -> None:
    assert getattr(profile(version), name) == value


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("0.20.1", (0, 20, 1)),
        ("0.20", (0, 20, 0)),
        ("v0.11.0", (0, 11, 0)),
        (" 0.10.2+cu128 ", (0, 10, 2)),
        ("0.11.1.post1", (0, 11, 1)),
    ],
)
def test_release_numbers_parse(text: str, parts: tuple[int, int, int]) -> None:
    release = Release.parse(text)
    assert release.parts == parts
    assert release.since(*parts)
    assert not release.since(parts[0], parts[1], parts[2] + 1)


@pytest.mark.parametrize("text", ["0.24.0rc1", "latest", "", "0", 20])
def test_other_versions_are_refused(text: Any) -> None:
    with pytest.raises(ValueError, match="vllm must be a vLLM release"):
        Release.parse(text)
    with pytest.raises(ValueError, match="vllm must be a vLLM release"):
        TirEmulator(vllm=text)


def test_the_knob_is_a_plain_attribute() -> None:
    emulator = TirEmulator(vllm="v0.20.1")
    assert emulator.vllm == "0.20.1"
    assert emulator.profile.release == Release((0, 20, 1))
    assert emulator.profile.empty_tools_rejected
    emulator.vllm = "0.16.0"
    assert not emulator.profile.empty_tools_rejected
