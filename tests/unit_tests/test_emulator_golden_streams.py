"""The streamed golden response scenarios, replayed through the emulator.

Each scenario of `tests/vllm_golden/responses/X.json` has a `stream` list (every
SSE event, `[DONE]` last). The emulator plays the same scripted output (as in
`test_emulator_golden_responses`) with the scenario's streaming request and one
token per chunk; compared chunk by chunk: the keys at every level, the fixed
fields, ids by format, text values, `created` ignored.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from langchain_gptoss.testing._releases import profile
from langchain_gptoss.testing._vllm import Settings, StreamAnswer, complete
from tests.emulator_golden import (
    SCENARIOS,
    VALUES,
    line_diff,
    reply_of,
    shape,
)
from tests.golden import RELEASES, load


def _settings(release: str, scenario: dict[str, Any]) -> Settings:
    played = profile(release)
    reply = reply_of(scenario["scripted_output"])
    server = scenario["server"] if isinstance(scenario["server"], dict) else {}
    return Settings(
        model="gpt_oss_120b",
        era=played.reasoning_field,
        context_window=131072,
        token_ids_key=True,
        tokens_per_chunk=1,
        force_include_usage=bool(server.get("force_usage")),
        responder=lambda _body: reply,
        tool_parser=server.get("tool_parser", "openai") is not None,
        leak_tool_args=played.tool_args_in_content,
        profile=played,
        harmony_date=load("responses", release)["meta"]["harmony_date_frozen_to"],
    )


def _events(release: str, scenario: dict[str, Any]) -> list[Any]:
    played = profile(release)
    body = {**scenario["request"], **scenario["stream_request_extra"]}
    request_id = "chatcmpl-" + "0" * played.id_hex_digits
    got = complete(body, _settings(release, scenario), request_id=request_id, created=0)
    assert isinstance(got, StreamAnswer)
    return [json.loads(event) for event in got.events] + ["[DONE]"]


_TEXT = ("content", "reasoning", "reasoning_content")


def _texts(event: dict[str, Any]) -> list[tuple[dict[str, Any], str]] | None:
    """The (holder, key) of each text of a mid-stream delta chunk, else None."""
    if len(event.get("choices", ())) != 1 or "usage" in event:
        return None
    choice = event["choices"][0]
    delta = choice["delta"]
    if choice["finish_reason"] is not None or "role" in delta:
        return None
    found = [(delta, key) for key in _TEXT if delta.get(key)]
    for call in delta.get("tool_calls", ()):
        if "id" in call:
            return None
        found.append((call["function"], "arguments"))
    return found


def _blank(event: dict[str, Any]) -> str:
    """The event with every text value emptied: what must match to merge."""
    copy = json.loads(json.dumps(event))
    for holder, key in _texts(copy) or ():
        holder[key] = ""
    copy["choices"][0].pop("logprobs", None)
    return json.dumps(copy)


def merged(events: list[Any]) -> list[Any]:
    """Join runs of text chunks that differ only in their text.

    The emulator's tokenizer splits text elsewhere than harmony's: a run of
    same-shaped text deltas is compared as one delta with the joined text.
    """
    out: list[Any] = []
    for event in events:
        texts = _texts(event) if isinstance(event, dict) else None
        before = out[-1] if out and isinstance(out[-1], dict) else None
        olds = _texts(before) if before is not None and texts else None
        if not texts or not olds or _blank(before) != _blank(event):  # type: ignore[arg-type]
            out.append(json.loads(json.dumps(event)))
            continue
        for (holder, key), (new, _) in zip(olds, texts, strict=True):
            holder[key] += new[key]
        _join_logprobs(before["choices"][0], event["choices"][0])  # type: ignore[index]
    return out


def _join_logprobs(old: dict[str, Any], new: dict[str, Any]) -> None:
    if old.get("logprobs") and new.get("logprobs"):
        old["logprobs"]["content"] += new["logprobs"]["content"]


def _lines(events: list[Any]) -> list[str]:
    out: list[str] = []
    for number, event in enumerate(merged(events)):
        if isinstance(event, dict):
            shown = {key: value for key, value in event.items() if key != "created"}
            shape(shown, f"[{number}]", out, VALUES)
        else:
            out.append(f"[{number}]={event!r}")
    return out


def differences(release: str, name: str) -> list[str]:
    """Lines of the golden stream missing from the emulator's, and back."""
    scenario = load("responses", release)["scenarios"][name]
    mine = _lines(_events(release, scenario))
    theirs = _lines(scenario["stream"])
    return line_diff(theirs, mine)


@pytest.mark.parametrize("name", SCENARIOS)
@pytest.mark.parametrize("release", RELEASES)
def test_golden_stream(release: str, name: str) -> None:
    assert differences(release, name) == []
