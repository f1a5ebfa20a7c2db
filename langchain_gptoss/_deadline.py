"""Connections whose reads and writes stop at a deadline the current request sets.

httpx fixes a request's read timeout when the request starts and applies it to
every read, so it cannot end a body at a moment chosen later: the end of
`total_timeout`, or a short grace for what follows `data: [DONE]`. The model's own
transports wrap httpcore's network streams in these; `arm` sets the deadline of
the connection a response arrived on, and the transport's response stream
`disarm`s it as the response closes, before the connection goes back to the
pool. Code reading the body never clears it: by the time it would, the
connection may already serve another request. Clients you inject are left as
they are (`arm` returns None for them).
"""

# httpcore's interface fixes the `timeout` parameters of these async methods.
# ruff: noqa: ASYNC109

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import httpcore

if TYPE_CHECKING:
    import ssl
    from collections.abc import Iterable

    import httpx

    SocketOption = Any


def _bounded(
    timeout: float | None, deadline: float | None, idle: float | None = None
) -> float | None:
    if idle is not None:
        timeout = idle if timeout is None else min(timeout, idle)
    if deadline is None:
        return timeout
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        msg = "deadline reached"
        raise httpcore.ReadTimeout(msg)
    return remaining if timeout is None else min(timeout, remaining)


class TimedStream(httpcore.NetworkStream):
    """A sync network stream whose reads and writes end by `deadline`."""

    def __init__(self, inner: httpcore.NetworkStream) -> None:
        """Wrap `inner`; no deadline until one is armed."""
        self._inner = inner
        self.deadline: float | None = None
        self.idle: float | None = None  # a shorter read timeout, once armed

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        """Read, waiting no longer than the idle timeout and deadline allow."""
        return self._inner.read(max_bytes, _bounded(timeout, self.deadline, self.idle))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        """Write, waiting no longer than the deadline allows."""
        self._inner.write(buffer, _bounded(timeout, self.deadline))

    def close(self) -> None:
        """Close the connection."""
        self._inner.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> TimedStream:
        """Upgrade to TLS, keeping the wrapper."""
        return TimedStream(self._inner.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> Any:
        """As the wrapped stream answers."""
        return self._inner.get_extra_info(info)


class AsyncTimedStream(httpcore.AsyncNetworkStream):
    """The async twin of `TimedStream`."""

    def __init__(self, inner: httpcore.AsyncNetworkStream) -> None:
        """Wrap `inner`; no deadline until one is armed."""
        self._inner = inner
        self.deadline: float | None = None
        self.idle: float | None = None  # a shorter read timeout, once armed

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        """Read, waiting no longer than the idle timeout and deadline allow."""
        return await self._inner.read(
            max_bytes, _bounded(timeout, self.deadline, self.idle)
        )

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        """Write, waiting no longer than the deadline allows."""
        await self._inner.write(buffer, _bounded(timeout, self.deadline))

    async def aclose(self) -> None:
        """Close the connection."""
        await self._inner.aclose()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> AsyncTimedStream:
        """Upgrade to TLS, keeping the wrapper."""
        inner = await self._inner.start_tls(ssl_context, server_hostname, timeout)
        return AsyncTimedStream(inner)

    def get_extra_info(self, info: str) -> Any:
        """As the wrapped stream answers."""
        return self._inner.get_extra_info(info)


class TimedBackend(httpcore.NetworkBackend):
    """Opens connections as `TimedStream`s."""

    def __init__(self, inner: httpcore.NetworkBackend) -> None:
        """Wrap the backend httpcore would have used."""
        self._inner = inner

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[SocketOption] | None = None,
    ) -> TimedStream:
        """Connect, as the wrapped backend does."""
        stream = self._inner.connect_tcp(
            host, port, timeout, local_address, socket_options
        )
        return TimedStream(stream)

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[SocketOption] | None = None,
    ) -> TimedStream:
        """Connect, as the wrapped backend does."""
        return TimedStream(
            self._inner.connect_unix_socket(path, timeout, socket_options)
        )

    def sleep(self, seconds: float) -> None:
        """Sleep, as the wrapped backend does."""
        self._inner.sleep(seconds)


class AsyncTimedBackend(httpcore.AsyncNetworkBackend):
    """Opens connections as `AsyncTimedStream`s."""

    def __init__(self, inner: httpcore.AsyncNetworkBackend) -> None:
        """Wrap the backend httpcore would have used."""
        self._inner = inner

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[SocketOption] | None = None,
    ) -> AsyncTimedStream:
        """Connect, as the wrapped backend does."""
        stream = await self._inner.connect_tcp(
            host, port, timeout, local_address, socket_options
        )
        return AsyncTimedStream(stream)

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[SocketOption] | None = None,
    ) -> AsyncTimedStream:
        """Connect, as the wrapped backend does."""
        stream = await self._inner.connect_unix_socket(path, timeout, socket_options)
        return AsyncTimedStream(stream)

    async def sleep(self, seconds: float) -> None:
        """Sleep, as the wrapped backend does."""
        await self._inner.sleep(seconds)


def timed_transport(transport: httpx.HTTPTransport) -> httpx.HTTPTransport:
    """Make `transport`'s connections `TimedStream`s (before it connects)."""
    pool = transport._pool  # noqa: SLF001 - httpx offers no other hook
    pool._network_backend = TimedBackend(pool._network_backend)  # noqa: SLF001
    return transport


def timed_async_transport(
    transport: httpx.AsyncHTTPTransport,
) -> httpx.AsyncHTTPTransport:
    """Make `transport`'s connections `AsyncTimedStream`s (before it connects)."""
    pool = transport._pool  # noqa: SLF001 - httpx offers no other hook
    pool._network_backend = AsyncTimedBackend(pool._network_backend)  # noqa: SLF001
    return transport


def arm(
    response: httpx.Response, deadline: float | None
) -> TimedStream | AsyncTimedStream | None:
    """Bound the rest of `response`'s body by `deadline` (a monotonic time).

    Returns the connection's stream to `disarm` later, or None when the
    response came through a client this package did not build.
    """
    stream = response.extensions.get("network_stream")
    if not isinstance(stream, TimedStream | AsyncTimedStream):
        return None
    stream.deadline = deadline
    return stream


def disarm(stream: object) -> None:
    """Clear the deadline before the connection serves another request.

    Called as the response closes, before its connection goes back to the
    pool (`_transport._Released`); anything but a timed stream is left be.
    """
    if isinstance(stream, TimedStream | AsyncTimedStream):
        stream.deadline = None
        stream.idle = None
