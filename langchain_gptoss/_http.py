"""The only module that does I/O: send a request, read JSON or SSE, retry.

The sync and async halves mirror each other line for line; everything they compute
(SSE decoding, status -> error, retry delays) is a pure function shared by both.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import logging
import random
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx

from langchain_gptoss._status import (
    error_from_response,
    load_json,
    message_from_json,
    parse_json_body,
    redact,
)
from langchain_gptoss.errors import (
    GptOssAPIError,
    GptOssConnectionError,
    GptOssError,
    GptOssStreamError,
    GptOssTimeoutError,
)

if TYPE_CHECKING:
    from collections.abc import (
        AsyncGenerator,
        AsyncIterator,
        Generator,
        Iterator,
        Mapping,
    )

logger = logging.getLogger("langchain_gptoss")

DONE = "[DONE]"
SSE_CONTENT_TYPE = "text/event-stream"
# Reasoning can keep a non-streamed answer silent for minutes; connecting cannot.
DEFAULT_TIMEOUT = httpx.Timeout(600.0, connect=10.0)
MAX_CONNECT_TIMEOUT = 10.0
DEFAULT_MAX_RETRIES = 2
DEFAULT_STREAM_IDLE_TIMEOUT = 120.0
INITIAL_RETRY_DELAY = 0.5
MAX_RETRY_DELAY = 8.0
MAX_RETRY_AFTER = 60.0


@dataclass(frozen=True, slots=True)
class Call:
    """One prepared HTTP request; its repr never shows headers or the token."""

    url: httpx.URL | str
    headers: Mapping[str, str] = field(repr=False)
    content: bytes = field(repr=False)
    max_retries: int = DEFAULT_MAX_RETRIES
    secret: str = field(default="", repr=False)
    idle_timeout: float | None = None


# ----------------------------------------------------------------------------- pure


class LineSplitter:
    """Turns the bytes of a `text/event-stream` body into its lines.

    Only CR LF, LF and CR end a line in SSE. `str.splitlines` (and so httpx's
    `iter_lines`) also splits at U+2028, U+0085 and the like, which JSON carries
    unescaped inside strings: an answer containing one would break its event.
    """

    __slots__ = ("_after_cr", "_decoder", "_pending")

    def __init__(self) -> None:
        """Start at the beginning of a body."""
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._pending = ""
        self._after_cr = False

    def feed(self, chunk: bytes) -> list[str]:
        """Take the next bytes; return the lines they complete, without endings."""
        text = self._decoder.decode(chunk)
        if not text:
            return []
        if self._after_cr and text[0] == "\n":
            text = text[1:]  # the LF of a CR LF split across two chunks
        self._after_cr = text.endswith("\r")
        if "\r" in text:
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        lines = (self._pending + text).split("\n")
        self._pending = lines.pop()
        return lines

    def finish(self) -> list[str]:
        """At the end of the body: the last line, if it had no ending."""
        last = self._pending + self._decoder.decode(b"", final=True)
        self._pending = ""
        return [last] if last else []


def decode_event(data: str, secret: str = "") -> dict[str, Any]:
    """Parse one event's data; raise on malformed JSON or an error event."""
    try:
        event = load_json(data)
    except ValueError:
        event = None
    if not isinstance(event, dict):
        shown = redact(data[:200], secret)
        msg = f"Malformed event in the SSE stream (not a JSON object): {shown!r}"
        raise GptOssStreamError(msg)
    error = event.get("error")
    if error:
        text = redact(message_from_json(event) or str(error), secret)
        msg = f"The server failed mid-stream: {text}"
        raise GptOssStreamError(msg, retryable=True)
    return event


def retry_delay(error: GptOssError, attempt: int, max_retries: int) -> float | None:
    """Seconds to wait before retry number `attempt + 1`, or None to give up."""
    if attempt >= max_retries or not error.is_retryable:
        return None
    if isinstance(error, GptOssAPIError) and error.retry_after is not None:
        return min(error.retry_after, MAX_RETRY_AFTER)
    ceiling = min(INITIAL_RETRY_DELAY * 2.0**attempt, MAX_RETRY_DELAY)
    return ceiling * (1.0 - 0.25 * random.random())  # noqa: S311 - jitter, not crypto


def _log_retry(
    error: GptOssError, delay: float, attempt: int, max_retries: int
) -> None:
    logger.warning(
        "TIR request failed (%s); retry %d of %d in %.2fs",
        error,
        attempt + 1,
        max_retries,
        delay,
    )


@contextmanager
def map_transport_errors(idle_timeout: float | None = None) -> Iterator[None]:
    """Turn httpx's transport failures into this package's errors."""
    try:
        yield
    except httpx.TimeoutException as exc:
        if idle_timeout is not None and isinstance(exc, httpx.ReadTimeout):
            msg = _idle_message(idle_timeout)
        else:
            msg = f"Timed out talking to TIR ({type(exc).__name__}): {exc}"
        raise GptOssTimeoutError(msg) from exc
    except httpx.TransportError as exc:
        msg = f"Connection to TIR failed ({type(exc).__name__}): {exc}"
        raise GptOssConnectionError(msg) from exc


def _stream_error_for(
    response: httpx.Response, body: bytes, secret: str
) -> GptOssError:
    text = body.decode("utf-8", errors="replace")
    if response.status_code >= 400:  # noqa: PLR2004
        return error_from_response(response.status_code, response.headers, text, secret)
    msg = (
        f"Expected an SSE stream ({SSE_CONTENT_TYPE}), got "
        f"{response.headers.get('content-type')!r}: {redact(text[:200], secret)!r}"
    )
    return GptOssStreamError(msg)


def _is_sse(response: httpx.Response) -> bool:
    return response.status_code < 400 and response.headers.get(  # noqa: PLR2004
        "content-type", ""
    ).startswith(SSE_CONTENT_TYPE)


_NO_DONE = "The stream ended before data: [DONE]; the answer is incomplete."


def _idle_message(idle_timeout: float) -> str:
    return (
        f"No event from TIR for {idle_timeout:g}s (stream_idle_timeout); the stream "
        "was closed and the answer is incomplete."
    )


def stream_timeout(base: httpx.Timeout, idle_timeout: float | None) -> httpx.Timeout:
    """Bound every read of a stream by the idle timeout, too."""
    if idle_timeout is None or (base.read is not None and base.read <= idle_timeout):
        return base
    return httpx.Timeout(
        connect=base.connect, read=idle_timeout, write=base.write, pool=base.pool
    )


class EventReader:
    """Turns body bytes into the data of each event; watches the gap between events.

    The data is decoded by `decode_event` one event at a time, so that a bad event
    never hides the good ones before it. A silent connection is caught by the read
    timeout (`stream_timeout`); this catches a server that keeps the connection
    busy with comments only.
    """

    __slots__ = ("_data", "_idle", "_last", "_lines", "done")

    def __init__(self, call: Call) -> None:
        """Start reading the body of `call`'s response."""
        self._lines = LineSplitter()
        self._data: list[str] = []  # the data lines of the event being read
        self._idle = call.idle_timeout
        self._last = time.monotonic()
        self.done = False

    def feed(self, chunk: bytes) -> list[str]:
        """Take the next bytes of the body; return the data of events they complete.

        Nothing after `data: [DONE]` is read; `done` tells that it came.
        """
        return self._read(self._lines.feed(chunk))

    def finish(self) -> None:
        """At the end of the body: raise unless the stream was complete.

        Only a blank line ends an event, so none is left to hand out here; but a
        last `data: [DONE]` without the blank line after it still counts.
        """
        self._read(self._lines.finish())
        if not self.done and "\n".join(self._data) != DONE:
            raise GptOssStreamError(_NO_DONE, retryable=True)

    def _read(self, lines: list[str]) -> list[str]:
        events = []
        for line in lines:
            if line.startswith("data:"):
                self._data.append(line[5:].removeprefix(" "))
            elif not line and self._data:  # a blank line ends an event
                data = "\n".join(self._data)
                self._data = []
                if self._idle is not None:
                    self._last = time.monotonic()
                if data == DONE:
                    self.done = True
                    break
                events.append(data)
            elif self._idle is not None and time.monotonic() - self._last > self._idle:
                # Comments, other fields and stray blank lines carry nothing for
                # us and must not keep a stalled answer alive.
                raise GptOssTimeoutError(_idle_message(self._idle))
        return events


# ------------------------------------------------------------------------------ sync


def _drain(chunks: Iterator[bytes]) -> None:
    """Read what follows `[DONE]`, so the connection can be reused.

    httpx closes a connection whose body was not read to the end. The answer is
    complete by now, so a failure here only costs that connection.
    """
    with contextlib.suppress(httpx.HTTPError):
        for _ in chunks:
            pass


def post(client: httpx.Client, call: Call) -> dict[str, Any]:
    """Send a non-streaming request, retrying what is worth retrying."""
    attempt = 0
    while True:
        try:
            with map_transport_errors():
                response = client.post(
                    call.url,
                    headers=call.headers,
                    content=call.content,
                )
            return parse_json_body(
                response.status_code, response.headers, response.content, call.secret
            )
        except GptOssError as error:
            delay = retry_delay(error, attempt, call.max_retries)
            if delay is None:
                raise
            _log_retry(error, delay, attempt, call.max_retries)
        attempt += 1
        time.sleep(delay)


def stream_events(
    client: httpx.Client, call: Call
) -> Generator[dict[str, Any], None, None]:
    """Yield the decoded events of a streaming request.

    Retries cover everything up to and including the first event, never later.
    """
    attempt = 0
    while True:
        events = _open_events(client, call)
        try:
            first = next(events)
        except StopIteration:
            return
        except GptOssError as error:
            delay = retry_delay(error, attempt, call.max_retries)
            if delay is None:
                raise
            _log_retry(error, delay, attempt, call.max_retries)
            attempt += 1
            time.sleep(delay)
            continue
        break
    try:
        yield first
        yield from events
    finally:
        events.close()


def _open_events(
    client: httpx.Client, call: Call
) -> Generator[dict[str, Any], None, None]:
    with map_transport_errors(call.idle_timeout):  # noqa: SIM117 - mirrors the async twin
        with client.stream(
            "POST",
            call.url,
            headers=call.headers,
            content=call.content,
            timeout=stream_timeout(client.timeout, call.idle_timeout),
        ) as response:
            if not _is_sse(response):
                raise _stream_error_for(response, response.read(), call.secret)
            reader = EventReader(call)
            chunks = response.iter_bytes()
            for chunk in chunks:
                for data in reader.feed(chunk):
                    yield decode_event(data, call.secret)
                if reader.done:
                    _drain(chunks)
                    return
            reader.finish()


# ----------------------------------------------------------------------------- async


async def _adrain(chunks: AsyncIterator[bytes]) -> None:
    """Read what follows `[DONE]`, so the connection can be reused."""
    with contextlib.suppress(httpx.HTTPError):
        async for _ in chunks:
            pass


async def apost(client: httpx.AsyncClient, call: Call) -> dict[str, Any]:
    """Send a non-streaming request, retrying what is worth retrying."""
    attempt = 0
    while True:
        try:
            with map_transport_errors():
                response = await client.post(
                    call.url,
                    headers=call.headers,
                    content=call.content,
                )
            return parse_json_body(
                response.status_code, response.headers, response.content, call.secret
            )
        except GptOssError as error:
            delay = retry_delay(error, attempt, call.max_retries)
            if delay is None:
                raise
            _log_retry(error, delay, attempt, call.max_retries)
        attempt += 1
        await asyncio.sleep(delay)


async def astream_events(
    client: httpx.AsyncClient, call: Call
) -> AsyncGenerator[dict[str, Any], None]:
    """Yield the decoded events of a streaming request.

    Retries cover everything up to and including the first event, never later.
    """
    attempt = 0
    while True:
        events = _aopen_events(client, call)
        try:
            first = await anext(events)
        except StopAsyncIteration:
            return
        except GptOssError as error:
            delay = retry_delay(error, attempt, call.max_retries)
            if delay is None:
                raise
            _log_retry(error, delay, attempt, call.max_retries)
            attempt += 1
            await asyncio.sleep(delay)
            continue
        break
    try:
        yield first
        async for event in events:
            yield event
    finally:
        await events.aclose()


async def _aopen_events(
    client: httpx.AsyncClient, call: Call
) -> AsyncGenerator[dict[str, Any], None]:
    with map_transport_errors(call.idle_timeout):
        async with client.stream(
            "POST",
            call.url,
            headers=call.headers,
            content=call.content,
            timeout=stream_timeout(client.timeout, call.idle_timeout),
        ) as response:
            if not _is_sse(response):
                raise _stream_error_for(response, await response.aread(), call.secret)
            reader = EventReader(call)
            chunks = response.aiter_bytes()
            async for chunk in chunks:
                for data in reader.feed(chunk):
                    yield decode_event(data, call.secret)
                if reader.done:
                    await _adrain(chunks)
                    return
            reader.finish()
