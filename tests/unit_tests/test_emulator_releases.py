"""The emulator's `vllm_version` rules against real vLLM answers (vllm-golden)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from langchain_gptoss.testing import TirEmulator
from langchain_gptoss.testing._errors import ApiError
from langchain_gptoss.testing._release import Release
from langchain_gptoss.testing._vllm import JsonAnswer, Settings, complete
from tests.golden import request_answers

GOLDEN = request_answers(
    ("tools_empty_list", "tool_loop_list_content", "tool_without_description")
)
RELEASES = sorted(GOLDEN["answers"], key=lambda text: Release.parse(text).parts)
CASES = sorted(GOLDEN["bodies"])


def answer(body: dict[str, Any], version: str | None) -> ApiError | JsonAnswer:
    settings = Settings(
        model="gpt_oss_120b",
        era="both",
        context_window=131072,
        token_ids_key=True,
        tokens_per_chunk=1,
        force_include_usage=False,
        responder=None,
        release=None if version is None else Release.parse(version),
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


def test_without_a_version_the_defaults_stay() -> None:
    body = GOLDEN["bodies"]
    empty = answer(body["tools_empty_list"], None)
    assert isinstance(empty, ApiError)
    assert "`tools` must not be an empty array" in empty.payload["error"]["message"]
    assert isinstance(answer(body["tool_loop_list_content"], None), JsonAnswer)
    assert isinstance(answer(body["tool_without_description"], None), JsonAnswer)


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
    with pytest.raises(ValueError, match="vllm_version must be a vLLM release"):
        Release.parse(text)
    with pytest.raises(ValueError, match="vllm_version must be a vLLM release"):
        TirEmulator(vllm_version=text)


def test_the_knob_is_a_plain_attribute() -> None:
    emulator = TirEmulator(vllm_version="v0.20.1")
    assert emulator.vllm_version == "0.20.1"
    assert emulator.vllm_release == Release((0, 20, 1))
    emulator.vllm_version = None
    assert emulator.vllm_release is None
    assert TirEmulator().vllm_version is None
