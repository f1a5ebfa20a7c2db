"""The only module that does I/O: send a request, read JSON or SSE, retry.

The sync and async halves mirror each other line for line; everything they compute
(SSE decoding in `_sse`, bodies in `_decode`, status -> error in `_status`, retry
delays here) is pure and shared by both.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import ssl
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx

from langchain_gptoss._deadline import arm, disarm
from langchain_gptoss._decode import BodyDecodingError, BodyLimit, Decoder
from langchain_gptoss._redact import NO_SECRET, Redactor
from langchain_gptoss._sse import (
    CONTENT_TYPE,
    DEFAULT_MAX_EVENT_BYTES,
    EventReader,
    deadline_message,
    decode_event,
    idle_message,
)
from langchain_gptoss._status import (
    error_from_response,
    parse_json_body,
    text_of,
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
        Iterable,
        Iterator,
        Mapping,
    )

logger = logging.getLogger("langchain_gptoss")

SSE_CONTENT_TYPE = CONTENT_TYPE
# Reasoning can keep a non-streamed answer silent for minutes; connecting cannot.
DEFAULT_TIMEOUT = httpx.Timeout(600.0, connect=10.0)
MAX_CONNECT_TIMEOUT = 10.0
DEFAULT_MAX_RETRIES = 2
DEFAULT_STREAM_IDLE_TIMEOUT = 120.0
DEFAULT_MAX_ERROR_BODY_BYTES = 65_536
INITIAL_RETRY_DELAY = 0.5
MAX_RETRY_DELAY = 8.0
MAX_RETRY_AFTER = 60.0
# After `data: [DONE]` the body should end at once; what follows is read for this
# long at most (so the connection can be reused), then the connection is dropped.
DRAIN_GRACE = 0.25
DRAIN_LIMIT = 65_536


@dataclass(frozen=True, slots=True)
class Call:
    """One prepared HTTP request; its repr never shows headers or the token."""

    url: httpx.URL | str
    headers: Mapping[str, str] = field(repr=False)
    content: bytes = field(repr=False)
    max_retries: int = DEFAULT_MAX_RETRIES
    redact: Redactor = field(default=NO_SECRET, repr=False)
    idle_timeout: float | None = None
    max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES
    max_response_bytes: int = DEFAULT_MAX_EVENT_BYTES
    max_error_body_bytes: int = DEFAULT_MAX_ERROR_BODY_BYTES
    # (monotonic time by which the call ends, the total_timeout it came from)
    deadline: tuple[float, float] | None = None


# ----------------------------------------------------------------------------- pure


def retry_delay(error: GptOssError, attempt: int, call: Call) -> float | None:
    """Seconds to wait before retry number `attempt + 1`, or None to give up.

    No retry is started that the call's deadline would cut short.
    """
    if attempt >= call.max_retries or not error.is_retryable:
        return None
    if isinstance(error, GptOssAPIError) and error.retry_after is not None:
        delay = min(error.retry_after, MAX_RETRY_AFTER)
    else:
        ceiling = min(INITIAL_RETRY_DELAY * 2.0**attempt, MAX_RETRY_DELAY)
        delay = ceiling * (1.0 - 0.25 * random.random())  # noqa: S311 - jitter
    if call.deadline is not None and time.monotonic() + delay >= call.deadline[0]:
        return None
    return delay


def _log_retry(error: GptOssError, delay: float, attempt: int, call: Call) -> None:
    logger.warning(
        "TIR request failed (%s); retry %d of %d in %.2fs",
        error,
        attempt + 1,
        call.max_retries,
        delay,
    )


def _is_tls_verification(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


@contextmanager
def map_transport_errors(call: Call, *, stream: bool = False) -> Iterator[None]:
    """Turn httpx's transport and decoding failures into this package's errors."""
    try:
        yield
    except httpx.TimeoutException as exc:
        deadline = call.deadline
        if deadline is not None and time.monotonic() >= deadline[0] - 0.001:
            msg = deadline_message(deadline[1])
        elif isinstance(exc, httpx.PoolTimeout):
            msg = (
                "No free connection within the pool timeout: 100 requests of this "
                "model are already in flight. Nothing was sent."
            )
            raise GptOssTimeoutError(msg, retryable=False) from exc
        elif (
            stream
            and call.idle_timeout is not None
            and isinstance(exc, httpx.ReadTimeout)
        ):
            msg = idle_message(call.idle_timeout)
        else:
            msg = f"Timed out talking to TIR ({type(exc).__name__}): {exc}"
        raise GptOssTimeoutError(msg) from exc
    except httpx.TransportError as exc:
        if _is_tls_verification(exc):
            msg = (
                f"TLS certificate verification failed: {exc}. Check base_url's host, "
                "or pass an http_client that trusts your certificate authority."
            )
            raise GptOssConnectionError(msg, retryable=False) from exc
        msg = f"Connection to TIR failed ({type(exc).__name__}): {exc}"
        raise GptOssConnectionError(msg) from exc


def attempt_timeout(base: httpx.Timeout, call: Call, *, stream: bool) -> httpx.Timeout:
    """The timeouts of one attempt, each cut to what the call's deadline leaves.

    A stream's reads are also bounded by the idle timeout.

    Raises:
        GptOssTimeoutError: When the deadline has already passed.
    """
    parts = {
        "connect": base.connect,
        "read": base.read,
        "write": base.write,
        "pool": base.pool,
    }
    if stream and call.idle_timeout is not None:
        parts["read"] = min(parts["read"] or call.idle_timeout, call.idle_timeout)
    if call.deadline is not None:
        remaining = call.deadline[0] - time.monotonic()
        if remaining <= 0:
            raise GptOssTimeoutError(deadline_message(call.deadline[1]))
        parts = {
            k: remaining if v is None else min(v, remaining) for k, v in parts.items()
        }
    elif parts["read"] == base.read:
        return base
    return httpx.Timeout(**parts)


def _check_deadline(call: Call) -> None:
    if call.deadline is not None and time.monotonic() > call.deadline[0]:
        raise GptOssTimeoutError(deadline_message(call.deadline[1]))


def _limit_for(status: int, call: Call, *, expect_sse: bool) -> BodyLimit:
    """How much of a body to read: all of a 200 JSON answer, the start of others."""
    if status < 400 and not expect_sse:  # noqa: PLR2004
        return BodyLimit(call.max_response_bytes, "max_response_bytes")
    return BodyLimit(call.max_error_body_bytes, "max_error_body_bytes", truncate=True)


def _decoding_error(
    exc: BodyDecodingError, status: int, *, stream: bool
) -> GptOssError:
    msg = f"Could not read the response body: {exc}"
    if stream:
        return GptOssStreamError(msg)
    return GptOssAPIError(msg, status_code=status)


def _is_sse(response: httpx.Response) -> bool:
    return response.status_code < 400 and response.headers.get(  # noqa: PLR2004
        "content-type", ""
    ).startswith(SSE_CONTENT_TYPE)


def _not_sse_error(response: httpx.Response, body: bytes, call: Call) -> GptOssError:
    text = text_of(body)
    if response.status_code >= 400:  # noqa: PLR2004
        return error_from_response(
            response.status_code, response.headers, text, call.redact
        )
    msg = (
        f"Expected an SSE stream ({SSE_CONTENT_TYPE}), got "
        f"{response.headers.get('content-type')!r}: {call.redact.excerpt(text, 200)!r}"
    )
    return GptOssStreamError(msg)


def _decoder(response: httpx.Response) -> Decoder:
    """How to undo the body's Content-Encoding.

    A transport that built the response in memory (httpx's MockTransport) has
    read and decoded it already.
    """
    if response.is_stream_consumed:
        return Decoder(None)
    return Decoder(response.headers.get("content-encoding"))


def _raw(response: httpx.Response) -> Iterator[bytes]:
    if response.is_stream_consumed:
        return iter((response.content,))
    return response.iter_raw()


async def _araw(response: httpx.Response) -> AsyncIterator[bytes]:
    if response.is_stream_consumed:
        yield response.content
        return
    async for raw in response.aiter_raw():
        yield raw


def _pieces(decoder: Decoder, raw: bytes) -> Iterable[bytes]:
    """The decoded pieces of one raw chunk (itself, for an unencoded body)."""
    return (raw,) if decoder.identity else decoder.feed(raw)


# ------------------------------------------------------------------------------ sync


def _read(
    response: httpx.Response, decoder: Decoder, limit: BodyLimit, call: Call
) -> bytes:
    """The decoded body, within `limit`; the deadline is checked per piece."""
    for raw in _raw(response):
        for piece in _pieces(decoder, raw):
            _check_deadline(call)
            if not limit.add(piece):
                return limit.content()
    decoder.finish()
    return limit.content()


def _drain(response: httpx.Response, chunks: Iterator[bytes], call: Call) -> None:
    """Read what follows `[DONE]` briefly, so the connection can be reused.

    Through a client this package did not build the wait cannot be bounded, so
    the connection is dropped instead. The answer is complete by now: a failure
    here only costs that connection.
    """
    armed = arm(response, _drain_deadline(call))
    if armed is None:
        return
    size = 0
    with contextlib.suppress(httpx.HTTPError, GptOssError, BodyDecodingError):
        for chunk in chunks:
            size += len(chunk)
            if size > DRAIN_LIMIT:
                break


def _drain_deadline(call: Call) -> float:
    grace = time.monotonic() + DRAIN_GRACE
    return grace if call.deadline is None else min(grace, call.deadline[0])


def post(client: httpx.Client, call: Call) -> dict[str, Any]:
    """Send a non-streaming request, retrying what is worth retrying."""
    attempt = 0
    while True:
        try:
            return _post_once(client, call)
        except GptOssError as error:
            delay = retry_delay(error, attempt, call)
            if delay is None:
                raise
            _log_retry(error, delay, attempt, call)
        attempt += 1
        time.sleep(delay)


def _post_once(client: httpx.Client, call: Call) -> dict[str, Any]:
    with (
        map_transport_errors(call),
        client.stream(
            "POST",
            call.url,
            headers=call.headers,
            content=call.content,
            timeout=attempt_timeout(client.timeout, call, stream=False),
        ) as response,
    ):
        status = response.status_code
        armed = arm(response, call.deadline and call.deadline[0])
        try:
            decoder = _decoder(response)
            body = _read(
                response, decoder, _limit_for(status, call, expect_sse=False), call
            )
        except BodyDecodingError as exc:
            raise _decoding_error(exc, status, stream=False) from None
        finally:
            disarm(armed)
    return parse_json_body(status, response.headers, body, call.redact)


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
            delay = retry_delay(error, attempt, call)
            if delay is None:
                raise
            _log_retry(error, delay, attempt, call)
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
    with (
        map_transport_errors(call, stream=True),
        client.stream(
            "POST",
            call.url,
            headers=call.headers,
            content=call.content,
            timeout=attempt_timeout(client.timeout, call, stream=True),
        ) as response,
    ):
        armed = arm(response, call.deadline and call.deadline[0])
        try:
            decoder = _decoder(response)
            if not _is_sse(response):
                limit = _limit_for(response.status_code, call, expect_sse=True)
                raise _not_sse_error(
                    response, _read(response, decoder, limit, call), call
                )
            reader = EventReader(
                max_event_bytes=call.max_event_bytes,
                idle_timeout=call.idle_timeout,
                deadline=call.deadline,
            )
            chunks = _decoded(decoder, _raw(response))
            for chunk in chunks:
                for data in reader.feed(chunk):
                    yield decode_event(data, call.redact)
                if reader.done:
                    _drain(response, chunks, call)
                    return
            decoder.finish()
            reader.finish()
        except BodyDecodingError as exc:
            raise _decoding_error(exc, response.status_code, stream=True) from None
        finally:
            disarm(armed)


# ----------------------------------------------------------------------------- async


async def _aread(
    response: httpx.Response, decoder: Decoder, limit: BodyLimit, call: Call
) -> bytes:
    """The decoded body, within `limit`; the deadline is checked per piece."""
    async for raw in _araw(response):
        for piece in _pieces(decoder, raw):
            _check_deadline(call)
            if not limit.add(piece):
                return limit.content()
    decoder.finish()
    return limit.content()


async def _adrain(
    response: httpx.Response, chunks: AsyncIterator[bytes], call: Call
) -> None:
    """Read what follows `[DONE]` briefly, so the connection can be reused."""
    armed = arm(response, _drain_deadline(call))
    if armed is None:
        return
    size = 0
    with contextlib.suppress(httpx.HTTPError, GptOssError, BodyDecodingError):
        async for chunk in chunks:
            size += len(chunk)
            if size > DRAIN_LIMIT:
                break


async def apost(client: httpx.AsyncClient, call: Call) -> dict[str, Any]:
    """Send a non-streaming request, retrying what is worth retrying."""
    attempt = 0
    while True:
        try:
            return await _apost_once(client, call)
        except GptOssError as error:
            delay = retry_delay(error, attempt, call)
            if delay is None:
                raise
            _log_retry(error, delay, attempt, call)
        attempt += 1
        await asyncio.sleep(delay)


async def _apost_once(client: httpx.AsyncClient, call: Call) -> dict[str, Any]:
    with map_transport_errors(call):
        async with client.stream(
            "POST",
            call.url,
            headers=call.headers,
            content=call.content,
            timeout=attempt_timeout(client.timeout, call, stream=False),
        ) as response:
            status = response.status_code
            armed = arm(response, call.deadline and call.deadline[0])
            try:
                decoder = _decoder(response)
                limit = _limit_for(status, call, expect_sse=False)
                body = await _aread(response, decoder, limit, call)
            except BodyDecodingError as exc:
                raise _decoding_error(exc, status, stream=False) from None
            finally:
                disarm(armed)
    return parse_json_body(status, response.headers, body, call.redact)


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
            delay = retry_delay(error, attempt, call)
            if delay is None:
                raise
            _log_retry(error, delay, attempt, call)
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
    with map_transport_errors(call, stream=True):
        async with client.stream(
            "POST",
            call.url,
            headers=call.headers,
            content=call.content,
            timeout=attempt_timeout(client.timeout, call, stream=True),
        ) as response:
            armed = arm(response, call.deadline and call.deadline[0])
            try:
                decoder = _decoder(response)
                if not _is_sse(response):
                    limit = _limit_for(response.status_code, call, expect_sse=True)
                    body = await _aread(response, decoder, limit, call)
                    raise _not_sse_error(response, body, call)
                reader = EventReader(
                    max_event_bytes=call.max_event_bytes,
                    idle_timeout=call.idle_timeout,
                    deadline=call.deadline,
                )
                chunks = _adecoded(decoder, _araw(response))
                async for chunk in chunks:
                    for data in reader.feed(chunk):
                        yield decode_event(data, call.redact)
                    if reader.done:
                        await _adrain(response, chunks, call)
                        return
                decoder.finish()
                reader.finish()
            except BodyDecodingError as exc:
                raise _decoding_error(exc, response.status_code, stream=True) from None
            finally:
                disarm(armed)


def _decoded(decoder: Decoder, raw: Iterator[bytes]) -> Iterator[bytes]:
    if decoder.identity:
        return raw
    return (piece for chunk in raw for piece in decoder.feed(chunk))


def _adecoded(decoder: Decoder, raw: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    if decoder.identity:
        return raw
    return _adecode(decoder, raw)


async def _adecode(decoder: Decoder, raw: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    async for piece in raw:
        for out in decoder.feed(piece):
            yield out
