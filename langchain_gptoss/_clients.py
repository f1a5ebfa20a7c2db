"""The httpx clients of the models: one pool per transport configuration, shared.

The clients bake in only the timeouts and `max_connections`: the TLS set-up is
the same for every model, and the token, URL and body go with each request. So
every model with the same timeouts and limit shares one pool (a sync client, and
one async client per event loop), and a fresh model per call,
`configurable_fields` or a copy reuses the connections already open instead of
opening its own.

A model joins its pool on its first call and leaves it on `close()` or when it
is collected. The last model to `close()` closes the pool. A pool whose models
were all collected unclosed stays open `LINGER` seconds for the next model, and
is then closed by a short-lived reaper thread. A forked child forgets every
pool and opens its own.
"""

from __future__ import annotations

import _thread
import asyncio
import gc
import itertools
import os
import threading
import time
import weakref
from contextlib import suppress
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import TYPE_CHECKING, Any

import httpx

from langchain_gptoss._transport import ShardedAsyncTransport, ShardedTransport

if TYPE_CHECKING:
    import ssl
    from collections.abc import AsyncGenerator
    from typing import Self

# How long a pool all of whose models were collected stays open for the next
# one: httpx's keep-alive expiry, past which its idle connections would be
# dropped on their next use anyway.
LINGER = 5.0

# connect, read, write and pool timeouts, and max_connections: all that a pool's
# clients bake in.
PoolKey = tuple[float | None, float | None, float | None, float | None, int]


def pool_key(timeout: httpx.Timeout, max_connections: int) -> PoolKey:
    """The pool a model with these settings uses (no token, no URL)."""
    return (timeout.connect, timeout.read, timeout.write, timeout.pool, max_connections)


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
    Dropped while its loop still runs, the sentinel is finalized by that loop's
    hook, which closes the client there too.
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


def _no_cookies() -> CookieJar:
    """A cookie jar that keeps nothing.

    A pool serves models with different tokens: one tenant's cookies must never
    ride on another's requests.
    """
    return CookieJar(DefaultCookiePolicy(allowed_domains=[]))


class _Pool:
    """The clients of one transport configuration, for every model using it.

    An `httpx.AsyncClient` is bound to the event loop it first ran on, so each
    loop gets its own, closed as the loop shuts down (see `_LoopClient`). A loop
    closed without `shutdown_asyncgens()` (by hand, after `run_until_complete`)
    can no longer close anything: its client is dropped and the garbage
    collector closes its sockets, with the `ResourceWarning` of an unclosed
    client; `await model.aclose()` before `loop.close()` avoids that when no
    other model uses the pool. Every field is guarded by `_STATE.lock`, except
    that `users` may lose a member at any time (`_dropped`).
    """

    __slots__ = (
        "__weakref__",
        "idle_since",
        "key",
        "loops",
        "sync",
        "timeout",
        "users",
    )

    def __init__(self, key: PoolKey, timeout: httpx.Timeout) -> None:
        self.key = key
        self.timeout = timeout
        self.sync: httpx.Client | None = None
        # A plain dict: the entries of closed loops are pruned when one is added.
        self.loops: dict[asyncio.AbstractEventLoop, _LoopClient] = {}
        self.users: set[int] = set()  # one number per model that joined
        self.idle_since: float | None = None  # when the reaper found it unused

    def __repr__(self) -> str:
        return f"<pool key={self.key} models={len(self.users)}>"

    def new_sync(self) -> httpx.Client:
        self.sync = httpx.Client(
            timeout=self.timeout,
            transport=ShardedTransport(_ssl(), self.key[4]),
            cookies=_no_cookies(),
        )
        return self.sync

    def new_loop_client(self, loop: asyncio.AbstractEventLoop) -> httpx.AsyncClient:
        for closed in [each for each in self.loops if each.is_closed()]:
            self.loops.pop(closed).disarm()
        client = httpx.AsyncClient(
            timeout=self.timeout,
            transport=ShardedAsyncTransport(_ssl(), self.key[4]),
            cookies=_no_cookies(),
        )
        self.loops[loop] = _LoopClient(client)
        return client

    def retire(self) -> _Closing:
        """Leave the registry and hand over the clients to close (lock held)."""
        if _POOLS.get(self.key) is self:
            del _POOLS[self.key]
        closing = _Closing(self.sync, dict(self.loops))
        self.sync = None
        self.loops.clear()
        return closing

    def forget_in_child(self) -> None:
        """After `os.fork()`, in the child: start afresh, leave the parent's be."""
        for entry in self.loops.values():
            entry.disarm()  # so the inherited loop, if run and shut down, closes none
        _INHERITED.append((self.sync, dict(self.loops)))
        self.sync = None
        self.loops.clear()


class _Closing:
    """What a retired pool leaves to close, closed outside the lock."""

    __slots__ = ("loops", "sync")

    def __init__(
        self,
        sync: httpx.Client | None,
        loops: dict[asyncio.AbstractEventLoop, _LoopClient],
    ) -> None:
        self.sync = sync
        self.loops = loops

    def close(self) -> bool:
        """Close the sync client; each loop's client closes on its own loop.

        Dropping a running loop's sentinel has that loop's finalizer hook close it
        (thread-safely, via `call_soon_threadsafe`). A closed loop can close
        nothing, so its client is left to the garbage collector: returns whether
        there was one.
        """
        stranded = False
        for loop, entry in self.loops.items():
            if loop.is_closed():
                entry.disarm()
                stranded = True
        self.loops.clear()
        if self.sync is not None:
            self.sync.close()
        return stranded

    async def aclose(self) -> None:
        """Close the running loop's client now, then the rest as `close()` does."""
        entry = self.loops.pop(asyncio.get_running_loop(), None)
        if entry is not None:
            entry.disarm()
            await entry.client.aclose()
        self.close()


class _State:
    """What a forked child replaces: the lock, and whether a reaper runs."""

    def __init__(self) -> None:
        # Guards `_POOLS`, every pool and every `OwnedClients`' membership. Never
        # taken by `_dropped`, which may run inside the garbage collector.
        self.lock = threading.Lock()
        self.reaping = False
        self.ssl_context: ssl.SSLContext | None = None


_STATE = _State()
_POOLS: dict[PoolKey, _Pool] = {}
_MEMBERS = itertools.count()
# The clients a forked child inherited, kept until it exits. Their sockets are the
# parent's connections: closing one through httpx (a TLS close_notify, a
# shutdown(), httpcore's close) would cut or garble the parent's traffic, and
# letting the garbage collector have them would warn of unclosed sockets.
_INHERITED: list[object] = []


def _ssl() -> ssl.SSLContext:
    """The TLS settings httpx would make by default, made once (lock held).

    Each httpx transport would otherwise load the CA bundle itself, some 30-70 ms
    and 0.7 MB a time, for every shard (40 by default) of every pool and loop.
    """
    if _STATE.ssl_context is None:
        _STATE.ssl_context = httpx.create_ssl_context()
    return _STATE.ssl_context


class OwnedClients:
    """One model's membership of the shared pool for its timeouts and limit.

    Copies, deep copies and unpickled models get a membership of their own (of
    the same pool): closing one never closes a pool another model still uses.
    Clients passed in by the user (`http_client=`, `http_async_client=`) never
    come here.
    """

    __slots__ = (
        "__weakref__",
        "_finalizer",
        "_key",
        "_max_connections",
        "_member",
        "_pool",
        "_timeout",
    )

    def __init__(self, timeout: httpx.Timeout, max_connections: int) -> None:
        """Remember which pool to join; join it on first use."""
        self._timeout = timeout
        self._max_connections = max_connections
        self._key = pool_key(timeout, max_connections)
        self._pool: _Pool | None = None
        self._member = -1
        self._finalizer: weakref.finalize[Any, Any] | None = None

    def __repr__(self) -> str:
        return f"<OwnedClients key={self._key} joined={self._pool is not None}>"

    def sync(self) -> httpx.Client:
        """The pool's sync client, created on first use."""
        pool = self._pool
        client = None if pool is None else pool.sync
        if client is not None:
            return client
        with _STATE.lock:
            pool = self._join()
            return pool.sync or pool.new_sync()

    def for_running_loop(self) -> httpx.AsyncClient:
        """The pool's client for the running event loop, created on first use."""
        loop = asyncio.get_running_loop()
        pool = self._pool
        entry = None if pool is None else pool.loops.get(loop)
        # Closed: by the loop's shutdown, which may still run code (another async
        # generator's finally) that calls the model, or by a retired pool.
        if entry is not None and not entry.client.is_closed:
            return entry.client
        with _STATE.lock:
            pool = self._join()
            entry = pool.loops.get(loop)
            if entry is not None and not entry.client.is_closed:
                return entry.client
            return pool.new_loop_client(loop)

    def _join(self) -> _Pool:
        """This model's pool, joined if need be (lock held)."""
        pool = self._pool
        if pool is not None and _POOLS.get(self._key) is pool:
            return pool
        self._leave()
        pool = _POOLS.get(self._key)
        if pool is None:
            pool = _POOLS[self._key] = _Pool(self._key, self._timeout)
        member = next(_MEMBERS)
        pool.users.add(member)
        pool.idle_since = None
        self._pool, self._member = pool, member
        # Held by the finalizer, the pool lives at least as long as this model.
        self._finalizer = weakref.finalize(self, _dropped, pool, member)
        self._finalizer.atexit = False  # the process's exit closes everything
        return pool

    def _leave(self) -> _Closing | None:
        """Leave the pool; retire it if this was its last model (lock held)."""
        pool, self._pool = self._pool, None
        if self._finalizer is not None:
            self._finalizer.detach()
            self._finalizer = None
        if pool is None:
            return None
        pool.users.discard(self._member)
        if pool.users or _POOLS.get(pool.key) is not pool:
            return None
        return pool.retire()

    def close(self) -> None:
        """Leave the pool, closing it if no other model uses it.

        The next call joins a pool again (opening a new one if need be).
        """
        with _STATE.lock:
            closing = self._leave()
        if closing is not None:
            closing.close()

    async def aclose(self) -> None:
        """As `close()`, closing this loop's client before returning."""
        with _STATE.lock:
            closing = self._leave()
        if closing is not None:
            await closing.aclose()

    # Copies and pickles get a fresh membership: joined, if ever, on first use.
    def __copy__(self) -> Self:
        return type(self)(self._timeout, self._max_connections)

    def __deepcopy__(self, memo: dict[int, Any]) -> Self:
        return type(self)(self._timeout, self._max_connections)

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self._timeout, self._max_connections))


def _dropped(pool: _Pool, member: int) -> None:
    """Forget a model collected unclosed; wake the reaper if it was the last.

    This may run inside the garbage collector, in whatever thread and whatever
    code triggered it, so it takes no lock: a set's `discard` is atomic. Nor does
    it start a `threading.Thread`, which waits on the `threading` module's locks;
    `_thread.start_new_thread` waits on none.
    """
    pool.users.discard(member)
    if pool.users or _STATE.reaping or _POOLS.get(pool.key) is not pool:
        return
    _STATE.reaping = True
    try:
        _thread.start_new_thread(_reap, ())
    except RuntimeError:  # the interpreter is shutting down: it closes all
        _STATE.reaping = False


def _retire_idle(now: float, linger: float) -> tuple[list[_Closing], float | None]:
    """Retire the pools unused for `linger` seconds (lock held).

    Returns what to close, and how long until the next one is due (None: no
    pool is unused).
    """
    closing: list[_Closing] = []
    wait: float | None = None
    for pool in list(_POOLS.values()):
        if pool.users:
            continue
        if pool.idle_since is None:
            pool.idle_since = now
        left = pool.idle_since + linger - now
        if left <= 0:
            closing.append(pool.retire())
        else:
            wait = left if wait is None else min(wait, left)
    return closing, wait


def _close_all(closing: list[_Closing]) -> None:
    stranded = False
    while closing:  # popped, so that nothing here keeps a client alive
        with suppress(Exception):  # a reaper that died would reap no more
            stranded |= closing.pop().close()
    if stranded:  # clients of closed loops: only a collection frees them
        gc.collect()


def _reap() -> None:
    """Close the pools left unused, each `LINGER` seconds after its last model.

    The thread lives only while a pool lingers, so a process usually forks with
    none (Python 3.12+ warns of a fork in a process with several threads).
    """
    while True:
        with _STATE.lock:
            closing, wait = _retire_idle(time.monotonic(), LINGER)
        _close_all(closing)
        if wait is not None:
            time.sleep(wait)
            continue
        # A pool may have lost its last model since the sweep; that model's
        # `_dropped` saw a reaper still running, so this one must see the pool.
        _STATE.reaping = False
        if _STATE.reaping or all(pool.users for pool in list(_POOLS.values())):
            return
        _STATE.reaping = True


def close_idle_pools() -> None:
    """Close now, without waiting for `LINGER`, every pool no live model uses.

    For tests that count connections or file descriptors: the pools of models
    dropped by earlier tests would otherwise close during theirs.
    """
    with _STATE.lock:
        closing, _ = _retire_idle(time.monotonic(), 0.0)
    _close_all(closing)


def _forget_clients_in_child() -> None:
    _STATE.lock = threading.Lock()  # another thread may have held it at the fork
    _STATE.reaping = False  # the reaper, if any, did not come along
    for key, pool in list(_POOLS.items()):
        pool.forget_in_child()
        if not pool.users:
            del _POOLS[key]


if hasattr(os, "register_at_fork"):  # not on Windows, which cannot fork
    os.register_at_fork(after_in_child=_forget_clients_in_child)
