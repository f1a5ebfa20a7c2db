"""The non-streamed golden response scenarios, replayed through the emulator.

Each scenario of `tests/vllm_golden/responses/X.json` scripts the model's harmony
output; a responder returns the same `Reply` (analysis → reasoning, commentary
without recipient or final → content, `to=functions.X` → a call) and the body
goes through `complete(...)` at that release. Compared: the keys at every level,
the fixed fields, ids by format, and the values of `content`, `reasoning`,
`reasoning_content`, the calls' names and arguments and `finish_reason`.
"""

from __future__ import annotations

import json

import pytest

from langchain_gptoss.testing._releases import profile
from langchain_gptoss.testing._vllm import JsonAnswer, Settings, complete
from tests.emulator_golden import (
    SCENARIOS,
    VALUES,
    line_diff,
    reply_of,
    shape,
)
from tests.golden import RELEASES, load


def differences(release: str, name: str) -> list[str]:
    """What the emulator's body has that the golden one has not, and back."""
    scenario = load("responses", release)["scenarios"][name]
    played = profile(release)
    reply = reply_of(scenario["scripted_output"])
    settings = Settings(
        model="gpt_oss_120b",
        era=played.reasoning_field,
        context_window=131072,
        token_ids_key=True,
        tokens_per_chunk=1,
        force_include_usage=False,
        responder=lambda _body: reply,
        tool_parser=scenario["server"] != {"tool_parser": None},
        leak_tool_args=played.tool_args_in_content,
        profile=played,
        harmony_date=load("responses", release)["meta"]["harmony_date_frozen_to"],
    )
    request_id = "chatcmpl-" + "0" * played.id_hex_digits
    got = complete(scenario["request"], settings, request_id=request_id, created=0)
    assert isinstance(got, JsonAnswer)
    mine: list[str] = []
    theirs: list[str] = []
    shape(json.loads(got.body), "", mine, VALUES)
    shape(scenario["non_stream"], "", theirs, VALUES)
    return line_diff(theirs, mine)


@pytest.mark.parametrize("name", SCENARIOS)
@pytest.mark.parametrize("release", RELEASES)
def test_golden_response(release: str, name: str) -> None:
    assert differences(release, name) == []
