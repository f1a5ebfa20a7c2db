"""ChatGptOss end to end over httpx.MockTransport, every test in sync and async mode."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator, Iterator
from functools import reduce
from operator import add
from typing import Any

import httpx
import pytest
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.messages import AIMessage, AIMessageChunk

from langchain_gptoss import (
    ChatGptOss,
    GptOssAuthenticationError,
    GptOssConnectionError,
    GptOssContextOverflowError,
    GptOssRateLimitError,
    GptOssServerError,
    GptOssStreamError,
    GptOssTimeoutError,
)
from tests.unit_tests.conftest import (
    PROJECT,
    TOKEN,
    Pieces,
    Recorder,
    make_model,
    run_invoke,
    run_stream,
    sse_bytes,
    sse_response,
)
from tests.unit_tests.wire import ERAS, RESPONSE_ID, completion, stream_events


def json_response(
    payload: dict[str, Any], status: int = 200, **headers: str
) -> httpx.Response:
    return httpx.Response(status, json=payload, headers=headers)


def summed(chunks: list[AIMessageChunk]) -> AIMessageChunk:
    return reduce(add, chunks)


@pytest.mark.parametrize("era", ERAS)
def test_invoke_carries_reasoning_content_metadata_and_usage(
    mode: str, era: str
) -> None:
    recorder = Recorder(json_response(completion(era)))
    message = run_invoke(make_model(recorder), mode, "Capital of France?")

    assert isinstance(message, AIMessage)
    assert message.content == "Paris."
    assert message.additional_kwargs["reasoning_content"].startswith("The user asks")
    assert message.content_blocks[0]["type"] == "reasoning"
    assert message.content_blocks[1] == {"type": "text", "text": "Paris."}
    assert message.id == RESPONSE_ID
    meta = message.response_metadata
    assert meta["id"] == RESPONSE_ID
    assert meta["model_name"] == "gpt_oss_120b"
    assert meta["finish_reason"] == "stop"
    assert meta["model_provider"] == "gptoss"
    assert "system_fingerprint" in meta
    assert "logprobs" not in meta
    assert message.usage_metadata == {
        "input_tokens": 83,
        "output_tokens": 36,
        "total_tokens": 119,
    }


@pytest.mark.parametrize("era", ERAS)
def test_stream_sums_to_what_invoke_returns(mode: str, era: str) -> None:
    invoked = run_invoke(
        make_model(Recorder(json_response(completion(era)))), mode, "q"
    )
    body = sse_bytes(
        *stream_events(
            era,
            reasoning=["The user asks", " for the capital.", " Answer: Paris."],
            content=["Par", "is."],
        )
    )
    chunks = run_stream(make_model(Recorder(sse_response(body))), mode, "q")
    whole = summed(chunks)

    assert whole.content == invoked.content
    assert whole.additional_kwargs == invoked.additional_kwargs
    assert whole.usage_metadata == invoked.usage_metadata
    assert whole.content_blocks == invoked.content_blocks
    for key in ("id", "model_name", "finish_reason", "model_provider"):
        assert whole.response_metadata[key] == invoked.response_metadata[key]
    assert sum(1 for c in chunks if c.usage_metadata) == 1
    assert chunks[-1].chunk_position == "last"


@pytest.mark.parametrize("split", [1, 2, 7, 64])
def test_stream_is_identical_whatever_the_byte_boundaries(
    mode: str, split: int
) -> None:
    # Split at every byte too, which cuts inside multi-byte UTF-8 characters.
    body = sse_bytes(*stream_events("both", content=["Grüße, ", "東京", " 🚀"]))
    whole = summed(run_stream(make_model(Recorder(sse_response(body))), mode, "q"))
    reference = summed(run_stream(make_model(Recorder(sse_response(body))), mode, "q"))
    chopped = summed(
        run_stream(make_model(Recorder(sse_response(body, split=split))), mode, "q")
    )
    assert chopped.content == whole.content == reference.content == "Grüße, 東京 🚀"
    assert chopped.additional_kwargs == whole.additional_kwargs


def test_stream_tolerates_crlf_comments_and_multiline_data(mode: str) -> None:
    events = stream_events("reasoning", content=["Hi", "!"])
    text = "".join(f": keep-alive\r\n\r\ndata: {json.dumps(e)}\r\n\r\n" for e in events)
    body = (text + "data: [DONE]\r\n\r\n").encode()
    whole = summed(
        run_stream(make_model(Recorder(sse_response(body, split=5))), mode, "q")
    )
    assert whole.content == "Hi!"
    assert whole.usage_metadata is not None


def test_streaming_field_makes_invoke_stream(mode: str) -> None:
    recorder = Recorder(sse_response(sse_bytes(*stream_events("both"))))
    message = run_invoke(make_model(recorder, streaming=True), mode, "q")
    assert recorder.bodies[0]["stream"] is True
    assert recorder.bodies[0]["stream_options"] == {"include_usage": True}
    assert message.content == "Paris."
    assert (
        message.additional_kwargs["reasoning_content"]
        == "The user asks for the capital."
    )
    assert message.usage_metadata["total_tokens"] == 119


def test_stream_usage_off_sends_no_stream_options(mode: str) -> None:
    recorder = Recorder(sse_response(sse_bytes(*stream_events("both", usage=False))))
    chunks = run_stream(make_model(recorder, stream_usage=False), mode, "q")
    assert "stream_options" not in recorder.bodies[0]
    assert not any(c.usage_metadata for c in chunks)


def test_request_url_query_headers_and_body(mode: str) -> None:
    recorder = Recorder(json_response(completion("both")))
    model = make_model(
        recorder,
        temperature=0.2,
        max_tokens=512,
        reasoning_effort="low",
        stop=["END"],
        model_kwargs={"top_k": 20},
        default_headers={"X-Trace": "abc"},
    )
    run_invoke(model, mode, "hi")
    request = recorder.requests[0]
    assert request.method == "POST"
    assert str(request.url) == (
        f"https://infer.e2enetworks.net/project/p-{PROJECT}/genai/gpt_oss_120b/v1/"
        f"chat/completions?project_id={PROJECT}"
    )
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert request.headers["x-trace"] == "abc"
    assert request.headers["content-type"] == "application/json"
    assert recorder.bodies[0] == {
        "messages": [{"role": "user", "content": "hi"}],
        "model": "gpt_oss_120b",
        "temperature": 0.2,
        "max_tokens": 512,
        "stop": ["END"],
        "reasoning_effort": "low",
        "top_k": 20,
    }


def test_include_project_query_set_after_construction_is_followed(mode: str) -> None:
    recorder = Recorder(json_response(completion("both")))
    model = make_model(recorder)
    model.include_project_query = False
    run_invoke(model, mode, "hi")
    assert recorder.requests[0].url.query == b""


def test_per_call_overrides_win(mode: str) -> None:
    recorder = Recorder(json_response(completion("both")))
    model = make_model(recorder, temperature=0.2, stop=["END"])
    run_invoke(model, mode, "hi", stop=["STOP"], temperature=0.9, model="gpt_oss_alt")
    body = recorder.bodies[0]
    assert body["stop"] == ["STOP"]
    assert body["temperature"] == 0.9
    assert body["model"] == "gpt_oss_alt"
    assert "/genai/gpt_oss_alt/v1/" in str(recorder.requests[0].url)


def test_project_query_can_be_left_out(mode: str) -> None:
    recorder = Recorder(json_response(completion("both")))
    run_invoke(make_model(recorder, include_project_query=False), mode, "hi")
    assert recorder.requests[0].url.query == b""


def test_truncated_during_reasoning_is_flagged_and_warned(
    mode: str, caplog: pytest.LogCaptureFixture
) -> None:
    payload = completion(
        "both", content=None, reasoning="Let me think", finish_reason="length"
    )
    with caplog.at_level(logging.WARNING, logger="langchain_gptoss"):
        message = run_invoke(make_model(Recorder(json_response(payload))), mode, "q")
    assert message.content == ""
    assert message.response_metadata["finish_reason"] == "length"
    assert message.response_metadata["truncated_during_reasoning"] is True
    assert "raise max_tokens or lower reasoning_effort" in caplog.text


def test_truncated_stream_is_flagged_too(mode: str) -> None:
    body = sse_bytes(*stream_events("reasoning", content=[], finish_reason="length"))
    whole = summed(run_stream(make_model(Recorder(sse_response(body))), mode, "q"))
    assert whole.content == ""
    assert whole.response_metadata["truncated_during_reasoning"] is True


def test_length_after_an_answer_is_not_flagged(mode: str) -> None:
    body = sse_bytes(*stream_events("reasoning", finish_reason="length"))
    whole = summed(run_stream(make_model(Recorder(sse_response(body))), mode, "q"))
    assert "truncated_during_reasoning" not in whole.response_metadata


def test_logprobs_and_usage_details_when_sent(mode: str) -> None:
    logprobs = {
        "content": [
            {"token": "Paris", "logprob": -0.1, "bytes": [80], "top_logprobs": []}
        ]
    }
    usage = {
        "prompt_tokens": 10,
        "completion_tokens": 5,
        "total_tokens": 15,
        "prompt_tokens_details": {"cached_tokens": 4},
        "completion_tokens_details": {"reasoning_tokens": 3},
    }
    payload = completion("reasoning", logprobs=logprobs, usage=usage)
    message = run_invoke(make_model(Recorder(json_response(payload))), mode, "q")
    assert message.response_metadata["logprobs"] == logprobs
    assert message.usage_metadata == {
        "input_tokens": 10,
        "output_tokens": 5,
        "total_tokens": 15,
        "input_token_details": {"cache_read": 4},
        "output_token_details": {"reasoning": 3},
    }


def test_on_llm_new_token_fires_for_content(mode: str) -> None:
    class Tokens(BaseCallbackHandler):
        def __init__(self) -> None:
            self.tokens: list[str] = []

        def on_llm_new_token(self, token: str, **kwargs: Any) -> None:
            self.tokens.append(token)

    handler = Tokens()
    recorder = Recorder(sse_response(sse_bytes(*stream_events("both"))))
    run_invoke(
        make_model(recorder, streaming=True), mode, "q", config={"callbacks": [handler]}
    )
    assert "".join(handler.tokens) == "Paris."
    assert "Par" in handler.tokens


# ----------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("status", "body", "error", "text"),
    [
        (401, '{"message": "Unauthorized"}', GptOssAuthenticationError, "Unauthorized"),
        (429, "slow down", GptOssRateLimitError, "slow down"),
        (
            400,
            json.dumps(
                {
                    "error": {
                        "message": "This model's maximum context length is 131072 tokens. However, ...",
                        "type": "BadRequestError",
                        "param": "input_tokens",
                        "code": 400,
                    }
                }
            ),
            GptOssContextOverflowError,
            "maximum context length is 131072",
        ),
        (
            502,
            "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>",
            GptOssServerError,
            "502 Bad Gateway",
        ),
    ],
)
@pytest.mark.parametrize("streamed", [False, True])
def test_http_errors_map_to_classes(
    mode: str, streamed: bool, status: int, body: str, error: type[Exception], text: str
) -> None:
    recorder = Recorder(httpx.Response(status, text=body))
    model = make_model(recorder)
    run = run_stream if streamed else run_invoke
    with pytest.raises(error) as caught:
        run(model, mode, "q")
    assert text in str(caught.value)
    assert caught.value.status_code == status  # type: ignore[attr-defined]
    assert TOKEN not in str(caught.value)


def test_retries_then_succeeds_and_honours_retry_after(mode: str) -> None:
    recorder = Recorder(
        httpx.Response(429, text="busy", headers={"Retry-After": "0"}),
        httpx.Response(503, text="down", headers={"retry-after-ms": "1"}),
        json_response(completion("both")),
    )
    message = run_invoke(make_model(recorder, max_retries=2), mode, "q")
    assert message.content == "Paris."
    assert len(recorder.requests) == 3


def test_retries_stop_after_max_retries(mode: str) -> None:
    recorder = Recorder(httpx.Response(500, text="boom", headers={"Retry-After": "0"}))
    with pytest.raises(GptOssServerError):
        run_invoke(make_model(recorder, max_retries=2), mode, "q")
    assert len(recorder.requests) == 3


def test_client_errors_are_not_retried(mode: str) -> None:
    recorder = Recorder(httpx.Response(401, text="no"))
    with pytest.raises(GptOssAuthenticationError):
        run_invoke(make_model(recorder, max_retries=3), mode, "q")
    assert len(recorder.requests) == 1


def test_stream_retried_before_first_chunk(mode: str) -> None:
    recorder = Recorder(
        httpx.Response(503, text="warming up", headers={"Retry-After": "0"}),
        sse_response(sse_bytes(*stream_events("both"))),
    )
    whole = summed(run_stream(make_model(recorder, max_retries=1), mode, "q"))
    assert whole.content == "Paris."
    assert len(recorder.requests) == 2


def test_stream_never_retried_after_a_chunk(mode: str) -> None:
    events = stream_events("both")[:4]
    error = {
        "error": {
            "message": "Unexpected token 200002",
            "type": "BadRequestError",
            "code": 400,
        }
    }
    recorder = Recorder(sse_response(sse_bytes(*events, error)))
    chunks: list[Any] = []
    with pytest.raises(GptOssStreamError, match="Unexpected token 200002"):
        run_stream(make_model(recorder, max_retries=3), mode, "q", into=chunks)
    assert len(recorder.requests) == 1
    assert chunks  # the reasoning that arrived was handed out, then the error


@pytest.mark.parametrize(
    ("tail", "match"),
    [
        ('data: {"id": "chatcmpl-\n\n', "Malformed event"),
        ("", "ended before data: \\[DONE\\]"),
    ],
)
def test_broken_streams_raise_instead_of_truncating(
    mode: str, tail: str, match: str
) -> None:
    body = sse_bytes(*stream_events("both")[:5], done=False) + tail.encode()
    with pytest.raises(GptOssStreamError, match=match):
        run_stream(make_model(Recorder(sse_response(body))), mode, "q")


def test_non_sse_success_is_a_stream_error(mode: str) -> None:
    recorder = Recorder(json_response(completion("both")))
    with pytest.raises(GptOssStreamError, match="Expected an SSE stream"):
        run_stream(make_model(recorder), mode, "q")


def test_transport_failure_is_a_connection_error(mode: str) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[Errno 111] Connection refused", request=request)

    with pytest.raises(GptOssConnectionError) as caught:
        run_invoke(make_model(refuse), mode, "q")
    assert isinstance(caught.value.__cause__, httpx.ConnectError)


def test_early_break_closes_the_response(mode: str) -> None:
    raw = sse_bytes(*stream_events("both"))
    body = Pieces([raw[i : i + 50] for i in range(0, len(raw), 50)])
    recorder = Recorder(
        httpx.Response(200, headers={"content-type": "text/event-stream"}, stream=body)
    )
    model = make_model(recorder)
    if mode == "sync":
        for _ in model.stream("q"):
            break
    else:
        import asyncio

        async def first() -> None:
            async for _ in model.astream("q"):
                break

        asyncio.run(first())
    assert body.closed


# ---------------------------------------------------------------- construction


def test_missing_token_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("E2E_TIR_ACCESS_TOKEN", raising=False)
    monkeypatch.delenv("TIR_API_TOKEN", raising=False)
    with pytest.raises(ValueError, match=r"E2E_TIR_ACCESS_TOKEN.*TIR_API_TOKEN"):
        ChatGptOss(project_id=1)


def test_token_and_project_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("E2E_TIR_ACCESS_TOKEN", raising=False)
    monkeypatch.setenv("TIR_API_TOKEN", "from-fallback")
    monkeypatch.setenv("E2E_TIR_PROJECT_ID", "p-77")
    model = ChatGptOss()
    assert model.api_key is not None
    assert model.api_key.get_secret_value() == "from-fallback"
    assert model.project_id == 77


def test_missing_project_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("E2E_TIR_PROJECT_ID", raising=False)
    with pytest.raises(ValueError, match=r"project_id=.*E2E_TIR_PROJECT_ID"):
        ChatGptOss(api_key="t")


def test_full_base_url_from_get_code(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("E2E_TIR_PROJECT_ID", raising=False)
    model = ChatGptOss(
        api_key="t",
        base_url="https://infer.e2enetworks.net/project/p-5915/genai/gpt_oss_120b/v1/",
    )
    assert (model.base_url, model.project_id, model.model) == (
        "https://infer.e2enetworks.net",
        5915,
        "gpt_oss_120b",
    )
    with pytest.raises(ValueError, match="contradicts base_url"):
        ChatGptOss(
            api_key="t",
            project_id=1,
            base_url="https://infer.e2enetworks.net/project/p-5915/genai/gpt_oss_120b/v1",
        )


def test_unknown_kwargs_go_to_model_kwargs_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="langchain_gptoss"):
        model = ChatGptOss(api_key="t", project_id=1, top_k=20)
    assert model.model_kwargs == {"top_k": 20}
    assert "top_k is not a ChatGptOss field" in caplog.text


def test_token_never_in_repr_str_or_params() -> None:
    model = ChatGptOss(api_key=TOKEN, project_id=1)
    surfaces = [
        repr(model),
        str(model),
        str(model._identifying_params),
        str(model._get_ls_params()),
        str(model._get_invocation_params()),
    ]
    assert not any(TOKEN in s for s in surfaces)


class Trickle(httpx.SyncByteStream, httpx.AsyncByteStream):
    """One event, then keep-alive comments every 50 ms and never another event."""

    def __init__(self, first: bytes) -> None:
        self.first = first

    def __iter__(self) -> Iterator[bytes]:
        yield self.first
        for _ in range(100):
            time.sleep(0.05)
            yield b": keep-alive\n\n"

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield self.first
        for _ in range(100):
            await asyncio.sleep(0.05)
            yield b": keep-alive\n\n"


def test_idle_timeout_is_not_fooled_by_keepalive_comments(mode: str) -> None:
    first = sse_bytes(stream_events("both")[2], done=False)
    recorder = Recorder(
        httpx.Response(
            200, headers={"content-type": "text/event-stream"}, stream=Trickle(first)
        )
    )
    chunks: list[Any] = []
    started = time.monotonic()
    with pytest.raises(GptOssTimeoutError, match="stream_idle_timeout"):
        run_stream(
            make_model(recorder, stream_idle_timeout=0.3), mode, "q", into=chunks
        )
    assert 0.3 <= time.monotonic() - started < 4.0
    assert len(recorder.requests) == 1  # a chunk was out: never retried
    assert chunks


def test_injected_clients_are_never_closed(mode: str) -> None:
    recorder = Recorder(json_response(completion("both")))
    model = make_model(recorder)
    run_invoke(model, mode, "q")
    model.close()
    asyncio.run(model.aclose())
    with model:
        pass
    assert not model.http_client.is_closed  # type: ignore[union-attr]
    assert not model.http_async_client.is_closed  # type: ignore[union-attr]
    run_invoke(model, mode, "again")
    assert len(recorder.requests) == 2


def test_model_copy_with_new_settings_uses_them(mode: str) -> None:
    recorder = Recorder(json_response(completion("both")))
    model = make_model(recorder, timeout=30).model_copy(
        update={"project_id": "p-7", "timeout": 5}
    )
    run_invoke(model, mode, "q")
    assert "/project/p-7/" in str(recorder.requests[0].url)
    assert model.project_id == 7
    assert model._owned.sync().timeout.read == 5
