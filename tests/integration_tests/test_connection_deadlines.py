"""A deadline set on a connection ends with its response, never with the next one.

`_deadline.arm` bounds the rest of a response's body (the total timeout, the
grace read after `[DONE]`) by a deadline on the connection it arrived on. httpx
closes a response, and so hands its connection back to the pool, the moment
the body ends: a deadline cleared only after that (when the reading code gets
round to it) was seen by the next request on the same connection, whose first
write then failed with "deadline reached" (200 concurrent long streams in the
benchmark), and the late clearing could wipe the next request's own deadline.
One connection (`max_connections=1`) makes the reuse certain.
"""

from __future__ import annotations

import asyncio
import ssl
import time

import httpx

from langchain_gptoss._deadline import arm
from langchain_gptoss._transport import ShardedAsyncTransport, ShardedTransport
from langchain_gptoss.testing import TirEmulator
from tests.integration_tests.conftest import needs_emulator

pytestmark = needs_emulator

TLS = ssl.create_default_context()


def _request(emulator: TirEmulator) -> dict[str, object]:
    return {
        "url": emulator.chat_url,
        "headers": {"Authorization": f"Bearer {emulator.token}"},
        "json": {"messages": [{"role": "user", "content": "hi"}], "stream": True},
    }


def test_sync_deadline_is_cleared_before_the_connection_is_reused(
    emulator: TirEmulator,
) -> None:
    with httpx.Client(transport=ShardedTransport(TLS, 1)) as client:
        with client.stream("POST", **_request(emulator)) as first:  # type: ignore[arg-type]
            armed = arm(first, time.monotonic() + 0.05)
            assert armed is not None
            for _ in first.iter_raw():
                pass
            time.sleep(0.1)  # the deadline has passed; the body ended before it
            second = client.post(**_request(emulator))  # type: ignore[arg-type]
            assert second.status_code == 200
            assert armed.deadline is None
        # Leaving the first response's block touches nothing of the second's.
        assert second.text.rstrip().endswith("data: [DONE]")


def test_async_deadline_is_cleared_before_the_connection_is_reused(
    emulator: TirEmulator,
) -> None:
    async def run() -> None:
        async with httpx.AsyncClient(transport=ShardedAsyncTransport(TLS, 1)) as client:
            async with client.stream("POST", **_request(emulator)) as first:  # type: ignore[arg-type]
                armed = arm(first, time.monotonic() + 0.05)
                assert armed is not None
                async for _ in first.aiter_raw():
                    pass
                await asyncio.sleep(0.1)
                second = await client.post(**_request(emulator))  # type: ignore[arg-type]
                assert second.status_code == 200
                assert armed.deadline is None
            assert second.text.rstrip().endswith("data: [DONE]")

    asyncio.run(run())


def test_a_response_closed_early_clears_its_deadline(emulator: TirEmulator) -> None:
    with httpx.Client(transport=ShardedTransport(TLS, 1)) as client:
        with client.stream("POST", **_request(emulator)) as first:  # type: ignore[arg-type]
            armed = arm(first, time.monotonic() + 60)
            assert armed is not None
            next(first.iter_raw())
        assert armed.deadline is None
        assert armed.idle is None
