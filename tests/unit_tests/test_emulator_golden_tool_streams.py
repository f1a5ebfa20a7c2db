"""Tool-call and answer streams by tokens per engine step, against vLLM's own.

`tests/vllm_golden/tool_streams/X.json` holds, per release, the chunks vLLM
sends for three scripted outputs at 1, 2 and 3 tokens per engine step. The
emulator plays the same output with `tokens_per_chunk` 1/2/3 and the release's
profile; both sides are reduced to what the files keep (delta, finish_reason,
stop_reason, the usage chunk, an error event, `[DONE]`) and compared as in
`test_emulator_golden_streams` (runs of same-shaped text deltas joined).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from langchain_gptoss.testing._releases import profile
from langchain_gptoss.testing._vllm import Settings, StreamAnswer, complete
from tests.emulator_golden import VALUES, line_diff, reply_of, shape
from tests.golden import RELEASES, load
from tests.unit_tests.test_emulator_golden_streams import merged

SEQUENCES = tuple(load("tool_streams", RELEASES[0])["sequences"])
STEPS = ("1", "2", "3")


def _settings(release: str, script: str, size: int) -> Settings:
    played = profile(release)
    reply = reply_of(script)
    return Settings(
        model="gpt_oss_120b",
        era=played.reasoning_field,
        context_window=131072,
        token_ids_key=True,
        tokens_per_chunk=size,
        force_include_usage=False,
        responder=lambda _body: reply,
        leak_tool_args=played.tool_args_in_content,
        profile=played,
        harmony_date=load("tool_streams", release)["meta"]["harmony_date_frozen_to"],
    )


def _reduced(event: dict[str, Any]) -> dict[str, Any]:
    """Keep what the golden files keep of one chunk."""
    if not event.get("choices"):
        return {key: event[key] for key in ("usage", "error") if key in event}
    choice = event["choices"][0]
    keep = ("delta", "finish_reason", "stop_reason")
    return {key: choice[key] for key in keep if key in choice}


def _wrapped(chunk: Any) -> Any:
    """Give a reduced chunk back its `choices` list so `merged` can read it."""
    if not isinstance(chunk, dict) or "delta" not in chunk:
        return chunk
    return {"choices": [chunk]}


def _lines(chunks: list[Any]) -> list[str]:
    out: list[str] = []
    for number, chunk in enumerate(merged([_wrapped(c) for c in chunks])):
        if isinstance(chunk, dict):
            shape(chunk, f"[{number}]", out, VALUES)
        else:
            out.append(f"[{number}]={chunk!r}")
    return out


def emulated(release: str, name: str, size: int) -> list[Any]:
    """The emulator's reduced chunks for one sequence and step size."""
    sequence = load("tool_streams", release)["sequences"][name]
    played = profile(release)
    request_id = "chatcmpl-" + "0" * played.id_hex_digits
    settings = _settings(release, sequence["text"], size)
    got = complete(sequence["request"], settings, request_id=request_id, created=0)
    assert isinstance(got, StreamAnswer)
    return [_reduced(json.loads(event)) for event in got.events] + ["[DONE]"]


def differences(release: str, name: str, steps: str) -> list[str]:
    """Lines of the golden chunks missing from the emulator's, and back."""
    sequence = load("tool_streams", release)["sequences"][name]
    theirs = _lines(sequence["tokens_per_step"][steps]["chunks"])
    mine = _lines(emulated(release, name, int(steps)))
    return line_diff(theirs, mine)


@pytest.mark.parametrize("steps", STEPS)
@pytest.mark.parametrize("name", SEQUENCES)
@pytest.mark.parametrize("release", RELEASES)
def test_golden_tool_stream(release: str, name: str, steps: str) -> None:
    assert differences(release, name, steps) == []
