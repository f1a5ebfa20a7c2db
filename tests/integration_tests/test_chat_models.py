"""ChatGptOss over real loopback sockets against the TIR emulator, sync and async."""

from __future__ import annotations

import asyncio
import time
from functools import reduce
from operator import add
from typing import Any

import httpx
import pytest
from langchain_core.exceptions import OutputParserException
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    HumanMessage,
    SystemMessage,
)
from pydantic import BaseModel

from langchain_gptoss import (
    ChatGptOss,
    GptOssAuthenticationError,
    GptOssBadRequestError,
    GptOssConnectionError,
    GptOssContextOverflowError,
    GptOssNotFoundError,
    GptOssPermissionDeniedError,
    GptOssRateLimitError,
    GptOssServerError,
    GptOssStreamError,
    GptOssTimeoutError,
)
from langchain_gptoss.testing import Fault, Reply, TirEmulator
from tests.integration_tests.conftest import ERAS, needs_emulator

pytestmark = needs_emulator


@pytest.fixture
def emulator(release_emulator: TirEmulator) -> TirEmulator:
    """Every test here runs against each supported vLLM release."""
    return release_emulator


@pytest.fixture(params=["sync", "async"])
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def invoke(model: ChatGptOss, mode: str, *args: Any, **kwargs: Any) -> AIMessage:
    if mode == "sync":
        return model.invoke(*args, **kwargs)
    return asyncio.run(model.ainvoke(*args, **kwargs))


def stream(
    model: ChatGptOss,
    mode: str,
    *args: Any,
    into: list[Any] | None = None,
    **kwargs: Any,
) -> list[AIMessageChunk]:
    chunks: list[Any] = [] if into is None else into
    if mode == "sync":
        chunks.extend(model.stream(*args, **kwargs))
        return chunks

    async def collect() -> None:
        async for chunk in model.astream(*args, **kwargs):
            chunks.append(chunk)  # noqa: PERF401 - keep what came before an error

    asyncio.run(collect())
    return chunks


def summed(chunks: list[AIMessageChunk]) -> AIMessageChunk:
    return reduce(add, chunks)


# ------------------------------------------------------------------ happy paths


@pytest.mark.parametrize("era", ERAS)
def test_every_era_gives_reasoning_content_finish_and_usage(
    emulator: TirEmulator, mode: str, era: str
) -> None:
    emulator.reasoning_field = era  # type: ignore[assignment]
    model = emulator.chat_model()
    invoked = invoke(model, mode, "What is the capital of France?")
    whole = summed(stream(model, mode, "What is the capital of France?"))

    for message in (invoked, whole):
        assert message.content
        assert message.additional_kwargs["reasoning_content"]
        assert message.content_blocks[0]["type"] == "reasoning"
        assert message.response_metadata["finish_reason"] == "stop"
        assert message.response_metadata["model_name"] == "gpt_oss_120b"
        assert message.response_metadata["id"].startswith("chatcmpl-")
        assert message.usage_metadata is not None
        assert message.usage_metadata["input_tokens"] > 0
    assert whole.content == invoked.content
    assert whole.additional_kwargs == invoked.additional_kwargs
    assert whole.usage_metadata == invoked.usage_metadata
    assert whole.content_blocks == invoked.content_blocks


def test_the_request_on_the_wire(emulator: TirEmulator, mode: str) -> None:
    model = emulator.chat_model(
        temperature=0.5, reasoning_effort="high", max_tokens=900
    )
    history = [
        SystemMessage("Be terse."),
        HumanMessage("Hi"),
        AIMessage("Hello.", additional_kwargs={"reasoning_content": "Greet back."}),
        HumanMessage("Bye"),
    ]
    invoke(model, mode, history)
    stream(model, mode, "Hi")
    plain, streamed = emulator.requests
    assert plain.method == "POST"
    assert (
        plain.path
        == f"/project/p-{emulator.project_id}/genai/gpt_oss_120b/v1/chat/completions"
    )
    assert plain.query == {"project_id": str(emulator.project_id)}
    assert plain.headers["authorization"] == f"Bearer {emulator.token}"
    assert plain.body["messages"][2] == {
        "role": "assistant",
        "content": "Hello.",
        "reasoning": "Greet back.",
        "reasoning_content": "Greet back.",
    }
    assert plain.body["temperature"] == 0.5
    assert plain.body["reasoning_effort"] == "high"
    assert plain.body["max_tokens"] == 900
    assert "stream" not in plain.body
    assert streamed.body["stream"] is True
    assert streamed.body["stream_options"] == {"include_usage": True}


def test_full_get_code_base_url_and_strict_project_query(
    emulator: TirEmulator, mode: str
) -> None:
    emulator.require_project_query = True
    model = ChatGptOss(base_url=emulator.openai_base_url, api_key=emulator.token)
    assert invoke(model, mode, "hi").content
    without_query = ChatGptOss(
        base_url=emulator.openai_base_url,
        api_key=emulator.token,
        include_project_query=False,
    )
    with pytest.raises(GptOssBadRequestError):
        invoke(without_query, mode, "hi")


def test_truncated_during_reasoning(emulator: TirEmulator, mode: str) -> None:
    # `<|channel|>analysis<|message|>` takes three of the six tokens.
    model = emulator.chat_model(max_tokens=6)
    invoked = invoke(model, mode, "Explain relativity.")
    whole = summed(stream(model, mode, "Explain relativity."))
    for message in (invoked, whole):
        assert message.content == ""
        assert message.additional_kwargs["reasoning_content"]
        assert message.response_metadata["finish_reason"] == "length"
        assert message.response_metadata["truncated_during_reasoning"] is True


def test_stream_framing_variants(emulator: TirEmulator, mode: str) -> None:
    reference = summed(stream(emulator.chat_model(), mode, "Grüße aus 東京 🚀"))
    emulator.crlf = True
    emulator.keepalive_comments = True
    emulator.split_writes = True
    framed = summed(stream(emulator.chat_model(), mode, "Grüße aus 東京 🚀"))
    assert framed.content == reference.content
    assert framed.additional_kwargs == reference.additional_kwargs
    assert framed.usage_metadata == reference.usage_metadata


def test_unicode_line_separators_inside_text_survive_the_stream(
    emulator: TirEmulator, mode: str
) -> None:
    # vLLM writes JSON without escaping U+2028, U+2029 or U+0085; a line reader
    # built on str.splitlines() would cut the event at them.
    text = "line\u2028para\u2029next\u0085end"
    emulator.responder = lambda _body: Reply(reasoning=f"think {text}", content=text)
    for crlf in (False, True):
        emulator.crlf = crlf
        whole = summed(stream(emulator.chat_model(), mode, "hi"))
        assert whole.content == text
        assert whole.additional_kwargs["reasoning_content"] == f"think {text}"
    assert invoke(emulator.chat_model(), mode, "hi").content == text


def test_scripted_reply_and_stop_reason(emulator: TirEmulator, mode: str) -> None:
    emulator.responder = lambda _body: Reply(
        reasoning="Count up.", content="one two three"
    )
    message = invoke(emulator.chat_model(), mode, "count", stop=["three"])
    assert message.content == "one two "
    assert message.response_metadata["stop_reason"] == "three"


# ----------------------------------------------------------------------- faults


@pytest.mark.parametrize("streamed", [False, True], ids=["invoke", "stream"])
@pytest.mark.parametrize(
    ("fault", "error", "retried"),
    [
        (Fault(status=403), GptOssPermissionDeniedError, False),
        (Fault(status=404, body_kind="html"), GptOssNotFoundError, False),
        (Fault(status=429, headers={"Retry-After": "0"}), GptOssRateLimitError, True),
        (Fault(status=429), GptOssRateLimitError, True),
        (Fault(status=500), GptOssServerError, True),
        (Fault(status=502, body_kind="html"), GptOssServerError, True),
        (Fault(status=503, body_kind="text"), GptOssServerError, True),
    ],
    ids=[
        "403",
        "404-html",
        "429-retry-after",
        "429",
        "500-json",
        "502-html",
        "503-text",
    ],
)
def test_http_faults(
    emulator: TirEmulator,
    mode: str,
    streamed: bool,
    fault: Fault,
    error: type[Exception],
    retried: bool,
) -> None:
    # Three faults queued, one retry allowed: a retryable status is tried twice.
    emulator.inject(fault, fault, fault)
    model = emulator.chat_model(max_retries=1)
    with pytest.raises(error) as caught:
        (stream if streamed else invoke)(model, mode, "hi")
    assert len(emulator.requests) == (2 if retried else 1)
    assert caught.value.status_code == fault.status  # type: ignore[attr-defined]
    assert emulator.token not in str(caught.value)


def test_retry_then_success_counts_and_waits(emulator: TirEmulator, mode: str) -> None:
    emulator.inject(
        Fault(status=503), Fault(status=429, headers={"Retry-After": "0.3"})
    )
    started = time.monotonic()
    message = invoke(emulator.chat_model(max_retries=2), mode, "hi")
    elapsed = time.monotonic() - started
    assert message.content
    assert len(emulator.requests) == 3
    # First backoff is 0.375-0.5 s with jitter, then the server's 0.3 s.
    assert elapsed >= 0.3 + 0.375


def test_wrong_token_and_wrong_project(emulator: TirEmulator, mode: str) -> None:
    with pytest.raises(GptOssAuthenticationError, match="E2E_TIR_ACCESS_TOKEN"):
        invoke(emulator.chat_model(api_key="wrong-token", max_retries=3), mode, "hi")
    with pytest.raises(GptOssNotFoundError, match="check project_id"):
        invoke(emulator.chat_model(project_id=999), mode, "hi")
    assert len(emulator.requests) == 2


def test_context_overflow(emulator: TirEmulator, mode: str) -> None:
    """vLLM clamps a too-large max_tokens; only a prompt over the context fails."""
    emulator.context_window = 200
    clamped = invoke(emulator.chat_model(max_tokens=150), mode, "word " * 100)
    assert clamped.response_metadata["finish_reason"] == "length"
    assert clamped.usage_metadata is not None
    assert clamped.usage_metadata["total_tokens"] == 200  # all the room left
    # Worded by SamplingParams up to 0.17, by the context check from 0.18.
    release = tuple(int(part) for part in str(emulator.vllm).split("."))
    expected = (
        "max_tokens must be at least 1, got -"
        if release < (0, 18)
        else r"maximum context length \(200\)"
    )
    with pytest.raises(GptOssContextOverflowError, match=expected):
        invoke(emulator.chat_model(), mode, "word " * 300)


def test_invalid_request_is_not_retried(emulator: TirEmulator, mode: str) -> None:
    model = emulator.chat_model(model_kwargs={"tool_choice": "auto"}, max_retries=2)
    with pytest.raises(GptOssBadRequestError):
        invoke(model, mode, "hi")
    assert len(emulator.requests) == 1


@pytest.mark.parametrize(
    ("fault", "error", "match"),
    [
        (Fault(error_event_after=4), GptOssStreamError, "Unexpected token 200002"),
        (Fault(malformed_after=4), GptOssStreamError, "Malformed event"),
        (Fault(omit_done=True), GptOssStreamError, "ended before data: \\[DONE\\]"),
        (Fault(drop_after_events=4), GptOssConnectionError, "Connection to TIR failed"),
    ],
    ids=["error-event", "malformed", "no-done", "dropped"],
)
def test_broken_streams_raise_after_partial_output(
    emulator: TirEmulator, mode: str, fault: Fault, error: type[Exception], match: str
) -> None:
    emulator.inject(fault)
    chunks: list[Any] = []
    with pytest.raises(error, match=match):
        stream(
            emulator.chat_model(max_retries=3),
            mode,
            "Tell me a long story.",
            into=chunks,
        )
    # What arrived was handed out, and nothing was retried after it.
    assert chunks
    assert len(emulator.requests) == 1


def test_error_event_before_any_chunk_is_retried(
    emulator: TirEmulator, mode: str
) -> None:
    emulator.inject(Fault(error_event_after=0))
    whole = summed(stream(emulator.chat_model(max_retries=1), mode, "hi"))
    assert whole.content
    assert len(emulator.requests) == 2


def test_read_timeout_on_slow_first_byte(emulator: TirEmulator, mode: str) -> None:
    emulator.inject(Fault(first_byte_delay=1.0))
    model = emulator.chat_model(timeout=httpx.Timeout(0.2), max_retries=0)
    with pytest.raises(GptOssTimeoutError):
        invoke(model, mode, "hi")


def test_connection_refused(mode: str) -> None:
    with TirEmulator() as closed:
        base_url = closed.base_url
    model = ChatGptOss(base_url=base_url, api_key="t", project_id=1, max_retries=1)
    started = time.monotonic()
    with pytest.raises(GptOssConnectionError):
        invoke(model, mode, "hi")
    assert time.monotonic() - started >= 0.375  # it waited once before the retry


def test_n_choices_and_logprobs(emulator: TirEmulator, mode: str) -> None:
    model = emulator.chat_model(n=2, model_kwargs={"logprobs": True, "top_logprobs": 2})
    if mode == "sync":
        result = model.generate([[HumanMessage("hi")]])
    else:
        result = asyncio.run(model.agenerate([[HumanMessage("hi")]]))
    generations = result.generations[0]
    assert len(generations) == 2
    for generation in generations:
        message = generation.message
        assert message.content
        assert message.additional_kwargs["reasoning_content"]
        entries = message.response_metadata["logprobs"]["content"]
        assert entries
        assert all(len(entry["top_logprobs"]) == 2 for entry in entries)
    streamed = summed(
        stream(emulator.chat_model(model_kwargs={"logprobs": True}), mode, "hi")
    )
    invoked = invoke(emulator.chat_model(model_kwargs={"logprobs": True}), mode, "hi")
    # A stream carries the entries of the steps that send a delta: every text
    # token's, in order, but not those of the silent header tokens (<= 0.32).
    whole = invoked.response_metadata["logprobs"]["content"]
    kept = streamed.response_metadata["logprobs"]["content"]
    assert [e for e in whole if e in kept] == kept
    assert "<|channel|>" in [e["token"] for e in whole]
    texts = [e["token"] for e in whole if not e["token"].startswith("<|")]
    assert set(texts) <= {e["token"] for e in kept} | {"analysis", "assistant", "final"}


class Weather(BaseModel):
    """Current weather in a city."""

    city: str


def test_leaked_tool_arguments_are_not_shown_as_content(
    emulator: TirEmulator, mode: str
) -> None:
    emulator.leak_tool_args_into_content = True
    message = invoke(
        emulator.chat_model().bind_tools([Weather]), mode, "Weather in 'Zürich'?"
    )
    assert message.tool_calls[0]["args"] == {"city": "Zürich"}
    assert message.content == ""


def test_a_stream_from_the_leaking_release_adds_up_to_the_invoked_message(
    emulator: TirEmulator, mode: str
) -> None:
    """vLLM 0.10.2 copies the arguments into `content` of the answer only."""
    emulator.leak_tool_args_into_content = True
    model = emulator.chat_model().bind_tools([Weather])
    invoked = invoke(model, mode, "Weather in 'Zürich'?")
    streamed = reduce(add, stream(model, mode, "Weather in 'Zürich'?"))
    assert streamed.content == invoked.content == ""
    assert [c["args"] for c in streamed.tool_calls] == [{"city": "Zürich"}]
    assert [c["args"] for c in invoked.tool_calls] == [{"city": "Zürich"}]


def test_structured_output_failure_keeps_the_raw_answer(
    emulator: TirEmulator, mode: str
) -> None:
    emulator.flaky_structured_output = True
    model = emulator.chat_model().with_structured_output(Weather, include_raw=True)
    result = invoke(model, mode, "Weather in 'Oslo' as JSON.")  # type: ignore[arg-type]
    assert result["parsed"] is None
    assert isinstance(result["parsing_error"], OutputParserException)
    assert result["raw"].content
    assert result["raw"].content in str(result["parsing_error"].llm_output)
    emulator.flaky_structured_output = False
    assert invoke(
        emulator.chat_model().with_structured_output(Weather),
        mode,
        "Weather in 'Oslo'?",
    ) == Weather(city="Oslo")  # type: ignore[arg-type]
