"""Integration tests talk HTTP over loopback to TirEmulator, or to TIR itself.

With GPTOSS_LIVE=1 and E2E_TIR_ACCESS_TOKEN / E2E_TIR_PROJECT_ID set, the standard suite
runs against the real endpoint; tests that need the emulator's fault injection skip.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from langchain_gptoss.testing import TirEmulator

ERAS = ("reasoning_content", "both", "reasoning")
LIVE = bool(
    os.environ.get("GPTOSS_LIVE") == "1"
    and os.environ.get("E2E_TIR_ACCESS_TOKEN")
    and os.environ.get("E2E_TIR_PROJECT_ID")
)
needs_emulator = pytest.mark.skipif(
    LIVE, reason="injects faults into the local emulator; not possible against live TIR"
)

# Tool calling and structured output are built in issue #3; until then these standard
# tests must fail for exactly that reason (BaseChatModel.bind_tools is not implemented).
PENDING_TOOLS = frozenset(
    {
        "test_tool_calling",
        "test_tool_calling_async",
        "test_bind_runnables_as_tools",
        "test_tool_message_histories_string_content",
        "test_tool_message_histories_list_content",
        "test_tool_choice",
        "test_tool_calling_with_no_arguments",
        "test_tool_message_error_status",
        "test_structured_few_shot_examples",
        "test_structured_output",
        "test_structured_output_async",
        "test_structured_output_pydantic_2_v1",
        "test_structured_output_optional_param",
        "test_agent_loop",
        "test_unicode_tool_call_integration",
    }
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    pending = pytest.mark.xfail(
        raises=NotImplementedError,
        strict=True,
        reason="tool calling and structured output arrive with issue #3",
    )
    for item in items:
        if item.module.__name__.endswith("test_standard") and (  # type: ignore[attr-defined]
            getattr(item, "originalname", item.name) in PENDING_TOOLS
        ):
            item.add_marker(pending)


_emulators: dict[str, TirEmulator] = {}


def shared_emulator(era: str) -> TirEmulator:
    """One emulator per reasoning-field era, started on first use, stopped at exit."""
    if era not in _emulators:
        _emulators[era] = TirEmulator(reasoning_field=era).start()  # type: ignore[arg-type]
    return _emulators[era]


def model_params(era: str) -> dict[str, Any]:
    if LIVE:
        return {"max_tokens": 4096, "reasoning_effort": "low"}
    emulator = shared_emulator(era)
    return {
        "base_url": emulator.base_url,
        "api_key": emulator.token,
        "project_id": emulator.project_id,
    }


@pytest.fixture(scope="session", autouse=True)
def _stop_shared_emulators() -> Iterator[None]:
    yield
    for emulator in _emulators.values():
        emulator.stop()
    _emulators.clear()


@pytest.fixture
def emulator() -> Iterator[TirEmulator]:
    """A private emulator, for tests that inject faults or change settings."""
    with TirEmulator() as private:
        yield private
