"""The only module that does I/O: send a request, read JSON or SSE, retry.

The sync and async halves mirror each other line for line; everything they compute
is pure and shared by both: one try's timeouts, limits and error mapping in
`_attempt`, SSE in `_sse`, bodies in `_decode`, status -> error in `_status`.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from contextlib import AbstractAsyncContextManager, AbstractContextManager
from typing import TYPE_CHECKING, Any

import httpx

from langchain_gptoss._attempt import (
    DRAIN_LIMIT,
    Call,
    Progress,
    attempt_timeout,
    check_deadline,
    decoding_error,
    drain_deadline,
    is_sse,
    limit_for,
    log_retry,
    map_transport_errors,
    not_sse_error,
    refuse_unasked_stream,
    retry_delay,
)
from langchain_gptoss._deadline import AsyncTimedStream, TimedStream, arm
from langchain_gptoss._decode import BodyDecodingError, BodyLimit, Decoder
from langchain_gptoss._sse import EventReader, decode_event
from langchain_gptoss._status import parse_json_body
from langchain_gptoss.errors import GptOssError

if TYPE_CHECKING:
    from collections.abc import (
        AsyncGenerator,
        AsyncIterator,
        Generator,
        Iterable,
        Iterator,
    )


def _send(client: httpx.Client, call: Call) -> AbstractContextManager[httpx.Response]:
    return client.stream(
        "POST",
        call.url,
        headers=call.headers,
        content=call.content,
        timeout=attempt_timeout(client.timeout, call),
    )


def _asend(
    client: httpx.AsyncClient, call: Call
) -> AbstractAsyncContextManager[httpx.Response]:
    return client.stream(
        "POST",
        call.url,
        headers=call.headers,
        content=call.content,
        timeout=attempt_timeout(client.timeout, call),
    )


def _arm(response: httpx.Response, call: Call) -> TimedStream | AsyncTimedStream | None:
    """Bound the rest of the body by the call's deadline, if it has one."""
    return arm(response, call.deadline and call.deadline[0])


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


def _reader(call: Call, timeout: httpx.Timeout) -> EventReader:
    return EventReader(
        max_event_bytes=call.max_event_bytes,
        idle_timeout=call.idle_timeout,
        first_event_timeout=timeout.read,
        resend_first_event_timeout=call.retry_first_event_timeout,
        deadline=call.deadline,
    )


def _started(
    progress: Progress, armed: TimedStream | AsyncTimedStream | None, call: Call
) -> None:
    """The first event came: from now on the idle timeout bounds each read."""
    progress.started = True
    if armed is not None:
        armed.idle = call.idle_timeout


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
            check_deadline(call)
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
    armed = arm(response, drain_deadline(call))
    if armed is None:
        return
    size = 0
    with contextlib.suppress(httpx.HTTPError, GptOssError, BodyDecodingError):
        for chunk in chunks:
            size += len(chunk)
            if size > DRAIN_LIMIT:
                break


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
            log_retry(error, delay, attempt, call)
        attempt += 1
        time.sleep(delay)


def _post_once(client: httpx.Client, call: Call) -> dict[str, Any]:
    with (
        map_transport_errors(call),
        _send(client, call) as response,
    ):
        status = response.status_code
        refuse_unasked_stream(response)
        _arm(response, call)
        try:
            decoder = _decoder(response)
            body = _read(
                response, decoder, limit_for(status, call, expect_sse=False), call
            )
        except BodyDecodingError as exc:
            raise decoding_error(exc, status, stream=False) from None
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
            log_retry(error, delay, attempt, call)
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
    progress = Progress()
    with (
        map_transport_errors(call, stream=progress, read_timeout=client.timeout.read),
        _send(client, call) as response,
    ):
        armed = _arm(response, call)
        try:
            decoder = _decoder(response)
            if not is_sse(response):
                limit = limit_for(response.status_code, call, expect_sse=True)
                raise not_sse_error(
                    response, _read(response, decoder, limit, call), call
                )
            reader = _reader(call, client.timeout)
            chunks = _decoded(decoder, _raw(response))
            for chunk in chunks:
                for data in reader.feed(chunk):
                    yield decode_event(data, call.redact)
                if reader.started and not progress.started:
                    _started(progress, armed, call)
                if reader.done:
                    _drain(response, chunks, call)
                    return
            decoder.finish()
            reader.finish()
        except BodyDecodingError as exc:
            raise decoding_error(exc, response.status_code, stream=True) from None


# ----------------------------------------------------------------------------- async


async def _aread(
    response: httpx.Response, decoder: Decoder, limit: BodyLimit, call: Call
) -> bytes:
    """The decoded body, within `limit`; the deadline is checked per piece."""
    async for raw in _araw(response):
        for piece in _pieces(decoder, raw):
            check_deadline(call)
            if not limit.add(piece):
                return limit.content()
    decoder.finish()
    return limit.content()


async def _adrain(
    response: httpx.Response, chunks: AsyncIterator[bytes], call: Call
) -> None:
    """Read what follows `[DONE]` briefly, so the connection can be reused."""
    armed = arm(response, drain_deadline(call))
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
            log_retry(error, delay, attempt, call)
        attempt += 1
        await asyncio.sleep(delay)


async def _apost_once(client: httpx.AsyncClient, call: Call) -> dict[str, Any]:
    with map_transport_errors(call):
        async with _asend(client, call) as response:
            status = response.status_code
            refuse_unasked_stream(response)
            _arm(response, call)
            try:
                decoder = _decoder(response)
                limit = limit_for(status, call, expect_sse=False)
                body = await _aread(response, decoder, limit, call)
            except BodyDecodingError as exc:
                raise decoding_error(exc, status, stream=False) from None
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
            log_retry(error, delay, attempt, call)
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
    progress = Progress()
    with map_transport_errors(call, stream=progress, read_timeout=client.timeout.read):
        async with _asend(client, call) as response:
            armed = _arm(response, call)
            try:
                decoder = _decoder(response)
                if not is_sse(response):
                    limit = limit_for(response.status_code, call, expect_sse=True)
                    body = await _aread(response, decoder, limit, call)
                    raise not_sse_error(response, body, call)
                reader = _reader(call, client.timeout)
                chunks = _adecoded(decoder, _araw(response))
                async for chunk in chunks:
                    for data in reader.feed(chunk):
                        yield decode_event(data, call.redact)
                    if reader.started and not progress.started:
                        _started(progress, armed, call)
                    if reader.done:
                        await _adrain(response, chunks, call)
                        return
                decoder.finish()
                reader.finish()
            except BodyDecodingError as exc:
                raise decoding_error(exc, response.status_code, stream=True) from None


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
