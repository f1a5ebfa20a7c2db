"""Requests spread over a few small connection pools behind one in-flight gate."""

from __future__ import annotations

import asyncio
import threading
from typing import TYPE_CHECKING, Any

import httpx

from langchain_gptoss._deadline import timed_async_transport, timed_transport

if TYPE_CHECKING:
    import ssl
    from collections.abc import AsyncIterator, Callable, Iterator

# gpt-oss answers are long, so many requests are in flight at once. httpcore's pool
# rescans all its connections for each one whenever a request starts or ends, so
# one pool of 100 costs milliseconds per request under load; several small pools
# behind one gate cost a sixteenth of that.
SHARDS = 4
SHARD_SIZE = 25
MAX_IN_FLIGHT = SHARDS * SHARD_SIZE
_SHARD_LIMITS = httpx.Limits(
    max_connections=SHARD_SIZE, max_keepalive_connections=SHARD_SIZE
)


class _Released(httpx.AsyncByteStream, httpx.SyncByteStream):
    """A response body that gives its slot back when it is closed."""

    def __init__(self, inner: Any, release: Callable[[], None]) -> None:
        self._inner = inner
        self._release = release

    # The inner iterators themselves: a generator here would be one more frame
    # to resume for every chunk of a stream.
    def __iter__(self) -> Iterator[bytes]:
        return iter(self._inner)

    def __aiter__(self) -> AsyncIterator[bytes]:
        return aiter(self._inner)

    def close(self) -> None:
        try:
            self._inner.close()
        finally:
            self._release()

    async def aclose(self) -> None:
        try:
            await self._inner.aclose()
        finally:
            self._release()


class _Ledger:
    """Which shard takes the next request: the least busy (the first when idle).

    The gate in front admits at most `MAX_IN_FLIGHT` requests, so the least busy
    shard always has a free connection and no request ever queues inside httpcore.
    Sequential requests all land on shard 0 and reuse its connection.
    """

    def __init__(self) -> None:
        self.busy = [0] * SHARDS

    def take(self) -> tuple[int, Callable[[], None]]:
        shard = self.busy.index(min(self.busy))
        self.busy[shard] += 1
        return shard, lambda: self._give_back(shard)

    def _give_back(self, shard: int) -> None:
        self.busy[shard] -= 1


def _pool_timeout(request: httpx.Request) -> float | None:
    timeout: dict[str, float | None] = request.extensions.get("timeout", {})
    return timeout.get("pool")


def _pool_timeout_error(request: httpx.Request) -> httpx.PoolTimeout:
    return httpx.PoolTimeout("Timed out waiting for a free connection", request=request)


class ShardedAsyncTransport(httpx.AsyncBaseTransport):
    """`MAX_IN_FLIGHT` connections in `SHARDS` pools, behind one gate."""

    def __init__(self, ssl_context: ssl.SSLContext) -> None:
        """Create the pools, sharing one TLS setup, and the gate; none connects yet."""
        self._shards = [
            timed_async_transport(
                httpx.AsyncHTTPTransport(limits=_SHARD_LIMITS, verify=ssl_context)
            )
            for _ in range(SHARDS)
        ]
        self._ledger = _Ledger()
        self._gate = asyncio.Semaphore(MAX_IN_FLIGHT)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Wait for a slot (bounded by the pool timeout), then send on a shard."""
        try:
            async with asyncio.timeout(_pool_timeout(request)):
                await self._gate.acquire()
        except TimeoutError as exc:
            raise _pool_timeout_error(request) from exc
        shard, give_back = self._ledger.take()

        def release() -> None:
            give_back()
            self._gate.release()

        try:
            response = await self._shards[shard].handle_async_request(request)
        except BaseException:
            release()
            raise
        response.stream = _Released(response.stream, release)
        return response

    async def aclose(self) -> None:
        """Close every pool."""
        for shard in self._shards:
            await shard.aclose()


class ShardedTransport(httpx.BaseTransport):
    """The sync twin of `ShardedAsyncTransport`, for many threads on one model."""

    def __init__(self, ssl_context: ssl.SSLContext) -> None:
        """Create the pools, sharing one TLS setup, and the gate; none connects yet."""
        self._shards = [
            timed_transport(
                httpx.HTTPTransport(limits=_SHARD_LIMITS, verify=ssl_context)
            )
            for _ in range(SHARDS)
        ]
        self._ledger = _Ledger()
        self._lock = threading.Lock()
        self._gate = threading.BoundedSemaphore(MAX_IN_FLIGHT)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Wait for a slot (bounded by the pool timeout), then send on a shard."""
        # None blocks until a slot frees, as the async gate does; -1 would not wait.
        if not self._gate.acquire(timeout=_pool_timeout(request)):
            raise _pool_timeout_error(request)
        with self._lock:
            shard, give_back = self._ledger.take()

        def release() -> None:
            with self._lock:
                give_back()
            self._gate.release()

        try:
            response = self._shards[shard].handle_request(request)
        except BaseException:
            release()
            raise
        response.stream = _Released(response.stream, release)
        return response

    def close(self) -> None:
        """Close every pool."""
        for shard in self._shards:
            shard.close()
