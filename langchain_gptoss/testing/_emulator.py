"""``TirEmulator``: the public face of the loopback TIR endpoint."""

from __future__ import annotations

import asyncio
import threading
from typing import TYPE_CHECKING, Any, Self

from langchain_gptoss.testing._ledger import Ledger
from langchain_gptoss.testing._release import Release
from langchain_gptoss.testing._server import Server

if TYPE_CHECKING:
    from collections.abc import Callable
    from types import TracebackType

    from langchain_gptoss.testing._types import (
        Era,
        Fault,
        GatewayStyle,
        RecordedRequest,
        Reply,
    )

_JOIN_TIMEOUT = 10.0


class TirEmulator:
    """A faithful local stand-in for E2E TIR's gpt-oss chat completions endpoint.

    A real HTTP/1.1 server on loopback, run by its own event loop in a daemon
    thread. Every constructor argument is also a plain attribute that may be
    changed while the server runs.

    The default model calls a tool when the last user message asks for one (see
    ``_tools``) and fills its arguments, or ``response_format`` JSON, from that
    message. Knobs for version-specific tool behaviour (protocol §2.b, §2.c, §3):
    ``tool_parser=False`` (server without ``--tool-call-parser``: the call's JSON in
    ``content``), ``tool_stream_quirks`` (same-index pairs, reasoning sharing the
    opener's delta, index bump), ``leak_tool_args_into_content`` (0.10.2),
    ``ignore_required_tool_choice`` (0.20.1), ``legacy_tool_choice_none`` (before
    PR #30867), ``require_tool_message_name`` (0.10.x-0.11.1) and
    ``flaky_structured_output`` (cut-off JSON). ``also_serves`` names further
    GenAI slugs answered at their own paths, as TIR hosts several models per
    project (for per-call model overrides).

    Example:
        .. code-block:: python

            import httpx

            with TirEmulator() as emu:
                reply = httpx.post(
                    emu.chat_url,
                    headers={"Authorization": f"Bearer {emu.token}"},
                    json={"messages": [{"role": "user", "content": "Hi"}]},
                )
                assert reply.json()["choices"][0]["message"]["content"]
    """

    _release: Release | None

    def __init__(
        self,
        *,
        token: str = "test-token",  # noqa: S107
        project_id: int = 12345,
        model: str = "gpt_oss_120b",
        also_serves: tuple[str, ...] = (),
        reasoning_field: Era = "both",
        require_project_query: bool = False,
        context_window: int = 131072,
        responder: Callable[[dict[str, Any]], Reply] | None = None,
        gateway_error_style: GatewayStyle = "message",
        token_ids_key: bool = True,
        tokens_per_chunk: int = 1,
        crlf: bool = False,
        keepalive_comments: bool = False,
        split_writes: bool = False,
        force_include_usage: bool = False,
        tool_parser: bool = True,
        tool_stream_quirks: bool = False,
        leak_tool_args_into_content: bool = False,
        ignore_required_tool_choice: bool = False,
        legacy_tool_choice_none: bool = False,
        require_tool_message_name: bool = False,
        flaky_structured_output: bool = False,
        vllm_version: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        """Configure the emulator; nothing listens until ``start()``."""
        self.token = token
        self.project_id = project_id
        self.model = model
        self.also_serves = also_serves
        self.reasoning_field: Era = reasoning_field
        self.require_project_query = require_project_query
        self.context_window = context_window
        self.responder = responder
        self.gateway_error_style: GatewayStyle = gateway_error_style
        self.token_ids_key = token_ids_key
        self.tokens_per_chunk = tokens_per_chunk
        self.crlf = crlf
        self.keepalive_comments = keepalive_comments
        self.split_writes = split_writes
        self.force_include_usage = force_include_usage
        self.tool_parser = tool_parser
        self.tool_stream_quirks = tool_stream_quirks
        self.leak_tool_args_into_content = leak_tool_args_into_content
        self.ignore_required_tool_choice = ignore_required_tool_choice
        self.legacy_tool_choice_none = legacy_tool_choice_none
        self.require_tool_message_name = require_tool_message_name
        self.flaky_structured_output = flaky_structured_output
        self.vllm_version = vllm_version
        self.host = host
        self.port = port
        self._ledger = Ledger()
        self._bound_port: int | None = None
        self._server: Server | None = None
        self._thread: threading.Thread | None = None

    # -- the release played ----------------------------------------------------

    @property
    def vllm_version(self) -> str | None:
        """The vLLM release played, e.g. ``"0.20.1"`` (None: the defaults)."""
        return None if self._release is None else str(self._release)

    @vllm_version.setter
    def vllm_version(self, value: str | None) -> None:
        # Parsed once here; every request compares the parsed release.
        self._release = None if value is None else Release.parse(value)

    @property
    def vllm_release(self) -> Release | None:
        """``vllm_version`` parsed, for comparisons (``release.since(0, 20)``)."""
        return self._release

    # -- addresses -------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """The host root, e.g. ``http://127.0.0.1:8000`` (no trailing slash)."""
        port = self._bound_port or self.port
        if not port:
            msg = "the emulator is not running; call start() first"
            raise RuntimeError(msg)
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{port}"

    @property
    def openai_base_url(self) -> str:
        """The base URL an OpenAI-style client appends ``/chat/completions`` to."""
        return f"{self.base_url}/project/p-{self.project_id}/genai/{self.model}/v1"

    @property
    def chat_url(self) -> str:
        """The full chat completions URL."""
        return f"{self.openai_base_url}/chat/completions"

    # -- observation and scripting ----------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received so far, rejected ones included, oldest first."""
        return self._ledger.requests()

    @property
    def open_connections(self) -> int:
        """Client connections currently open."""
        return self._ledger.open_connections

    @property
    def total_connections(self) -> int:
        """Client connections accepted since the emulator was created."""
        return self._ledger.total_connections

    def inject(self, *faults: Fault) -> None:
        """Queue faults; each chat request that passes the gateway takes one."""
        self._ledger.inject(faults)

    def clear(self) -> None:
        """Forget recorded requests and pending faults."""
        self._ledger.clear()

    # -- lifecycle -------------------------------------------------------------

    def start(self) -> Self:
        """Start listening; returns once the socket accepts connections."""
        if self._thread is not None:
            msg = "the emulator is already running"
            raise RuntimeError(msg)
        server = Server(self, self._ledger)
        outcome: list[int | BaseException] = []
        ready = threading.Event()

        def report(result: int | BaseException) -> None:
            outcome.append(result)
            ready.set()

        def run() -> None:
            try:
                asyncio.run(server.serve(report))
            except BaseException as exc:  # surfaced through start()
                if not ready.is_set():
                    report(exc)

        thread = threading.Thread(target=run, name="tir-emulator", daemon=True)
        thread.start()
        ready.wait()
        if isinstance(outcome[0], BaseException):
            thread.join(_JOIN_TIMEOUT)
            raise outcome[0]
        self._bound_port = outcome[0]
        self._server, self._thread = server, thread
        return self

    def stop(self) -> None:
        """Close the listener and every open connection, then join the thread."""
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        server.request_stop()
        thread.join(_JOIN_TIMEOUT)
        self._server = self._thread = None
        self._bound_port = None

    def __enter__(self) -> Self:
        """Start the emulator."""
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Stop the emulator."""
        self.stop()
