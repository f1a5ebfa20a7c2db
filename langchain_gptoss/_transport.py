"""Requests spread over small connection pools behind one in-flight gate."""

from __future__ import annotations

import asyncio
import threading
import typing
from typing import TYPE_CHECKING, Any

import httpx

from langchain_gptoss._deadline import disarm, timed_async_transport, timed_transport

if TYPE_CHECKING:
    import ssl
    from collections.abc import AsyncIterator, Callable, Iterator

# gpt-oss answers are long and TIR batches concurrent requests, so batch jobs
# keep hundreds in flight at once: the OpenAI SDK's 1,000 by default. httpcore's
# pool rescans all its connections for each request whenever one starts or ends,
# so one pool of 1,000 costs milliseconds per request under load; pools of at
# most `SHARD_SIZE` behind one gate cost a fortieth of that.
DEFAULT_MAX_CONNECTIONS = 1000
SHARD_SIZE = 25
# Idle connections a model's pool keeps open in all, as the OpenAI SDK does; the
# rest close as their requests end, rather than hold a socket each on both sides.
KEEP_ALIVE = 100


def _split(total: int, parts: int) -> list[int]:
    """`total` in `parts` shares as even as can be, the bigger ones first."""
    share, extra = divmod(total, parts)
    return [share + (part < extra) for part in range(parts)]


def shard_limits(max_connections: int) -> list[httpx.Limits]:
    """The fewest shards of at most `SHARD_SIZE` holding `max_connections`.

    Their sizes, and their shares of `KEEP_ALIVE`, are as even as can be.
    """
    count = -(-max_connections // SHARD_SIZE)
    sizes = _split(max_connections, count)
    kept = _split(min(KEEP_ALIVE, max_connections), count)
    return [
        httpx.Limits(max_connections=size, max_keepalive_connections=keep)
        for size, keep in zip(sizes, kept, strict=True)
    ]


class _Released(httpx.AsyncByteStream, httpx.SyncByteStream):
    """A response body that, when closed, ends its deadline and gives its slot back.

    httpx closes a response the moment its body ends, and closing hands the
    connection back to the pool: the deadline `arm` set on it must be gone by
    then, or the next request on that connection inherits it.
    """

    def __init__(self, response: httpx.Response, release: Callable[[], None]) -> None:
        self._inner: Any = response.stream
        self._connection = response.extensions.get("network_stream")
        self._release = release

    # The inner iterators themselves: a generator here would be one more frame
    # to resume for every chunk of a stream.
    def __iter__(self) -> Iterator[bytes]:
        return iter(self._inner)

    def __aiter__(self) -> AsyncIterator[bytes]:
        return aiter(self._inner)

    def close(self) -> None:
        disarm(self._connection)
        try:
            self._inner.close()
        finally:
            self._release()

    async def aclose(self) -> None:
        disarm(self._connection)
        try:
            await self._inner.aclose()
        finally:
            self._release()


class _Slots:
    """Which shard takes the next request: the one with most connections free.

    That is the first one when all are idle, as the shards come biggest first.
    The gate in front admits at most as many requests as all shards have
    connections, so that shard always has one free and no request ever queues
    inside httpcore. Sequential requests all land on shard 0 and reuse its
    connection.
    """

    def __init__(self, limits: list[httpx.Limits]) -> None:
        self.free = [typing.cast("int", each.max_connections) for each in limits]

    def take(self) -> tuple[int, Callable[[], None]]:
        shard = self.free.index(max(self.free))
        self.free[shard] -= 1
        return shard, lambda: self._give_back(shard)

    def _give_back(self, shard: int) -> None:
        self.free[shard] += 1


def _pool_timeout(request: httpx.Request) -> float | None:
    timeout: dict[str, float | None] = request.extensions.get("timeout", {})
    return timeout.get("pool")


def _pool_timeout_error(request: httpx.Request) -> httpx.PoolTimeout:
    return httpx.PoolTimeout("Timed out waiting for a free connection", request=request)


class ShardedAsyncTransport(httpx.AsyncBaseTransport):
    """`max_connections` connections in pools of `SHARD_SIZE`, behind one gate."""

    def __init__(self, ssl_context: ssl.SSLContext, max_connections: int) -> None:
        """Create the pools, sharing one TLS setup, and the gate; none connects yet."""
        limits = shard_limits(max_connections)
        self._shards = [
            timed_async_transport(
                httpx.AsyncHTTPTransport(limits=each, verify=ssl_context)
            )
            for each in limits
        ]
        self._slots = _Slots(limits)
        self._gate = asyncio.Semaphore(max_connections)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Wait for a slot (bounded by the pool timeout), then send on a shard."""
        try:
            async with asyncio.timeout(_pool_timeout(request)):
                await self._gate.acquire()
        except TimeoutError as exc:
            raise _pool_timeout_error(request) from exc
        shard, give_back = self._slots.take()

        def release() -> None:
            give_back()
            self._gate.release()

        try:
            response = await self._shards[shard].handle_async_request(request)
        except BaseException:
            release()
            raise
        response.stream = _Released(response, release)
        return response

    async def aclose(self) -> None:
        """Close every pool."""
        for shard in self._shards:
            await shard.aclose()


class ShardedTransport(httpx.BaseTransport):
    """The sync twin of `ShardedAsyncTransport`, for many threads on one model."""

    def __init__(self, ssl_context: ssl.SSLContext, max_connections: int) -> None:
        """Create the pools, sharing one TLS setup, and the gate; none connects yet."""
        limits = shard_limits(max_connections)
        self._shards = [
            timed_transport(httpx.HTTPTransport(limits=each, verify=ssl_context))
            for each in limits
        ]
        self._slots = _Slots(limits)
        self._lock = threading.Lock()
        self._gate = threading.BoundedSemaphore(max_connections)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Wait for a slot (bounded by the pool timeout), then send on a shard."""
        # None blocks until a slot frees, as the async gate does; -1 would not wait.
        if not self._gate.acquire(timeout=_pool_timeout(request)):
            raise _pool_timeout_error(request)
        with self._lock:
            shard, give_back = self._slots.take()

        def release() -> None:
            with self._lock:
                give_back()
            self._gate.release()

        try:
            response = self._shards[shard].handle_request(request)
        except BaseException:
            release()
            raise
        response.stream = _Released(response, release)
        return response

    def close(self) -> None:
        """Close every pool."""
        for shard in self._shards:
            shard.close()
