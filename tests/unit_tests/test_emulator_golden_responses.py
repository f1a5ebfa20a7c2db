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
import re

import pytest

from langchain_gptoss.testing._releases import profile
from langchain_gptoss.testing._types import Reply, ToolCall
from langchain_gptoss.testing._vllm import JsonAnswer, Settings, complete
from tests.emulator_golden import line_diff, shape
from tests.golden import RELEASES, load

_MESSAGE = re.compile(
    r"(?:<\|start\|>assistant)?<\|channel\|>(\w+)(?: to=functions\.(\w+))?"
    r"(?: <\|constrain\|>json)?<\|message\|>(.*?)<\|(?:end|return|call)\|>",
    re.DOTALL,
)
_VALUES = ("content", "reasoning", "reasoning_content", "name", "arguments")


def reply_of(script: str) -> Reply:
    """The `Reply` that makes the emulator generate `script`."""
    reasoning, content, calls = "", None, []
    for channel, function, text in _MESSAGE.findall(script):
        if function:
            calls.append(ToolCall(function, text))
        elif channel == "analysis":
            reasoning += text
        else:
            content = (content or "") + text
    return Reply(reasoning, content, tuple(calls))


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
    shape(json.loads(got.body), "", mine, _VALUES)
    shape(scenario["non_stream"], "", theirs, _VALUES)
    return line_diff(theirs, mine)


SCENARIOS = [
    name
    for name in load("responses", RELEASES[0])["scenarios"]
    # The engine's own finish reason is not something a responder can script.
    if name != "finish_reason_abort_from_engine"
]

_CONTROL = (
    "the emulator's budget, completion_tokens and logprob entries count text "
    "tokens only, not harmony's control tokens (`<|channel|>analysis<|message|>` "
    "is 3, `<|end|><|start|>assistant<|channel|>final<|message|>` 6), so a "
    "max_tokens cut lands later and logprobs lack the control-token entries"
)
KNOWN: dict[tuple[str, str], str] = {
    (release, name): _CONTROL
    for release in RELEASES
    for name in ("length_cut_in_reasoning", "length_cut_in_answer", "logprobs_top2")
}
"""Differences left, with their reason (the per-release table of the report)."""


@pytest.mark.parametrize("name", SCENARIOS)
@pytest.mark.parametrize("release", RELEASES)
def test_golden_response(release: str, name: str) -> None:
    found = differences(release, name)
    reason = KNOWN.get((release, name))
    if reason is None:
        assert found == []
    else:
        assert found, f"fixed now, drop it from KNOWN: {reason}"
