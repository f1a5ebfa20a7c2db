"""The httpx clients a model owns: created lazily, one async client per event loop."""

from __future__ import annotations

import asyncio
import threading
import weakref
from typing import TYPE_CHECKING, Any

import httpx
from langchain_core.rate_limiters import InMemoryRateLimiter

from langchain_gptoss._deadline import timed_async_transport, timed_transport

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Iterator
    from typing import Self

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

    def __init__(self) -> None:
        """Create the pools and the gate; nothing connects yet."""
        self._shards = [
            timed_async_transport(httpx.AsyncHTTPTransport(limits=_SHARD_LIMITS))
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

    def __init__(self) -> None:
        """Create the pools and the gate; nothing connects yet."""
        self._shards = [
            timed_transport(httpx.HTTPTransport(limits=_SHARD_LIMITS))
            for _ in range(SHARDS)
        ]
        self._ledger = _Ledger()
        self._lock = threading.Lock()
        self._gate = threading.BoundedSemaphore(MAX_IN_FLIGHT)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Wait for a slot (bounded by the pool timeout), then send on a shard."""
        timeout = _pool_timeout(request)
        if not self._gate.acquire(timeout=-1 if timeout is None else timeout):
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


class OwnedClients:
    """Clients created for one model, never shared with copies of it.

    An `httpx.AsyncClient` is bound to the event loop it first ran on, so each
    loop gets its own; a loop that is gone takes its client out of the map. A copy,
    deep copy or unpickled model starts with no clients and makes its own.
    """

    def __init__(self, timeout: httpx.Timeout) -> None:
        """Remember how to build clients; build none yet."""
        self._timeout = timeout
        self._lock = threading.Lock()
        self._sync: httpx.Client | None = None
        self._async: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, httpx.AsyncClient
        ] = weakref.WeakKeyDictionary()

    def sync(self) -> httpx.Client:
        """The sync client, created on first use."""
        with self._lock:
            if self._sync is None:
                self._sync = httpx.Client(
                    timeout=self._timeout, transport=ShardedTransport()
                )
            return self._sync

    def for_running_loop(self) -> httpx.AsyncClient:
        """The async client of the running event loop, created on first use."""
        loop = asyncio.get_running_loop()
        client = self._async.get(loop)
        if client is None:
            client = httpx.AsyncClient(
                timeout=self._timeout, transport=ShardedAsyncTransport()
            )
            self._async[loop] = client
        return client

    def close(self) -> None:
        """Close the sync client; forget async clients (they close with aclose)."""
        with self._lock:
            client, self._sync = self._sync, None
        if client is not None:
            client.close()

    async def aclose(self) -> None:
        """Close the running loop's async client and the sync client."""
        client = self._async.pop(asyncio.get_running_loop(), None)
        if client is not None:
            await client.aclose()
        self.close()

    # Copies and pickles get fresh, empty state: clients hold sockets and locks.
    def __copy__(self) -> Self:
        return type(self)(self._timeout)

    def __deepcopy__(self, memo: dict[int, Any]) -> Self:
        return type(self)(self._timeout)

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self._timeout,))


class LimiterRecipe:
    """Pickles an `InMemoryRateLimiter` (which holds a lock) as its settings.

    The unpickled model gets a fresh limiter with the same rate: a worker process
    limits its own requests, as a limiter cannot be shared across processes anyway.
    """

    def __init__(self, limiter: InMemoryRateLimiter) -> None:
        """Remember the limiter's settings."""
        self.settings = {
            "requests_per_second": limiter.requests_per_second,
            "check_every_n_seconds": limiter.check_every_n_seconds,
            "max_bucket_size": limiter.max_bucket_size,
        }

    def __reduce__(self) -> tuple[Any, ...]:
        return (_new_limiter, (self.settings,))


def _new_limiter(settings: dict[str, float]) -> InMemoryRateLimiter:
    return InMemoryRateLimiter(**settings)
