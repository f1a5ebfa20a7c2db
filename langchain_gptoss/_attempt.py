"""One try of a call: its settings, timeouts, limits and failures (pure).

Shared by the sync and async I/O in `_http`: how long each try may wait, how
much body it reads, when to retry, and which of this package's errors an httpx
failure becomes.
"""

from __future__ import annotations

import logging
import random
import ssl
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import httpx

from langchain_gptoss._decode import BodyDecodingError, BodyLimit
from langchain_gptoss._json import text_of
from langchain_gptoss._redact import NO_SECRET, Redactor
from langchain_gptoss._sse import (
    CONTENT_TYPE,
    DEFAULT_MAX_EVENT_BYTES,
    deadline_message,
    first_event_message,
    idle_message,
)
from langchain_gptoss._status import error_from_response
from langchain_gptoss.errors import (
    GptOssAPIError,
    GptOssConnectionError,
    GptOssError,
    GptOssStreamError,
    GptOssTimeoutError,
)

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

    from langchain_gptoss._names import ToolNames

logger = logging.getLogger("langchain_gptoss")

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
    # Whether a stream whose first event did not come in time is sent again.
    retry_first_event_timeout: bool = False
    max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES
    max_response_bytes: int = DEFAULT_MAX_EVENT_BYTES
    max_error_body_bytes: int = DEFAULT_MAX_ERROR_BODY_BYTES
    # (monotonic time by which the call ends, the total_timeout it came from)
    deadline: tuple[float, float] | None = None
    # Tool names renamed for the wire, to give calls in the answer theirs back.
    names: ToolNames | None = None


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


def log_retry(error: GptOssError, delay: float, attempt: int, call: Call) -> None:
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


class Progress:
    """How far a stream has got: whether its first event has arrived."""

    __slots__ = ("started",)

    def __init__(self) -> None:
        self.started = False


@contextmanager
def map_transport_errors(
    call: Call, *, stream: Progress | None = None, read_timeout: float | None = None
) -> Iterator[None]:
    """Turn every httpx failure into one of this package's errors.

    `stream` tells a stream's read timeouts apart: before the first event the
    server may be working on the prompt already (not resent unless
    `call.retry_first_event_timeout`), after it the idle timeout ran out.
    """
    try:
        yield
    except httpx.TimeoutException as exc:
        deadline = call.deadline
        if deadline is not None and time.monotonic() >= deadline[0] - 0.001:
            msg = deadline_message(deadline[1])
        elif isinstance(exc, httpx.PoolTimeout):
            msg = (
                "No free connection within the pool timeout (models with the same "
                "timeouts share one pool of 100 requests in flight); nothing was "
                "sent."
            )
            raise GptOssTimeoutError(msg, retryable=False) from exc
        elif stream is not None and isinstance(exc, httpx.ReadTimeout):
            if not stream.started:
                resend = call.retry_first_event_timeout
                msg = first_event_message(read_timeout, resent=resend)
                raise GptOssTimeoutError(msg, retryable=resend) from exc
            msg = idle_message(call.idle_timeout or 0.0)
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
    except httpx.HTTPError as exc:  # decoding in a client's own transport, and such
        msg = f"The request to TIR failed ({type(exc).__name__}): {exc}"
        raise GptOssConnectionError(msg, retryable=False) from exc


def attempt_timeout(base: httpx.Timeout, call: Call) -> httpx.Timeout:
    """The timeouts of one attempt, each cut to what the call's deadline leaves.

    The read timeout also bounds the wait for a stream's first event; the idle
    timeout takes over after it (`_deadline`).

    Raises:
        GptOssTimeoutError: When the deadline has already passed.
    """
    parts = {
        "connect": base.connect,
        "read": base.read,
        "write": base.write,
        "pool": base.pool,
    }
    if call.deadline is not None:
        remaining = call.deadline[0] - time.monotonic()
        if remaining <= 0:
            raise GptOssTimeoutError(deadline_message(call.deadline[1]))
        parts = {
            k: remaining if v is None else min(v, remaining) for k, v in parts.items()
        }
    else:
        return base
    return httpx.Timeout(**parts)


def check_deadline(call: Call) -> None:
    if call.deadline is not None and time.monotonic() > call.deadline[0]:
        raise GptOssTimeoutError(deadline_message(call.deadline[1]))


def limit_for(status: int, call: Call, *, expect_sse: bool) -> BodyLimit:
    """How much of a body to read: all of a 200 JSON answer, the start of others."""
    if status < 400 and not expect_sse:  # noqa: PLR2004
        return BodyLimit(call.max_response_bytes, "max_response_bytes")
    return BodyLimit(call.max_error_body_bytes, "max_error_body_bytes", truncate=True)


def decoding_error(exc: BodyDecodingError, status: int, *, stream: bool) -> GptOssError:
    msg = f"Could not read the response body: {exc}"
    if stream:
        return GptOssStreamError(msg)
    return GptOssAPIError(msg, status_code=status)


def is_sse(response: httpx.Response) -> bool:
    return response.status_code < 400 and response.headers.get(  # noqa: PLR2004
        "content-type", ""
    ).startswith(CONTENT_TYPE)


def refuse_unasked_stream(response: httpx.Response) -> None:
    """Refuse an SSE answer to a non-streamed request, before reading any of it.

    vLLM streams only when asked; a server that streams anyway may never end,
    and nothing here could turn its events into the JSON answer asked for.

    Raises:
        GptOssAPIError: When the response is a `text/event-stream`.
    """
    if is_sse(response):
        msg = (
            "Asked for a JSON answer, but the server sent an SSE stream "
            f"({CONTENT_TYPE}); it was not read. Use model.stream(), or "
            "streaming=True, if the endpoint only streams."
        )
        raise GptOssAPIError(msg, status_code=response.status_code)


def not_sse_error(response: httpx.Response, body: bytes, call: Call) -> GptOssError:
    text = text_of(body)
    if response.status_code >= 400:  # noqa: PLR2004
        return error_from_response(
            response.status_code, response.headers, text, call.redact
        )
    msg = (
        f"Expected an SSE stream ({CONTENT_TYPE}), got "
        f"{response.headers.get('content-type')!r}: {call.redact.excerpt(text, 200)!r}"
    )
    return GptOssStreamError(msg)


def drain_deadline(call: Call) -> float:
    grace = time.monotonic() + DRAIN_GRACE
    return grace if call.deadline is None else min(grace, call.deadline[0])
