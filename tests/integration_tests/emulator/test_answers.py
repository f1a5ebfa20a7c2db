"""Answers: body shape, reasoning eras, budgets, n, logprobs, releases, scripts."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from langchain_gptoss.testing import Reply, TirEmulator
from langchain_gptoss.testing._harmony_tokens import split
from tests.integration_tests.emulator.wire import (
    BASE_MESSAGE_KEYS,
    ERA_KEYS,
    TLS,
    TOP_KEYS,
    USER,
    UUID_ID,
    error_of,
    joined,
    post,
    stream_events,
)


@pytest.mark.parametrize("era", ["reasoning_content", "both", "reasoning"])
def test_non_stream_shape_per_era(
    emu: TirEmulator, client: httpx.Client, era: Any
) -> None:
    emu.reasoning_field = era
    reply = post(client, emu, model="gpt_oss_120b")
    assert reply.status_code == 200
    assert reply.headers["content-type"] == "application/json"
    body = reply.json()
    assert list(body) == TOP_KEYS
    assert UUID_ID.fullmatch(body["id"])
    assert reply.headers["x-request-id"] == body["id"]
    assert body["object"] == "chat.completion"
    assert isinstance(body["created"], int)
    assert body["model"] == "gpt_oss_120b"
    assert all(body[key] is None for key in TOP_KEYS[5:] if key != "usage")
    (choice,) = body["choices"]
    assert list(choice) == [
        "index",
        "message",
        "logprobs",
        "finish_reason",
        "stop_reason",
        "token_ids",
    ]
    assert (choice["finish_reason"], choice["stop_reason"], choice["logprobs"]) == (
        "stop",
        None,
        None,
    )
    message = choice["message"]
    assert list(message) == BASE_MESSAGE_KEYS + ERA_KEYS[era]
    assert message["content"] == "You said: What is the capital of France?"
    assert message["tool_calls"] == []
    reasoning = {message[key] for key in ERA_KEYS[era]}
    assert len(reasoning) == 1
    text = reasoning.pop()
    assert text
    assert "you" not in text.lower()
    assert "France" not in text
    usage = body["usage"]
    assert list(usage) == [
        "prompt_tokens",
        "total_tokens",
        "completion_tokens",
        "prompt_tokens_details",
    ]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    assert usage["prompt_tokens_details"] is None


def test_answers_are_deterministic(emu: TirEmulator, client: httpx.Client) -> None:
    first, second = post(client, emu).json(), post(client, emu).json()
    assert first["choices"] == second["choices"]
    assert first["usage"] == second["usage"]
    assert first["id"] != second["id"]


def test_token_ids_key_off(emu: TirEmulator, client: httpx.Client) -> None:
    emu.token_ids_key = False
    body = post(client, emu).json()
    assert "token_ids" not in body["choices"][0]
    assert "prompt_token_ids" not in body
    events = stream_events(client, emu)
    assert all("token_ids" not in e["choices"][0] for e in events)


def test_include_reasoning_false(emu: TirEmulator, client: httpx.Client) -> None:
    shown = post(client, emu).json()
    hidden = post(client, emu, include_reasoning=False).json()
    message = hidden["choices"][0]["message"]
    assert message["reasoning"] is None
    assert message["reasoning_content"] is None
    assert message["content"] == shown["choices"][0]["message"]["content"]
    assert hidden["usage"] == shown["usage"]  # still generated and billed
    events = stream_events(client, emu, include_reasoning=False)
    assert joined(events, "reasoning") == joined(events, "reasoning_content") == ""
    assert all("reasoning" not in e["choices"][0]["delta"] for e in events)
    assert joined(events, "content") == message["content"]


def test_reasoning_effort(emu: TirEmulator, client: httpx.Client) -> None:
    lengths = [
        len(
            post(client, emu, reasoning_effort=e).json()["choices"][0]["message"][
                "reasoning"
            ]
        )
        for e in ("low", "medium", "high")
    ]
    assert lengths[0] < lengths[1] < lengths[2]
    reply = post(client, emu, reasoning_effort="extreme")
    assert reply.status_code == 400
    assert error_of(reply)["type"] == "Bad Request"


def reasoning_tokens(client: httpx.Client, emu: TirEmulator) -> int:
    """Tokens generated before the answer's text: reasoning and both headers."""
    body = post(client, emu, include_reasoning=False, max_tokens=10_000).json()
    full = post(client, emu).json()
    content = full["choices"][0]["message"]["content"]
    assert body["usage"] == full["usage"]
    # The answer's text tokens, then `<|return|>`.
    return full["usage"]["completion_tokens"] - len(split(content)) - 1


@pytest.mark.parametrize("stream", [False, True])
def test_truncated_during_reasoning(
    emu: TirEmulator, client: httpx.Client, stream: bool
) -> None:
    full = post(client, emu).json()["choices"][0]["message"]["reasoning"]
    # max_completion_tokens wins over max_tokens.
    # `<|channel|>analysis<|message|>` is three of the six tokens.
    body = {"max_tokens": 500, "max_completion_tokens": 6}
    if not stream:
        reply = post(client, emu, **body).json()
        choice = reply["choices"][0]
        assert choice["message"]["content"] is None
        assert choice["finish_reason"] == "length"
        partial = choice["message"]["reasoning"]
        assert reply["usage"]["completion_tokens"] == 6
    else:
        events = stream_events(
            client, emu, **body, stream_options={"include_usage": True}
        )
        assert all("content" not in e["choices"][0]["delta"] for e in events[1:-1])
        assert events[-2]["choices"][0]["finish_reason"] == "length"
        assert events[-1]["usage"]["completion_tokens"] == 6
        partial = joined(events, "reasoning")
    assert partial == "The request is"
    assert full.startswith(partial)


@pytest.mark.parametrize("stream", [False, True])
def test_truncated_during_content(
    emu: TirEmulator, client: httpx.Client, stream: bool
) -> None:
    used = reasoning_tokens(client, emu)
    if not stream:
        choice = post(client, emu, max_tokens=used + 2).json()["choices"][0]
        content, finish = choice["message"]["content"], choice["finish_reason"]
    else:
        events = stream_events(client, emu, max_tokens=used + 2)
        content, finish = (
            joined(events, "content"),
            events[-1]["choices"][0]["finish_reason"],
        )
    # 0.11.0-0.14 leave an answer cut by max_tokens out of the body, not the
    # stream (vllm-golden responses/0.13.0 `length_cut_in_answer`).
    dropped = not stream and emu.profile.cut_answer_dropped
    assert (content, finish) == (None if dropped else "You said", "length")


def test_budget_ending_with_reasoning_gives_null_content(
    emu: TirEmulator, client: httpx.Client
) -> None:
    used = reasoning_tokens(client, emu)
    choice = post(client, emu, max_tokens=used).json()["choices"][0]
    assert choice["message"]["content"] is None
    assert choice["finish_reason"] == "length"


@pytest.mark.parametrize("stream", [False, True])
def test_stop_strings(emu: TirEmulator, client: httpx.Client, stream: bool) -> None:
    def run(stop: Any) -> tuple[str | None, str | None, str, Any]:
        if not stream:
            choice = post(client, emu, stop=stop).json()["choices"][0]
            message = choice["message"]
            return (
                message["reasoning"],
                message["content"],
                choice["finish_reason"],
                choice["stop_reason"],
            )
        events = stream_events(client, emu, stop=stop)
        final = events[-1]["choices"][0]
        has_content = any("content" in e["choices"][0]["delta"] for e in events[1:])
        content = joined(events, "content") if has_content else None
        return (
            joined(events, "reasoning"),
            content,
            final["finish_reason"],
            final["stop_reason"],
        )

    reasoning, content, finish, reason = run("capital")
    assert (content, finish, reason) == ("You said: What is the ", "stop", "capital")
    assert reasoning
    reasoning, content, finish, reason = run(["zzz", "brief"])
    assert (reasoning, content, finish, reason) == (
        "The request is clear, so a ",
        None,
        "stop",
        "brief",
    )
    assert run("not-there")[2:] == ("stop", None)


def test_vllm_version_plays_the_release_over_http() -> None:
    """The release's own status and body on the wire (vllm-golden `tools_empty_list`)."""
    body = {"messages": [{"role": "user", "content": "Roll a die."}], "tools": []}
    with TirEmulator(vllm="0.33.0") as emu, httpx.Client(verify=TLS) as http:
        headers = {"Authorization": f"Bearer {emu.token}"}
        refused = http.post(emu.chat_url, headers=headers, json=body)
        emu.vllm = "0.16.0"
        served = http.post(emu.chat_url, headers=headers, json=body)
    assert refused.status_code == 400
    assert refused.json() == {
        "error": {
            "message": "`tools` must not be an empty array. Either provide at least "
            "one tool or omit the field entirely. (parameter=tools)",
            "type": "BadRequestError",
            "param": "tools",
            "code": 400,
        }
    }
    assert served.status_code == 200
    assert served.json()["choices"][0]["message"]["content"]


def test_n_choices(emu: TirEmulator, client: httpx.Client) -> None:
    body = post(client, emu, n=2).json()
    assert [c["index"] for c in body["choices"]] == [0, 1]
    contents = [c["message"]["content"] for c in body["choices"]]
    assert contents[0] != contents[1]
    events = stream_events(client, emu, n=2, stream_options={"include_usage": True})
    order = [e["choices"][0]["index"] for e in events[:-1]]
    assert all(len(e["choices"]) == 1 for e in events[:-1])
    assert order[:4] == [0, 1, 0, 1]
    assert [joined(events, "content", i) for i in (0, 1)] == contents
    assert (
        events[-1]["usage"]["completion_tokens"] == body["usage"]["completion_tokens"]
    )


def test_logprobs(emu: TirEmulator, client: httpx.Client) -> None:
    body = post(client, emu, logprobs=True, top_logprobs=2).json()
    message = body["choices"][0]["message"]
    entries = body["choices"][0]["logprobs"]["content"]
    # One entry per generated token, harmony's control tokens included.
    assert "".join(e["token"] for e in entries) == (
        f"<|channel|>analysis<|message|>{message['reasoning']}<|end|>"
        f"<|start|>assistant<|channel|>final<|message|>{message['content']}"
        "<|return|>"
    )
    assert len(entries) == body["usage"]["completion_tokens"]
    for entry in entries:
        assert list(entry) == ["token", "logprob", "bytes", "top_logprobs"]
        assert entry["logprob"] <= 0
        assert bytes(entry["bytes"]).decode() == entry["token"]
        assert len(entry["top_logprobs"]) == 2
        assert all(
            list(top) == ["token", "logprob", "bytes"] and top["logprob"] <= 0
            for top in entry["top_logprobs"]
        )
    events = stream_events(client, emu, logprobs=True, top_logprobs=2)
    streamed = [
        e
        for ev in events
        if ev["choices"][0]["logprobs"]
        for e in ev["choices"][0]["logprobs"]["content"]
    ]
    # A step that sends no delta sends no log-probabilities either (vLLM <= 0.32):
    # the header tokens are missing from the stream, the rest is the same.
    silent = {"<|channel|>", "analysis", "<|end|>", "<|start|>", "assistant", "final"}
    assert streamed == [e for e in entries if e["token"] not in silent]
    assert (
        post(client, emu, logprobs=True).json()["choices"][0]["logprobs"]["content"][0][
            "top_logprobs"
        ]
        == []
    )


def test_responder_scripts_the_answer(emu: TirEmulator, client: httpx.Client) -> None:
    seen: list[dict[str, Any]] = []

    def respond(body: dict[str, Any]) -> Reply:
        seen.append(body)
        return Reply(reasoning="Think.", content=None)

    emu.responder = respond
    message = post(client, emu).json()["choices"][0]["message"]
    assert (message["reasoning"], message["content"]) == ("Think.", None)
    assert seen[0]["messages"] == [USER]
    emu.responder = lambda _body: Reply(reasoning="", content="ünïcødé 🙂")
    events = stream_events(client, emu)
    assert joined(events, "content") == "ünïcødé 🙂"
    assert not any("reasoning" in e["choices"][0]["delta"] for e in events)

    def broken(body: dict[str, Any]) -> Reply:
        raise RuntimeError("boom")

    emu.responder = broken
    reply = post(client, emu)
    assert reply.status_code == 500
    assert "boom" in error_of(reply)["message"]
