"""``TirEmulator``: the public face of the loopback TIR endpoint."""

from __future__ import annotations

import asyncio
import threading
from typing import TYPE_CHECKING, Any, Self

from langchain_gptoss.testing._ledger import Ledger
from langchain_gptoss.testing._releases import DEFAULT_RELEASE, Profile, profile
from langchain_gptoss.testing._server import Server
from langchain_gptoss.testing._types import Reply

if TYPE_CHECKING:
    from collections.abc import Callable
    from types import TracebackType

    from langchain_gptoss.chat_models import ChatGptOss
    from langchain_gptoss.testing._types import (
        Era,
        Fault,
        GatewayStyle,
        RecordedRequest,
    )

_JOIN_TIMEOUT = 10.0


class TirEmulator:
    """A faithful local stand-in for E2E TIR's gpt-oss chat completions endpoint.

    A real HTTP/1.1 server on loopback, run by its own event loop in a daemon
    thread. Every constructor argument is also a plain attribute that may be
    changed while the server runs.

    ``vllm`` names the vLLM release played (default ``"0.13.0"``): which requests
    it accepts and refuses, with which error bodies, how it reads history and
    which fields its answers carry, as the table in ``_releases`` says release by
    release. The default: E2E's documented response fields put TIR at 0.10.2 to
    0.20.x (protocol §1.4); 0.13.0 is the release the client's token counting
    assumes, in the era with both reasoning fields the emulator always emitted.
    With ``openai-harmony`` importable, ``usage.prompt_tokens`` is that
    release's exact harmony count (``_billing``); else an approximation.

    Behaviours the release decides can still be forced, for tests:
    ``reasoning_field`` (the era of the reasoning field names),
    ``leak_tool_args_into_content`` (0.10.2's bug),
    ``require_tool_message_name`` (tool results resolved by ``name``, ≤ 0.12) and
    ``tool_stream_quirks`` (same-index pairs, reasoning sharing the opener's
    delta, index bump: seen live, off in every release's row);
    ``None`` leaves them to the release. Knobs for what depends on the deployment
    rather than the release (protocol §2.b, §2.c, §3): ``tool_parser=False``
    (server without ``--tool-call-parser``: the call's JSON in the body's
    ``content`` up to 0.16; streams still parse it up to 0.20, drop it later),
    ``tokens_per_chunk``, ``step_seconds`` (the pause between streamed events,
    as a model decoding at a human-visible pace; 0 streams at once),
    ``force_include_usage``,
    ``ignore_required_tool_choice`` (0.20.1), ``legacy_tool_choice_none`` (before
    PR #30867) and ``flaky_structured_output`` (cut-off JSON). ``also_serves``
    names further GenAI slugs answered at their own paths, as TIR hosts several
    models per project (for per-call model overrides).

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

    _profile: Profile

    def __init__(
        self,
        *,
        token: str = "test-token",  # noqa: S107
        project_id: int = 12345,
        model: str = "gpt_oss_120b",
        also_serves: tuple[str, ...] = (),
        reasoning_field: Era | None = None,
        require_project_query: bool = False,
        context_window: int = 131072,
        responder: Callable[[dict[str, Any]], Reply] | None = None,
        gateway_error_style: GatewayStyle = "message",
        token_ids_key: bool = True,
        tokens_per_chunk: int = 1,
        step_seconds: float = 0.0,
        crlf: bool = False,
        keepalive_comments: bool = False,
        split_writes: bool = False,
        force_include_usage: bool = False,
        tool_parser: bool = True,
        tool_stream_quirks: bool | None = None,
        leak_tool_args_into_content: bool | None = None,
        ignore_required_tool_choice: bool = False,
        legacy_tool_choice_none: bool = False,
        require_tool_message_name: bool | None = None,
        flaky_structured_output: bool = False,
        vllm: str = DEFAULT_RELEASE,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        """Configure the emulator; nothing listens until ``start()``."""
        self.token = token
        self.project_id = project_id
        self.model = model
        self.also_serves = also_serves
        self.reasoning_field: Era | None = reasoning_field
        self.require_project_query = require_project_query
        self.context_window = context_window
        self.responder = responder
        self.gateway_error_style: GatewayStyle = gateway_error_style
        self.token_ids_key = token_ids_key
        self.tokens_per_chunk = tokens_per_chunk
        self.step_seconds = step_seconds
        self.crlf = crlf
        self.keepalive_comments = keepalive_comments
        self.split_writes = split_writes
        self.force_include_usage = force_include_usage
        self.tool_parser = tool_parser
        self.tool_stream_quirks: bool | None = tool_stream_quirks
        self.leak_tool_args_into_content = leak_tool_args_into_content
        self.ignore_required_tool_choice = ignore_required_tool_choice
        self.legacy_tool_choice_none = legacy_tool_choice_none
        self.require_tool_message_name = require_tool_message_name
        self.flaky_structured_output = flaky_structured_output
        self.vllm = vllm
        self.host = host
        self.port = port
        self._ledger = Ledger()
        self._bound_port: int | None = None
        self._server: Server | None = None
        self._thread: threading.Thread | None = None

    # -- the release played ----------------------------------------------------

    @property
    def vllm(self) -> str:
        """The vLLM release played, e.g. ``"0.20.1"``."""
        return str(self._profile.release)

    @vllm.setter
    def vllm(self, value: str) -> None:
        # Read once here; every request uses the profile.
        self._profile = profile(value)

    @property
    def vllm_version(self) -> str:
        """Alias of ``vllm`` (the knob's earlier name)."""
        return self.vllm

    @vllm_version.setter
    def vllm_version(self, value: str) -> None:
        self.vllm = value

    @property
    def profile(self) -> Profile:
        """What the release played does (one attribute per behaviour)."""
        return self._profile

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

    def script(self, *replies: Reply | str) -> None:
        """Queue answers: the next chat requests get them in order, then the usual.

        A string is an answer with that ``content`` and no reasoning. Requests
        that a fault or a validation error answers take none.
        """
        self._ledger.script(
            tuple(Reply("", r) if isinstance(r, str) else r for r in replies)
        )

    def clear(self) -> None:
        """Forget recorded requests, pending faults and scripted answers."""
        self._ledger.clear()

    def chat_model(self, **settings: Any) -> ChatGptOss:
        """A ``ChatGptOss`` pointed at this emulator, with ``settings`` on top.

        ``settings`` may replace the connection too, e.g. ``api_key="wrong"``.
        """
        from langchain_gptoss.chat_models import ChatGptOss  # noqa: PLC0415

        bound = {
            "base_url": self.base_url,
            "api_key": self.token,
            "project_id": self.project_id,
        }
        return ChatGptOss(**(bound | settings))

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
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
