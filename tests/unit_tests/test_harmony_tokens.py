"""The emulator's generated tokens against openai-harmony's own parser.

`_harmony_tokens` records, after each token, the state vLLM reads from
harmony's `StreamableParser` (channel, recipient, last content delta, messages
done). These tests run the real parser over the same token ids, for every
script the golden runs used and for replies with calls, preambles and text that
splits inside a UTF-8 character.
"""

from __future__ import annotations

from typing import Any

import pytest

from langchain_gptoss import _tokens
from langchain_gptoss.testing._answer import generate
from langchain_gptoss.testing._harmony_tokens import harmony_tokens, messages, split
from langchain_gptoss.testing._types import Reply, ToolCall
from tests.emulator_golden import reply_of
from tests.golden import RELEASES, load

harmony = pytest.importorskip("openai_harmony", reason="needs openai-harmony")


def _encoding() -> Any:
    found = _tokens.encoding()
    if found is None:  # pragma: no cover - importorskip above
        pytest.skip("openai-harmony's vocabulary is not at hand")
    return found


def _scripts() -> list[str]:
    found = [
        sequence["text"]
        for sequence in load("tool_streams", RELEASES[0])["sequences"].values()
    ]
    found += [
        scenario["scripted_output"]
        for scenario in load("responses", RELEASES[0])["scenarios"].values()
    ]
    return sorted(set(found))


def _rendered(reply: Reply) -> str:
    return "".join(token.text for token in harmony_tokens(messages(reply)))


def _parsed(text: str) -> list[tuple[Any, ...]]:
    """Harmony's own state after each token of ``text``."""
    encoding = _encoding()
    parser = harmony.StreamableParser(encoding, role=harmony.Role.ASSISTANT)
    states = []
    for token in encoding.encode(text, allowed_special="all"):
        parser.process(token)
        states.append(
            (
                parser.current_channel,
                parser.current_recipient,
                parser.last_content_delta,
                len(parser.messages),
            )
        )
    return states


def _mine(reply: Reply) -> list[tuple[Any, ...]]:
    return [
        (token.channel, token.recipient, token.delta, token.done)
        for token in harmony_tokens(messages(reply))
    ]


@pytest.mark.parametrize("script", _scripts())
def test_golden_scripts_render_and_parse_as_harmony(script: str) -> None:
    reply = reply_of(script)
    assert _rendered(reply) == script
    assert _mine(reply) == _parsed(script)


REPLIES = {
    "two calls": Reply(
        "Two lookups.",
        None,
        (ToolCall("get_weather", '{"city":"Oslo"}'), ToolCall("get_time", "{}")),
    ),
    "preamble": Reply("Plan.", "One moment.", (ToolCall("f", '{"a": 1}'),)),
    "no reasoning": Reply("", "Just this.", ()),
    "empty answer": Reply("Think.", "", ()),
    "utf-8 inside tokens": Reply("Æøå 😀 naïve", "日本語のテキスト 🎉", ()),
}


@pytest.mark.parametrize("name", REPLIES)
def test_replies_parse_as_harmony(name: str) -> None:
    reply = REPLIES[name]
    assert _mine(reply) == _parsed(_rendered(reply))


def test_text_is_split_by_the_vocabulary() -> None:
    encoding = _encoding()
    text = "Need weather for Berlin."
    ids = encoding.encode(text, disallowed_special=())
    assert len(split(text)) == len(ids)
    assert "".join(split(text)) == text


def test_budget_counts_control_tokens() -> None:
    # `<|channel|>analysis<|message|>` is three tokens: a budget of 3 leaves
    # the reasoning empty, and 4 gives its first word.
    reply = Reply("Need weather.", "Cold.", ())
    assert generate(reply, budget=3, stops=[]).reasoning is None
    four = generate(reply, budget=4, stops=[])
    assert four.reasoning == ["Need"]
    assert four.completion_tokens == 4
    assert four.finish_reason == "length"
    whole = generate(reply, budget=100, stops=[])
    assert whole.completion_tokens == len(harmony_tokens(messages(reply)))


def test_without_the_vocabulary_text_is_split_by_the_stand_in(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_tokens, "encoding", lambda: None)
    split.cache_clear()
    try:
        assert split("Need weather, now.") == ("Need", " weather", ",", " now", ".")
        reply = REPLIES["two calls"]
        tokens = harmony_tokens(messages(reply))
        assert "".join(token.text for token in tokens) == (
            "<|channel|>analysis<|message|>Two lookups.<|end|>"
            "<|start|>assistant<|channel|>commentary to=functions.get_weather "
            '<|constrain|>json<|message|>{"city":"Oslo"}<|call|>'
            "<|start|>assistant<|channel|>commentary to=functions.get_time "
            "<|constrain|>json<|message|>{}<|call|>"
        )
        outcome = generate(reply, budget=1000, stops=[])
        assert [call.name for call in outcome.calls] == ["get_weather", "get_time"]
        assert "".join(outcome.calls[0].tokens) == '{"city":"Oslo"}'
    finally:
        split.cache_clear()
