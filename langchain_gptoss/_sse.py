"""Server-sent events: body bytes -> event data -> decoded events, within limits.

Pure but for the clock it reads. Buffering is linear in the bytes received: a
line that has not ended yet is kept as a list of pieces and joined once.
"""

from __future__ import annotations

import time
from typing import Any

from langchain_gptoss._json import load_json, shown, text_of
from langchain_gptoss._redact import NO_SECRET, Redactor
from langchain_gptoss._status import (
    BODY_EXCERPT,
    embedded_status,
    is_context_overflow,
    message_from_json,
)
from langchain_gptoss.errors import (
    GptOssContextOverflowError,
    GptOssResponseTooLargeError,
    GptOssStreamError,
    GptOssTimeoutError,
)

DONE = b"[DONE]"
CONTENT_TYPE = "text/event-stream"
# Room for a whole 131,072-token answer in one event at 128 bytes a token.
DEFAULT_MAX_EVENT_BYTES = 16 * 1024 * 1024

NO_DONE = "The stream ended before data: [DONE]; the answer is incomplete."


def idle_message(idle_timeout: float) -> str:
    """What a stream that went quiet for too long is told."""
    return (
        f"No event from TIR for {idle_timeout:g}s (stream_idle_timeout); the stream "
        "was closed and the answer is incomplete."
    )


def first_event_message(read_timeout: float | None, *, resent: bool) -> str:
    """What a stream whose first event did not come in time is told."""
    within = "" if read_timeout is None else f" within {read_timeout:g}s"
    advice = (
        "It may be tried again (retry_first_event_timeout=True)."
        if resent
        else "It was not sent again, since the server may be working on it "
        "already; raise `timeout` for long prompts on a busy server, or set "
        "retry_first_event_timeout=True to resend."
    )
    return f"No first event from TIR{within} (the read timeout). {advice}"


def deadline_message(total_timeout: float) -> str:
    """What a call that ran out of time is told."""
    return (
        f"The call took longer than total_timeout={total_timeout:g}s and was "
        "stopped; the answer, if any, is incomplete."
    )


def _too_large(limit: int) -> GptOssResponseTooLargeError:
    return GptOssResponseTooLargeError(
        f"An event in the stream is larger than max_event_bytes={limit:,} bytes; "
        "the stream was closed. Raise max_event_bytes if the server legitimately "
        "sends events this large.",
        limit=limit,
        setting="max_event_bytes",
    )


class LineSplitter:
    """Turns the bytes of a `text/event-stream` body into its lines (as bytes).

    Only CR LF, LF and CR end a line in SSE. `str.splitlines` (and so httpx's
    `iter_lines`) also splits at U+2028, U+0085 and the like, which JSON carries
    unescaped inside strings. Splitting bytes is safe in UTF-8: CR and LF never
    occur inside a multi-byte character.
    """

    __slots__ = ("_after_cr", "_limit", "_pending", "_size")

    def __init__(self, max_line_bytes: int = DEFAULT_MAX_EVENT_BYTES) -> None:
        """Start at the beginning of a body; refuse lines over `max_line_bytes`."""
        self._pending: list[bytes] = []  # the pieces of a line not ended yet
        self._size = 0
        self._limit = max_line_bytes
        self._after_cr = False

    def feed(self, chunk: bytes) -> list[bytes]:
        """Take the next bytes; return the lines they complete, without endings.

        Raises:
            GptOssResponseTooLargeError: When a line grows past the limit.
        """
        if not chunk:
            return []
        if self._after_cr and chunk[0] == 10:  # noqa: PLR2004 - the LF of a split CR LF
            chunk = chunk[1:]
        self._after_cr = chunk.endswith(b"\r")
        if b"\r" in chunk:
            chunk = chunk.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        if b"\n" not in chunk:
            self._size += len(chunk)
            if self._size > self._limit:
                raise _too_large(self._limit)
            self._pending.append(chunk)
            return []
        lines = chunk.split(b"\n")
        if self._pending:
            self._pending.append(lines[0])
            lines[0] = b"".join(self._pending)
        rest = lines.pop()
        self._pending = [rest] if rest else []
        self._size = len(rest)
        if self._size > self._limit or len(lines[0]) > self._limit:
            raise _too_large(self._limit)
        return lines

    def finish(self) -> list[bytes]:
        """At the end of the body: the last line, if it had no ending."""
        last = b"".join(self._pending)
        self._pending, self._size = [], 0
        return [last] if last else []


class EventReader:
    """Turns body bytes into the data of each event; keeps the stream's clocks.

    The first event is awaited for `first_event_timeout` (the read timeout): a
    long prompt on a busy server may take longer than the idle timeout to start.
    After it, only a complete event with a `data` field resets the idle clock:
    comments, other fields, blank lines and bytes of a line not ended yet do not,
    so a server that keeps a stalled answer busy with them is still cut off. A
    silent connection is caught by the socket's read timeout (`_deadline`); these
    checks run once a chunk has arrived.
    """

    __slots__ = (
        "_data",
        "_data_size",
        "_deadline",
        "_first",
        "_idle",
        "_last",
        "_limit",
        "_lines",
        "_resend",
        "done",
        "started",
    )

    def __init__(
        self,
        *,
        max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES,
        idle_timeout: float | None = None,
        first_event_timeout: float | None = None,
        resend_first_event_timeout: bool = False,
        deadline: tuple[float, float] | None = None,
    ) -> None:
        """Start reading a body.

        Args:
            max_event_bytes: The largest event (its data lines together).
            idle_timeout: Longest gap between two events after the first, in
                seconds.
            first_event_timeout: Longest wait for the first event, in seconds.
            resend_first_event_timeout: Whether running out of that wait may be
                retried.
            deadline: `(monotonic time, total_timeout)` by which the call ends.
        """
        self._lines = LineSplitter(max_event_bytes)
        self._limit = max_event_bytes
        self._data: list[bytes] = []  # the data lines of the event being read
        self._data_size = 0
        self._idle = idle_timeout
        self._first = first_event_timeout
        self._resend = resend_first_event_timeout
        self._deadline = deadline
        self._last = time.monotonic()
        self.started = False  # whether the first event has come
        self.done = False

    def feed(self, chunk: bytes) -> list[bytes]:
        """Take the next bytes of the body; return the data of events they complete.

        Nothing after `data: [DONE]` is read; `done` tells that it came.

        Raises:
            GptOssTimeoutError: When the idle or total timeout has passed.
            GptOssResponseTooLargeError: When an event passes `max_event_bytes`.
        """
        events = self._read(self._lines.feed(chunk))
        self._check_clocks(bool(events) or self.done)
        return events

    def finish(self) -> None:
        """At the end of the body: raise unless the stream was complete.

        Only a blank line ends an event, so none is left to hand out here; but a
        last `data: [DONE]` without the blank line after it still counts.
        """
        self._read(self._lines.finish())
        if not self.done and b"\n".join(self._data) != DONE:
            raise GptOssStreamError(NO_DONE, retryable=True)

    def _check_clocks(self, progressed: bool) -> None:
        now = time.monotonic()
        if self._deadline is not None and now > self._deadline[0]:
            raise GptOssTimeoutError(deadline_message(self._deadline[1]))
        if progressed:
            self._last = now
            self.started = True
        elif not self.started:
            if self._first is not None and now - self._last > self._first:
                raise GptOssTimeoutError(
                    first_event_message(self._first, resent=self._resend),
                    retryable=self._resend,
                )
        elif self._idle is not None and now - self._last > self._idle:
            raise GptOssTimeoutError(idle_message(self._idle))

    def _read(self, lines: list[bytes]) -> list[bytes]:
        events = []
        for line in lines:
            if line.startswith(b"data:"):
                value = line[5:].removeprefix(b" ")
                self._data.append(value)
                self._data_size += len(value) + 1
                if self._data_size > self._limit:
                    raise _too_large(self._limit)
            elif not line and self._data:  # a blank line ends an event
                data = self._data[0] if len(self._data) == 1 else b"\n".join(self._data)
                self._data = []
                self._data_size = 0
                if data == DONE:
                    self.done = True
                    break
                events.append(data)
        return events


def decode_event(data: bytes | str, redact: Redactor = NO_SECRET) -> dict[str, Any]:
    """Parse one event's data; raise on malformed JSON or an error event.

    Raises:
        GptOssContextOverflowError: For an error event saying the prompt does
            not fit (never worth retrying).
        GptOssStreamError: For malformed data, or any other error event.
    """
    try:
        event = load_json(data)
    except ValueError:
        event = None
    if not isinstance(event, dict):
        text = text_of(data) if isinstance(data, bytes) else data
        excerpt = redact.excerpt(text, 200)
        msg = f"Malformed event in the SSE stream (not a JSON object): {excerpt!r}"
        raise GptOssStreamError(msg)
    error = event.get("error")
    if error:
        text = redact.excerpt(message_from_json(event) or shown(error), 500)
        code = error.get("code") if isinstance(error, dict) else None
        if is_context_overflow(text, code):
            body = redact.excerpt(shown(event), BODY_EXCERPT)
            raise GptOssContextOverflowError(
                text, status_code=embedded_status(error), body=body
            )
        msg = f"The server failed mid-stream: {text}"
        raise GptOssStreamError(msg, retryable=True)
    return event
