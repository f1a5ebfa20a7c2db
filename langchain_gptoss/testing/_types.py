"""Public value types of the emulator: faults, scripted replies, recorded requests."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Era = Literal["reasoning_content", "both", "reasoning"]
"""Which vLLM generation's reasoning field names to emit (protocol §2.0)."""

GatewayStyle = Literal["json", "message", "text"]
"""Body style of errors produced by the E2E gateway (auth, routing)."""

BodyKind = Literal["vllm", "message", "text", "html"]
"""Body style of an injected error response."""


@dataclass(frozen=True)
class ToolCall:
    """One function call the model emits (harmony ``commentary to=functions.X``).

    Attributes:
        name: The function name.
        arguments: The raw JSON text exactly as the model wrote it; streams carry it
            verbatim, non-streaming answers re-serialize it (protocol §2.b).
    """

    name: str
    arguments: str


@dataclass(frozen=True)
class Reply:
    """A scripted answer for one request, returned by a ``responder``.

    Attributes:
        reasoning: The analysis-channel text (empty means no reasoning at all).
        content: The final answer, or ``None`` for a null ``content``; next to
            ``tool_calls`` it is preamble text.
        tool_calls: Function calls emitted after the content, in order.
    """

    reasoning: str
    content: str | None
    tool_calls: tuple[ToolCall, ...] = ()


@dataclass(frozen=True)
class Fault:
    """One injected misbehaviour, consumed by the next chat request.

    Attributes:
        status: Answer with this HTTP status and a realistic error body.
        body: Exact raw body to send instead of the normal one.
        body_kind: Style of the generated error body (``None``: realistic default).
        headers: Extra response headers, e.g. ``Retry-After``.
        first_byte_delay: Seconds to wait before the status line.
        drop_after_events: Close the connection after this many SSE events
            (non-stream: after this many body bytes; ``0`` sends nothing at all).
        error_event_after: Send vLLM's mid-stream error event after this many events.
        malformed_after: Send a truncated JSON event after this many events.
        stall_after: Pause for ``stall_seconds`` after this many events.
        stall_seconds: Length of the pause.
        omit_done: End the stream cleanly but without ``data: [DONE]``.
    """

    status: int | None = None
    body: str | bytes | None = None
    body_kind: BodyKind | None = None
    headers: dict[str, str] = field(default_factory=dict)
    first_byte_delay: float = 0.0
    drop_after_events: int | None = None
    error_event_after: int | None = None
    malformed_after: int | None = None
    stall_after: int | None = None
    stall_seconds: float = 0.0
    omit_done: bool = False


@dataclass(frozen=True)
class RecordedRequest:
    """One HTTP request as the emulator received it.

    Attributes:
        method: The request method, e.g. ``POST``.
        path: The request path without the query string.
        query: Query parameters (last value wins).
        headers: Request headers with lower-case names.
        body: The parsed JSON body, or ``None`` when it is not JSON.
        raw: The raw body bytes.
    """

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any
    raw: bytes
