"""Guards on the hot paths that need no clock (benchmarks/ has the timings)."""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from langchain_core.messages import AIMessage, AIMessageChunk
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult

from langchain_gptoss._response import result_from_response, text_chunk
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


def completion(message: dict[str, Any], usage: dict[str, Any] | None) -> dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "model": "openai/gpt-oss-120b",
        "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
        "usage": usage,
    }


TEXT_ANSWERS = [
    completion(
        {"role": "assistant", "content": "Hi.", "reasoning": "Greet."},
        {"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7},
    ),
    completion({"role": "assistant", "content": None, "tool_calls": []}, None),
]


@pytest.mark.parametrize("response", TEXT_ANSWERS)
def test_a_text_answer_is_built_without_validation(response: dict[str, Any]) -> None:
    assert validations_during(lambda: result_from_response(response)) == 0


@pytest.mark.parametrize("response", TEXT_ANSWERS)
def test_unvalidated_results_equal_validated_ones(response: dict[str, Any]) -> None:
    fast = result_from_response(response)
    fields = fast.generations[0].message.__dict__
    message = AIMessage(
        **{k: v for k, v in fields.items() if k not in {"type", "name"}}
    )
    generation = ChatGeneration(
        message=message, generation_info=fast.generations[0].generation_info
    )
    slow = ChatResult(generations=[generation], llm_output=fast.llm_output)
    assert fast == slow
    assert fast.generations[0].text == slow.generations[0].text
    for fast_model, slow_model in [
        (fast, slow),
        (fast.generations[0], slow.generations[0]),
        (fast.generations[0].message, slow.generations[0].message),
    ]:
        assert fast_model.model_dump() == slow_model.model_dump()
        assert fast_model.model_fields_set == slow_model.model_fields_set
        assert repr(fast_model) == repr(slow_model)


def test_an_answer_with_tool_calls_equals_the_validated_message() -> None:
    response = completion(
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "add", "arguments": '{"a": 1}'},
                }
            ],
        },
        None,
    )
    message = result_from_response(response).generations[0].message
    assert message == AIMessage(
        content="",
        tool_calls=[{"name": "add", "args": {"a": 1}, "id": "call_1"}],
        response_metadata=message.response_metadata,
        id="chatcmpl-1",
    )
