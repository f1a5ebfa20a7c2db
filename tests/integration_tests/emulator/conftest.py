"""Fixtures: a fresh emulator per test (from the tir_emulator plugin) and raw clients."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import httpx
import pytest

from langchain_gptoss.testing import TirEmulator
from tests.integration_tests.emulator.wire import TLS


@pytest.fixture
def emu(
    tir_emulator: TirEmulator, caplog: pytest.LogCaptureFixture
) -> Iterator[TirEmulator]:
    yield tir_emulator
    tir_emulator.stop()  # before the check, so that what stopping logs counts too
    # The server thread must never leak an exception into asyncio's error log.
    # caplog.records alone holds only this teardown's records.
    phases = ("setup", "call", "teardown")
    logged = [r for when in phases for r in caplog.get_records(when)]
    assert not [r for r in logged if r.levelno >= logging.WARNING]


@pytest.fixture
def client(emu: TirEmulator) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {emu.token}"}
    with httpx.Client(headers=headers, timeout=5, verify=TLS) as http:
        yield http


@pytest.fixture
def anon() -> Iterator[httpx.Client]:
    """A client without credentials (``verify=TLS`` skips building a TLS context)."""
    with httpx.Client(timeout=5, verify=TLS) as http:
        yield http
