"""The httpx clients a model owns: created lazily, one async client per event loop."""

from __future__ import annotations

import asyncio
import os
import threading
import weakref
from contextlib import suppress
from typing import TYPE_CHECKING, Any

import httpx
from langchain_core.rate_limiters import InMemoryRateLimiter

from langchain_gptoss._transport import ShardedAsyncTransport, ShardedTransport

if TYPE_CHECKING:
    import ssl
    from collections.abc import AsyncGenerator
    from typing import Self


async def _close_with_loop(left: list[httpx.AsyncClient]) -> AsyncGenerator[None]:
    """Stays suspended while its loop lives; its `finally` closes what is `left`."""
    try:
        yield
    finally:
        for client in left:
            await client.aclose()


class _LoopClient:
    """One event loop's client, closed by that loop's own shutdown.

    `asyncio.run` and `asyncio.Runner` call `loop.shutdown_asyncgens()` before they
    close a loop: it closes, while the loop still runs, every async generator first
    iterated there and still suspended. A sentinel generator, started here and kept
    suspended, so closes the client in time. Nothing else would: the client's
    transports keep the loop alive, so no weak map keyed by the loop ever lets go.
    """

    __slots__ = ("_left", "_sentinel", "client")

    def __init__(self, client: httpx.AsyncClient) -> None:
        """Run the sentinel to its first yield: the running loop's hook adopts it."""
        self.client = client
        self._left = [client]
        self._sentinel = _close_with_loop(self._left)
        with suppress(StopIteration):
            self._sentinel.asend(None).send(None)

    def disarm(self) -> None:
        """Finish the sentinel now, without closing the client: it awaits nothing."""
        self._left.clear()
        # RuntimeError: the loop's shutdown is closing it at this very moment.
        with suppress(StopIteration, RuntimeError):
            self._sentinel.aclose().send(None)


class OwnedClients:
    """Clients created for one model, never shared with copies of it.

    An `httpx.AsyncClient` is bound to the event loop it first ran on, so each
    loop gets its own, closed as the loop shuts down (see `_LoopClient`) or by
    `aclose()` on it. A loop closed without `shutdown_asyncgens()` (by hand, after
    `run_until_complete`) can no longer close anything: its client is dropped and
    the garbage collector closes its sockets, with the `ResourceWarning` of any
    unclosed client; `await model.aclose()` before `loop.close()` avoids that. A
    copy, deep copy or unpickled model starts with no clients and makes its own.

    So does a process made by `os.fork()` (a `multiprocessing` "fork" worker):
    it must not share the parent's pooled connections, nor close them. Clients
    passed in by the user (`http_client=`, `http_async_client=`) are theirs to
    replace in the child.
    """

    def __init__(self, timeout: httpx.Timeout) -> None:
        """Remember how to build clients; build none yet."""
        self._timeout = timeout
        self._lock = threading.Lock()
        # One for all the model's clients: each httpx transport would otherwise load
        # the CA bundle itself, some 30-70 ms and 0.7 MB a time, eight times over
        # (four shards) for the first call on every event loop.
        self._ssl_context: ssl.SSLContext | None = None
        self._sync: httpx.Client | None = None
        # A plain dict: the entries of closed loops are pruned on every access.
        self._loops: dict[asyncio.AbstractEventLoop, _LoopClient] = {}
        _LIVE.add(self)

    def _ssl(self) -> ssl.SSLContext:
        """The TLS settings httpx would make by default, made once (lock held)."""
        if self._ssl_context is None:
            self._ssl_context = httpx.create_ssl_context()
        return self._ssl_context

    def _prune(self) -> None:
        """Forget the clients of closed loops (lock held)."""
        for loop in [loop for loop in self._loops if loop.is_closed()]:
            self._loops.pop(loop).disarm()

    def sync(self) -> httpx.Client:
        """The sync client, created on first use."""
        with self._lock:
            if self._sync is None:
                self._sync = httpx.Client(
                    timeout=self._timeout, transport=ShardedTransport(self._ssl())
                )
            return self._sync

    def for_running_loop(self) -> httpx.AsyncClient:
        """The async client of the running event loop, created on first use."""
        loop = asyncio.get_running_loop()
        with self._lock:
            self._prune()
            entry = self._loops.get(loop)
            # Closed: by aclose(), or by the loop's shutdown, which may still run
            # code (another async generator's finally) that calls the model.
            if entry is None or entry.client.is_closed:
                client = httpx.AsyncClient(
                    timeout=self._timeout,
                    transport=ShardedAsyncTransport(self._ssl()),
                )
                entry = self._loops[loop] = _LoopClient(client)
            return entry.client

    def close(self) -> None:
        """Close the sync client; async ones close with `aclose()` or their loop."""
        with self._lock:
            client, self._sync = self._sync, None
            self._prune()
        if client is not None:
            client.close()

    async def aclose(self) -> None:
        """Close the running loop's async client and the sync client."""
        with self._lock:
            entry = self._loops.pop(asyncio.get_running_loop(), None)
        if entry is not None:
            entry.disarm()
            await entry.client.aclose()
        self.close()

    def _forget_in_child(self) -> None:
        """After `os.fork()`, in the child: start afresh, leave the parent's be."""
        self._lock = threading.Lock()  # another thread may have held it at the fork
        for entry in self._loops.values():
            entry.disarm()  # so the inherited loop, if run and shut down, closes none
        _INHERITED.append((self._sync, dict(self._loops)))
        self._sync = None
        self._loops.clear()

    # Copies and pickles get fresh, empty state: clients hold sockets and locks.
    def __copy__(self) -> Self:
        return type(self)(self._timeout)

    def __deepcopy__(self, memo: dict[int, Any]) -> Self:
        return type(self)(self._timeout)

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self._timeout,))


_LIVE: weakref.WeakSet[OwnedClients] = weakref.WeakSet()
# The clients a forked child inherited, kept until it exits. Their sockets are the
# parent's connections: closing one through httpx (a TLS close_notify, a
# shutdown(), httpcore's close) would cut or garble the parent's traffic, and
# letting the garbage collector have them would warn of unclosed sockets.
_INHERITED: list[object] = []


def _forget_clients_in_child() -> None:
    for owned in list(_LIVE):
        owned._forget_in_child()  # noqa: SLF001 - this module's own class


if hasattr(os, "register_at_fork"):  # not on Windows, which cannot fork
    os.register_at_fork(after_in_child=_forget_clients_in_child)


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
