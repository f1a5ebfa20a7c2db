"""Integration tests talk HTTP over loopback to TirEmulator, or to TIR itself.

With GPTOSS_LIVE=1 and E2E_TIR_ACCESS_TOKEN / E2E_TIR_PROJECT_ID set, the standard suite
runs against the real endpoint; tests that need the emulator's fault injection skip.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from langchain_gptoss._clients import close_idle_pools
from langchain_gptoss.testing import TirEmulator

ERAS = ("reasoning_content", "both", "reasoning")
# The release profiles the client is tested against end to end: the oldest gpt-oss
# release with chat tool calls, each release where the wire changes for this
# client, and the newest (README, "vLLM releases").
SUPPORTED_RELEASES = ("0.10.2", "0.11.0", "0.13.0", "0.16.0", "0.20.1", "0.33.0")
LIVE = bool(
    os.environ.get("GPTOSS_LIVE") == "1"
    and os.environ.get("E2E_TIR_ACCESS_TOKEN")
    and os.environ.get("E2E_TIR_PROJECT_ID")
)
needs_emulator = pytest.mark.skipif(
    LIVE, reason="injects faults into the local emulator; not possible against live TIR"
)

# A second GenAI slug the shared emulators serve, for per-call model overrides.
SECOND_MODEL = "gpt_oss_20b"

_emulators: dict[tuple[str, bool | None, int], TirEmulator] = {}


def shared_emulator(
    vllm: str, *, quirks: bool | None = None, tokens_per_chunk: int = 1
) -> TirEmulator:
    """One emulator per release profile, started on first use, stopped at exit.

    `quirks` forces vLLM's tool-call streaming quirks (protocol.md §2.c ii) on or
    off (None: as the release does); `tokens_per_chunk` is the engine's tokens
    per step, a property of the deployment.
    """
    key = (vllm, quirks, tokens_per_chunk)
    if key not in _emulators:
        emulator = TirEmulator(
            vllm=vllm, also_serves=(SECOND_MODEL,), tokens_per_chunk=tokens_per_chunk
        )
        if quirks is not None:
            emulator.tool_stream_quirks = quirks
        _emulators[key] = emulator.start()
    return _emulators[key]


def model_params(
    vllm: str, *, quirks: bool | None = None, tokens_per_chunk: int = 1
) -> dict[str, Any]:
    if LIVE:
        return {"max_tokens": 4096, "reasoning_effort": "low"}
    emulator = shared_emulator(vllm, quirks=quirks, tokens_per_chunk=tokens_per_chunk)
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


@pytest.fixture(autouse=True)
def _no_idle_pools() -> None:
    """Start each test without the pools earlier tests' dropped models left open.

    They would otherwise close `LINGER` seconds later, during this test.
    """
    close_idle_pools()


@pytest.fixture
def emulator(tir_emulator: TirEmulator) -> TirEmulator:
    """A private emulator, for tests that inject faults or change settings.

    The package's own pytest fixture, as users get it.
    """
    return tir_emulator


@pytest.fixture(params=SUPPORTED_RELEASES)
def release_emulator(request: pytest.FixtureRequest) -> Iterator[TirEmulator]:
    """A private emulator playing each supported vLLM release in turn."""
    with TirEmulator(vllm=request.param) as private:
        yield private
