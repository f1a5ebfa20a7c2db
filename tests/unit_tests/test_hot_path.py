"""Guards on the streaming hot path that need no clock (benchmarks/ has the timings)."""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from langchain_core.messages import AIMessageChunk
from langchain_core.outputs import ChatGenerationChunk

from langchain_gptoss._response import text_chunk
from tests.unit_tests.conftest import (
    Recorder,
    make_model,
    run_stream,
    sse_bytes,
    sse_response,
)
from tests.unit_tests.wire import stream_events


def validations_during(work: Callable[[], Any]) -> int:
    """Count pydantic-core validator calls made while `work` runs (observed, not patched)."""
    seen: Counter[str] = Counter()

    def profile(frame: Any, event: str, arg: Any) -> None:
        if event == "c_call" and getattr(arg, "__name__", "") in {
            "validate_python",
            "validate_assignment",
        }:
            seen[arg.__name__] += 1

    sys.setprofile(profile)
    try:
        work()
    finally:
        sys.setprofile(None)
    return sum(seen.values())


def stream_of(events: int) -> Callable[[], Any]:
    body = sse_bytes(
        *stream_events("reasoning", reasoning=["r"] * events, content=["c"] * events)
    )
    model = make_model(Recorder(sse_response(body)))
    return lambda: run_stream(model, "sync", "q")


def test_no_pydantic_validation_per_streamed_chunk() -> None:
    few, many = validations_during(stream_of(10)), validations_during(stream_of(1000))
    # 2,000 more chunks, not one more validation: the per-request work is constant.
    assert many == few


@pytest.mark.parametrize(
    ("content", "extra", "info"),
    [("hi", {}, None), ("", {"reasoning_content": "r"}, {"finish_reason": "stop"})],
)
def test_unvalidated_chunks_equal_validated_ones(
    content: str, extra: dict[str, Any], info: Any
) -> None:
    fast = text_chunk(content, extra, {"model_provider": "gptoss"}, "chatcmpl-1", info)
    slow = ChatGenerationChunk(
        message=AIMessageChunk(
            content=content,
            additional_kwargs=extra,
            response_metadata={"model_provider": "gptoss"},
            id="chatcmpl-1",
        ),
        generation_info=info,
    )
    assert fast == slow
    assert fast.message.model_dump() == slow.message.model_dump()
    assert fast.model_fields_set == slow.model_fields_set
    assert fast.message.model_fields_set == slow.message.model_fields_set
    assert (fast + slow).message.content == content * 2
