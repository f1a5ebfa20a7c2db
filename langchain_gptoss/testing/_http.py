"""Byte-level HTTP/1.1 and SSE framing helpers (pure, no I/O)."""

from __future__ import annotations

import json
from email.utils import formatdate
from itertools import chain, pairwise
from typing import TYPE_CHECKING

from langchain_gptoss.testing._errors import HARMONY_ERROR, phrase

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

    from langchain_gptoss.testing._types import Fault

LAST_CHUNK = b"0\r\n\r\n"
"""The zero-length chunk that ends a chunked body."""

DONE = b"[DONE]"

ERROR_EVENT = json.dumps(
    {
        "error": {
            "message": HARMONY_ERROR,
            "type": "BadRequestError",
            "param": None,
            "code": 400,
        }
    }
).encode()
"""vLLM's in-stream failure, serialized with ``json.dumps`` defaults (protocol §2.e)."""

MALFORMED_EVENT = b'{"id": "chatcmpl-'
"""A data payload cut off mid-JSON, as a broken proxy would deliver it."""

_UTF8_LEAD = 0xC0


def head(status: int, headers: list[tuple[str, str]]) -> bytes:
    """Serialize a status line and headers, ``Date`` included."""
    lines = [f"HTTP/1.1 {status} {phrase(status)}", f"date: {formatdate(usegmt=True)}"]
    lines += [f"{name}: {value}" for name, value in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def chunk(data: bytes) -> bytes:
    """Frame ``data`` as one chunk of a chunked transfer-encoded body."""
    return b"%x\r\n%b\r\n" % (len(data), data)


def sse(payload: bytes, eol: bytes) -> bytes:
    """Frame one SSE ``data`` event."""
    return b"data: " + payload + eol + eol


def comment(eol: bytes) -> bytes:
    """Frame the keep-alive comment event proxies insert."""
    return b": keep-alive" + eol + eol


def split_points(frame: bytes) -> list[int]:
    """Return awkward cut offsets: in ``data:``, mid-JSON, mid-character, mid-EOL."""
    size = len(frame)
    points = {1, 4, size // 2, size - 2, size - 1}
    lead = next((i for i, byte in enumerate(frame) if byte >= _UTF8_LEAD), None)
    if lead is not None:
        points.add(lead + 1)
    return sorted(point for point in points if 0 < point < size)


def _script(events: Iterable[bytes], fault: Fault) -> Iterator[bytes | float | None]:
    """Interleave the faults with the payloads: bytes emit, float sleeps, None drops.

    A fault at step ``k`` strikes once ``k`` events are out; ``k`` may be the
    number of events, striking after the last one.
    """
    for step, event in enumerate(chain(events, [None])):
        if step == fault.stall_after:
            yield fault.stall_seconds
        if step == fault.malformed_after:
            yield MALFORMED_EVENT
        if step == fault.error_event_after:
            yield ERROR_EVENT
            yield DONE
            return
        if step == fault.drop_after_events:
            yield None
            return
        if event is not None:
            yield event
    if not fault.omit_done:
        yield DONE


def stream_actions(
    events: Iterable[bytes],
    fault: Fault,
    *,
    eol: bytes,
    comments: bool,
    split: bool,
    pace: float = 0.0,
) -> Iterator[bytes | float | None]:
    """Every write of a streamed body, made as the events are.

    ``pace`` seconds pass between one event and the next.

    Yields:
        Bytes to write (each flushed on its own), seconds to sleep, or ``None`` to
        drop the connection; a clean stream ends with the last chunk.
    """
    keep_alive = chunk(comment(eol))
    sent = 0
    for item in _script(events, fault):
        if not isinstance(item, bytes):
            yield item
            if item is None:
                return
            continue
        if pace and sent:
            yield pace
        if comments and sent:
            yield keep_alive
        sent += 1
        frame = sse(item, eol)
        if split:
            cuts = [0, *split_points(frame), len(frame)]
            yield from (chunk(frame[start:end]) for start, end in pairwise(cuts))
        else:
            yield chunk(frame)
    yield LAST_CHUNK
