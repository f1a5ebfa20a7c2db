"""The asyncio HTTP/1.1 server: parsing, E2E gateway checks, faults, streaming."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl

from langchain_gptoss.testing import _http
from langchain_gptoss.testing._errors import (
    JSON_TYPE,
    ApiError,
    dump,
    fault_body,
    gateway_error,
    sniff_type,
    vllm_error,
)
from langchain_gptoss.testing._gateway import check, slug_of
from langchain_gptoss.testing._tools import Habits
from langchain_gptoss.testing._types import Fault, RecordedRequest
from langchain_gptoss.testing._vllm import JsonAnswer, Settings, complete, parse_body
from langchain_gptoss.testing._wording import worded

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from langchain_gptoss.testing._emulator import TirEmulator
    from langchain_gptoss.testing._ledger import Ledger

_MAX_BODY = 64 * 1024 * 1024
_HEAD_LIMIT = 64 * 1024
_BACKLOG = 4096
_NO_FAULT = Fault()
_SSE_TYPE = "text/event-stream; charset=utf-8"


class _BadRequestError(Exception):
    """The bytes on the wire are not a request we can parse; answer and hang up."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


@dataclass(frozen=True)
class _Request:
    method: str
    target: str
    headers: dict[str, str]
    body: bytes
    keep_alive: bool


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    parts: list[bytes] = []
    total = 0
    while True:
        line = await reader.readuntil(b"\r\n")
        try:
            size = int(line.split(b";")[0], 16)
        except ValueError:
            raise _BadRequestError(400) from None
        if size == 0:
            while await reader.readuntil(b"\r\n") != b"\r\n":
                pass  # trailers carry nothing we use
            return b"".join(parts)
        total += size
        if total > _MAX_BODY:
            raise _BadRequestError(413)
        parts.append(await reader.readexactly(size))
        if await reader.readexactly(2) != b"\r\n":
            raise _BadRequestError(400)


async def _read_request(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> _Request | None:
    """Read one request; ``None`` when the client closed between requests."""
    try:
        raw_head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as exc:
        if exc.partial.strip():
            raise _BadRequestError(400) from None
        return None
    except asyncio.LimitOverrunError:
        raise _BadRequestError(431) from None
    lines = raw_head.lstrip(b"\r\n")[:-4].decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):  # noqa: PLR2004
        raise _BadRequestError(400)
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if not colon or not name or name != name.strip():
            raise _BadRequestError(400)
        key, value = name.lower(), value.strip()
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    if headers.get("expect", "").lower() == "100-continue":
        writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
    if "chunked" in headers.get("transfer-encoding", "").lower():
        body = await _read_chunked(reader)
    else:
        length = headers.get("content-length", "0")
        if not length.isdigit():
            raise _BadRequestError(400)
        if int(length) > _MAX_BODY:
            raise _BadRequestError(413)
        body = await reader.readexactly(int(length))
    tokens = {t.strip().lower() for t in headers.get("connection", "").split(",")}
    keep = "keep-alive" in tokens if parts[2] == "HTTP/1.0" else "close" not in tokens
    return _Request(parts[0], parts[1], headers, body, keep)


def _settings(emu: TirEmulator, model: str, ledger: Ledger) -> Settings:
    release = emu.profile
    leak = emu.leak_tool_args_into_content
    by_name = emu.require_tool_message_name
    quirks = emu.tool_stream_quirks
    return Settings(
        model=model,
        era=emu.reasoning_field or release.reasoning_field,
        context_window=emu.context_window,
        token_ids_key=emu.token_ids_key,
        tokens_per_chunk=emu.tokens_per_chunk,
        force_include_usage=emu.force_include_usage,
        responder=emu.responder,
        scripted=ledger.pop_reply,
        habits=Habits(
            legacy_tool_choice_none=emu.legacy_tool_choice_none,
            ignore_required_tool_choice=emu.ignore_required_tool_choice,
            require_tool_message_name=(
                release.tool_message_key == "name" if by_name is None else by_name
            ),
            flaky_structured_output=emu.flaky_structured_output,
        ),
        tool_parser=emu.tool_parser,
        leak_tool_args=release.tool_args_in_content if leak is None else leak,
        tool_stream_quirks=(release.tool_stream_quirks if quirks is None else quirks),
        profile=release,
    )


class Server:
    """Serves one emulator's socket on an event loop owned by its thread."""

    def __init__(self, emulator: TirEmulator, ledger: Ledger) -> None:
        """Bind the server to the emulator's knobs and shared state."""
        self._emu = emulator
        self._ledger = ledger
        self._stopping: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def serve(self, ready: Callable[[int | BaseException], None]) -> None:
        """Listen, report the bound port through ``ready``, run until stopped."""
        self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        try:
            server = await asyncio.start_server(
                self._connection,
                self._emu.host,
                self._emu.port,
                backlog=_BACKLOG,
                limit=_HEAD_LIMIT,
            )
        except OSError as exc:
            ready(exc)
            return
        ready(server.sockets[0].getsockname()[1])
        async with server:
            await self._stopping.wait()
            server.close()
            for writer in list(self._writers):
                writer.transport.abort()
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    def request_stop(self) -> None:
        """Ask the loop to shut down; safe to call from any thread."""
        if self._loop is not None and self._stopping is not None:
            with contextlib.suppress(RuntimeError):  # loop already closed
                self._loop.call_soon_threadsafe(self._stopping.set)

    async def _connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self._writers.add(writer)
        self._ledger.connection_changed(+1)
        # Only stop() cancels: ending quietly keeps asyncio's stream callback from
        # logging the cancellation as an error.
        quiet = (
            ConnectionError,
            asyncio.IncompleteReadError,
            asyncio.LimitOverrunError,
            asyncio.CancelledError,
        )
        try:
            with contextlib.suppress(*quiet):
                while True:
                    try:
                        request = await _read_request(reader, writer)
                    except _BadRequestError as exc:
                        await self._gateway(writer, exc.status, keep_alive=False)
                        break
                    if request is None or not await self._respond(request, writer):
                        break
        finally:
            self._writers.discard(writer)
            writer.close()
            self._ledger.connection_changed(-1)

    async def _write(self, writer: asyncio.StreamWriter, data: bytes) -> None:
        writer.write(data)
        await writer.drain()

    async def _send(
        self,
        writer: asyncio.StreamWriter,
        status: int,
        body: bytes,
        content_type: str,
        *,
        keep_alive: bool,
        extra: list[tuple[str, str]] | None = None,
        head_only: bool = False,
    ) -> bool:
        headers = [("content-type", content_type), ("content-length", str(len(body)))]
        headers += extra or []
        if not keep_alive:
            headers.append(("connection", "close"))
        await self._write(
            writer, _http.head(status, headers) + (b"" if head_only else body)
        )
        return keep_alive

    async def _gateway(
        self,
        writer: asyncio.StreamWriter,
        status: int,
        *,
        keep_alive: bool,
        message: str | None = None,
        extra: list[tuple[str, str]] | None = None,
        head_only: bool = False,
    ) -> bool:
        body, content_type = gateway_error(
            status, self._emu.gateway_error_style, message
        )
        return await self._send(
            writer,
            status,
            body,
            content_type,
            keep_alive=keep_alive,
            extra=extra,
            head_only=head_only,
        )

    async def _respond(self, request: _Request, writer: asyncio.StreamWriter) -> bool:
        """Apply the gateway checks in E2E's order, then hand over to vLLM."""
        emu = self._emu
        path, _, query_string = request.target.partition("?")
        query = dict(parse_qsl(query_string, keep_blank_values=True))
        body, parse_error = parse_body(request.body)
        self._ledger.record(
            RecordedRequest(
                request.method, path, query, request.headers, body, request.body
            )
        )
        keep = request.keep_alive
        rejection = check(
            request.method,
            path,
            query,
            request.headers.get("authorization"),
            token=emu.token,
            project_id=emu.project_id,
            models=(emu.model, *emu.also_serves),
            strict_query=emu.require_project_query,
        )
        if rejection:
            return await self._gateway(
                writer,
                rejection.status,
                keep_alive=keep,
                message=rejection.message,
                extra=rejection.headers,
                head_only=request.method == "HEAD",
            )
        fault = self._ledger.pop_fault() or _NO_FAULT
        extra = list(fault.headers.items())
        if fault.first_byte_delay > 0:
            await asyncio.sleep(fault.first_byte_delay)
        if fault.status is not None or fault.body is not None:
            return await self._fault_reply(writer, fault, extra, keep)
        request_id = f"chatcmpl-{uuid.uuid4()}"
        extra.append(("x-request-id", request_id))
        try:
            answer = (parse_error and worded(parse_error, emu.profile)) or complete(
                body,
                _settings(emu, slug_of(path), self._ledger),
                request_id=request_id,
                created=int(time.time()),
            )
        except Exception as exc:  # an emulator bug still answers like vLLM
            message = f"{type(exc).__name__}: {exc}"
            answer = ApiError(500, vllm_error(message, "Internal Server Error", 500))
        if isinstance(answer, ApiError):
            payload = dump(answer.payload)
            return await self._send(
                writer, answer.status, payload, JSON_TYPE, keep_alive=keep, extra=extra
            )
        if isinstance(answer, JsonAnswer):
            if fault.drop_after_events is not None:
                return await self._drop_json(
                    writer, answer.body, fault.drop_after_events, extra
                )
            return await self._send(
                writer, 200, answer.body, JSON_TYPE, keep_alive=keep, extra=extra
            )
        return await self._stream(writer, answer.events, fault, extra, keep)

    async def _fault_reply(
        self,
        writer: asyncio.StreamWriter,
        fault: Fault,
        extra: list[tuple[str, str]],
        keep: bool,
    ) -> bool:
        status = fault.status or 200
        if fault.body is not None:
            data = fault.body.encode() if isinstance(fault.body, str) else fault.body
            content_type = sniff_type(data)
        else:
            data, content_type = fault_body(status, fault.body_kind, self._emu.model)
        return await self._send(
            writer, status, data, content_type, keep_alive=keep, extra=extra
        )

    async def _drop_json(
        self,
        writer: asyncio.StreamWriter,
        body: bytes,
        after: int,
        extra: list[tuple[str, str]],
    ) -> bool:
        if after > 0:
            headers = [
                ("content-type", JSON_TYPE),
                ("content-length", str(len(body))),
                *extra,
            ]
            await self._write(writer, _http.head(200, headers) + body[:after])
        return False

    async def _stream(
        self,
        writer: asyncio.StreamWriter,
        events: Iterator[bytes],
        fault: Fault,
        extra: list[tuple[str, str]],
        keep: bool,
    ) -> bool:
        """Write the SSE body one piece at a time, as it is made, faults included."""
        emu = self._emu
        eol = b"\r\n" if emu.crlf else b"\n"
        actions = _http.stream_actions(
            events,
            fault,
            eol=eol,
            comments=emu.keepalive_comments,
            split=emu.split_writes,
            pace=emu.step_seconds,
        )
        headers = [("content-type", _SSE_TYPE), ("transfer-encoding", "chunked")]
        headers += extra
        if not keep:
            headers.append(("connection", "close"))
        writer.write(_http.head(200, headers))
        try:
            for action in actions:
                if isinstance(action, bytes):
                    writer.write(action)
                    await writer.drain()
                elif action is None:
                    return False
                else:
                    await asyncio.sleep(action)
        except Exception as exc:  # an emulator bug mid-stream still fails like vLLM
            message = f"{type(exc).__name__}: {exc}"
            error = dump(vllm_error(message, "Internal Server Error", 500))
            for data in (error, _http.DONE):
                writer.write(_http.chunk(_http.sse(data, eol)))
            writer.write(_http.LAST_CHUNK)
            await writer.drain()
        return keep
