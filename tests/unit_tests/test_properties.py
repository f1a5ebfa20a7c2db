"""Property-based tests of SSE decoding and chunk parsing (hypothesis)."""

from __future__ import annotations

import contextlib
import itertools
import json
from functools import reduce
from operator import add
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from langchain_gptoss import GptOssError
from langchain_gptoss._json import load_json
from tests.unit_tests.conftest import (
    Pieces,
    Recorder,
    make_model,
    run_stream,
    sse_bytes,
)
from tests.unit_tests.wire import ERAS, stream_events

PROPERTY_SETTINGS = settings(
    max_examples=60,
    deadline=2000,  # a hang or a quadratic blow-up fails the example
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

BODIES = {
    era: sse_bytes(
        *stream_events(
            era,
            reasoning=["Think ", "about ", "Grüße"],
            content=["東京", " and ", "🚀."],
        )
    )
    for era in ERAS
}


def respond(pieces: list[bytes]) -> httpx.Response:
    return httpx.Response(
        200, headers={"content-type": "text/event-stream"}, stream=Pieces(pieces)
    )


def cut(body: bytes, points: list[int]) -> list[bytes]:
    bounds = [0, *sorted({p % (len(body) + 1) for p in points}), len(body)]
    return [body[a:b] for a, b in itertools.pairwise(bounds) if b > a]


def summary(chunks: list[Any]) -> tuple[Any, ...]:
    whole = reduce(add, chunks)
    return (
        whole.content,
        whole.additional_kwargs,
        whole.usage_metadata,
        whole.response_metadata.get("finish_reason"),
    )


REFERENCE = {
    era: summary(run_stream(make_model(Recorder(respond([body]))), "sync", "q"))
    for era, body in BODIES.items()
}


@PROPERTY_SETTINGS
@given(
    era=st.sampled_from(ERAS),
    mode=st.sampled_from(["sync", "async"]),
    points=st.lists(st.integers(min_value=0), max_size=40),
    crlf=st.booleans(),
)
def test_any_split_of_a_valid_stream_gives_the_same_answer(
    era: str, mode: str, points: list[int], crlf: bool
) -> None:
    body = BODIES[era].replace(b"\n", b"\r\n") if crlf else BODIES[era]
    chunks = run_stream(make_model(Recorder(respond(cut(body, points)))), mode, "q")
    assert summary(chunks) == REFERENCE[era]


JSONISH = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(
            st.sampled_from(
                [
                    "choices",
                    "delta",
                    "content",
                    "reasoning",
                    "reasoning_content",
                    "tool_calls",
                    "function",
                    "arguments",
                    "name",
                    "id",
                    "index",
                    "finish_reason",
                    "usage",
                    "prompt_tokens",
                    "logprobs",
                    "error",
                ]
            ),
            children,
            max_size=4,
        )
    ),
    max_leaves=12,
)


@PROPERTY_SETTINGS
@given(
    events=st.lists(JSONISH, max_size=5),
    mode=st.sampled_from(["sync", "async"]),
    done=st.booleans(),
)
def test_arbitrary_events_give_a_result_or_a_typed_error(
    events: list[Any], mode: str, done: bool
) -> None:
    body = sse_bytes(*[json.dumps(e) for e in events], done=done)
    try:
        run_stream(make_model(Recorder(respond([body]))), mode, "q")
    except GptOssError:
        return
    assert done, "a stream without [DONE] must never pass for a whole answer"


@PROPERTY_SETTINGS
@given(
    noise=st.binary(max_size=300),
    prefix=st.booleans(),
    mode=st.sampled_from(["sync", "async"]),
    points=st.lists(st.integers(min_value=0), max_size=10),
)
def test_arbitrary_bytes_give_a_result_or_a_typed_error(
    noise: bytes, prefix: bool, mode: str, points: list[int]
) -> None:
    body = (BODIES["both"][:300] if prefix else b"") + noise
    with contextlib.suppress(GptOssError):
        run_stream(make_model(Recorder(respond(cut(body, points)))), mode, "q")


ANY_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children) | st.dictionaries(st.text(), children),
    max_leaves=20,
)


@PROPERTY_SETTINGS
@given(value=ANY_JSON, ascii_only=st.booleans())
def test_load_json_reads_what_json_reads(value: Any, ascii_only: bool) -> None:
    # Lone surrogates in st.text() come out as escapes with ensure_ascii, which
    # pydantic-core refuses and load_json hands on to json.
    text = json.dumps(value, ensure_ascii=ascii_only)
    assert load_json(text) == json.loads(text)
    assert load_json(text.encode("utf-8", "surrogatepass")) == json.loads(text)
