"""A misbehaving HTTP/1.1 server on 127.0.0.1, scripted per test.

Not the package's emulator: a handful of raw sockets and threads, so that a test
decides every byte on the wire and when it is written. A *script* is a handler, or
a list of handlers (request N gets handler N; requests past the end get the last
one). A handler receives the `Connection` and the parsed `Request` and writes
whatever it likes through the connection: whole responses (`json_response`,
`sse_response`, ...), a head and then chunks, bytes dripped one at a time, comments
forever, silence, a reset.

Everything ends by itself: every helper that waits or repeats stops when the client
hangs up, when the server stops, or after `MAX_SECONDS`; a send that the client
does not read for `SEND_TIMEOUT` seconds ends the handler. `HostileServer.stop()`
(the fixture's teardown) shuts every socket down, which wakes every thread.

The server counts requests (with their arrival times and connection numbers),
connections, TLS handshakes and the bytes it managed to send, so tests prove
retries by counting rather than by guessing.
"""

from __future__ import annotations

import contextlib
import functools
import gzip
import json
import select
import socket
import ssl
import struct
import threading
import time
import traceback
import zlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Self

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping, Sequence

    import trustme

MAX_SECONDS = 60.0
"""The longest any helper holds, drips or repeats."""
SEND_TIMEOUT = 10.0
"""A client that reads nothing for this long ends the handler."""
IDLE_BETWEEN_REQUESTS = 60.0
_SLICE = 64 * 1024
_HEAD_LIMIT = 1024 * 1024
_POLL = 0.05

REASONS = {
    200: "OK",
    301: "Moved Permanently",
    302: "Found",
    307: "Temporary Redirect",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}


class ClientGone(Exception):  # noqa: N818 - a condition, not an error
    """The client hung up, or the server is stopping: the handler ends quietly."""


@dataclass(frozen=True)
class Request:
    """One request as the server parsed it."""

    index: int
    connection: int
    time: float
    """`time.monotonic()` when the whole request had arrived."""
    method: str
    target: str
    headers: dict[str, str]
    """Lower-case names; repeated headers joined with ", "."""
    body: bytes

    @property
    def path(self) -> str:
        return self.target.partition("?")[0]

    @property
    def query(self) -> str:
        return self.target.partition("?")[2]

    @property
    def authorization(self) -> str:
        """The whole Authorization header value, as sent."""
        return self.headers.get("authorization", "")

    @property
    def token(self) -> str:
        return self.authorization.removeprefix("Bearer ")

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def wants_stream(self) -> bool:
        try:
            return bool(self.json().get("stream"))
        except (ValueError, AttributeError):
            return False


class Connection:
    """One accepted connection, as a handler sees it."""

    def __init__(self, server: HostileServer, sock: socket.socket, number: int) -> None:
        self._server = server
        self._sock = sock
        self.number = number
        self.bytes_sent = 0
        self.keep_alive = True
        """Read another request on this connection after the handler returns."""

    # ---------------------------------------------------------------- writing

    def send(self, data: bytes) -> None:
        """Write `data` (in 64 KiB slices); raise `ClientGone` if it cannot."""
        view = memoryview(data)
        for start in range(0, len(view), _SLICE):
            if self._server.stopping:
                raise ClientGone
            piece = view[start : start + _SLICE]
            try:
                self._sock.sendall(piece)
            except (OSError, ValueError) as exc:  # timeouts are OSErrors too
                self.keep_alive = False
                raise ClientGone from exc
            self.bytes_sent += len(piece)
            self._server.count_sent(len(piece))

    def send_repeated(self, piece: bytes, total: int, *, chunked: bool = False) -> None:
        """Write `total` bytes made of `piece` over and over, as fast as possible."""
        sent = 0
        while sent < total:
            part = piece if total - sent >= len(piece) else piece[: total - sent]
            self.send(chunk(part) if chunked else part)
            sent += len(part)

    def send_chunk(self, data: bytes) -> None:
        """One chunk of a `Transfer-Encoding: chunked` body."""
        self.send(chunk(data))

    def sleep(self, seconds: float) -> None:
        """Wait; raise `ClientGone` if the server stops meanwhile."""
        if self._server.wait_stop(seconds):
            raise ClientGone

    def drip(
        self,
        data: bytes,
        *,
        every: float,
        size: int = 1,
        chunked: bool = False,
        seconds: float = MAX_SECONDS,
    ) -> None:
        """Write `data` `size` bytes at a time, one piece every `every` seconds."""
        deadline = time.monotonic() + seconds
        for start in range(0, len(data), size):
            if time.monotonic() > deadline:
                self.keep_alive = False
                return
            piece = data[start : start + size]
            self.send(chunk(piece) if chunked else piece)
            self.sleep(every)

    def repeat(
        self,
        piece: bytes,
        *,
        every: float,
        chunked: bool = False,
        seconds: float = MAX_SECONDS,
    ) -> None:
        """Write `piece` every `every` seconds until the client hangs up (bounded)."""
        self.keep_alive = False
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.send(chunk(piece) if chunked else piece)
            self.sleep(every)

    def hold(self, seconds: float = MAX_SECONDS) -> None:
        """Say nothing, connection open, until the client hangs up (bounded)."""
        self.keep_alive = False
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.client_gone():
                raise ClientGone
            self.sleep(_POLL)

    def client_gone(self) -> bool:
        """Whether the client closed its end (checked without blocking)."""
        try:
            readable, _, _ = select.select([self._sock], [], [], 0)
            if not readable:
                return False
            if isinstance(self._sock, ssl.SSLSocket):
                return True  # no peeking under TLS: data mid-response means closing
            return self._sock.recv(1, socket.MSG_PEEK) == b""
        except (OSError, ValueError):
            return True

    def reset(self) -> None:
        """Abort the connection with a TCP RST (SO_LINGER 0, then close)."""
        self.keep_alive = False
        with contextlib.suppress(OSError):
            self._sock.setsockopt(
                socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
            )
        self._sock.close()
        raise ClientGone

    def close(self) -> None:
        """Close the connection cleanly (FIN)."""
        self.keep_alive = False
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)
        self._sock.close()
        raise ClientGone


class HostileServer:
    """The server. Use as a context manager, or via the `serve` fixture."""

    def __init__(
        self,
        script: Callable[[Connection, Request], None]
        | Sequence[Callable[[Connection, Request], None]],
        *,
        tls: trustme.CA | None = None,
    ) -> None:
        self._script = list(script) if isinstance(script, (list, tuple)) else [script]
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(_POLL)
        self.port: int = self._listener.getsockname()[1]
        self._tls: ssl.SSLContext | None = None
        if tls is not None:
            self._tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            tls.issue_cert("127.0.0.1").configure_cert(self._tls)
        self.base_url = f"{'https' if tls else 'http'}://127.0.0.1:{self.port}"
        self.requests: list[Request] = []
        self.connections = 0
        self.handshakes = 0
        self.bytes_sent = 0
        self.errors: list[str] = []
        """Handler failures other than the client hanging up (a test bug)."""
        self._sockets: set[socket.socket] = set()
        self._threads: list[threading.Thread] = []
        self._acceptor = threading.Thread(target=self._accept_loop, daemon=True)

    # ------------------------------------------------------------ lifecycle

    def start(self) -> Self:
        self._acceptor.start()
        return self

    def stop(self) -> None:
        """Stop accepting, shut every connection down, join every thread."""
        self._stop.set()
        self._acceptor.join(timeout=5)
        self._listener.close()
        with self._lock:
            sockets = list(self._sockets)
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        deadline = time.monotonic() + 10
        for thread in list(self._threads):
            thread.join(timeout=max(0.0, deadline - time.monotonic()))

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def wait_stop(self, seconds: float) -> bool:
        return self._stop.wait(seconds)

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Wait until every connection thread has finished; False if some did not."""
        deadline = time.monotonic() + timeout
        for thread in list(self._threads):
            thread.join(timeout=max(0.0, deadline - time.monotonic()))
        return not any(t.is_alive() for t in self._threads)

    def count_sent(self, n: int) -> None:
        with self._lock:
            self.bytes_sent += n

    @property
    def request_times(self) -> list[float]:
        return [r.time for r in self.requests]

    # ------------------------------------------------------------ internals

    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            try:
                sock, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                number = self.connections
                self.connections += 1
                self._sockets.add(sock)
            thread = threading.Thread(
                target=self._serve, args=(sock, number), daemon=True
            )
            self._threads.append(thread)
            thread.start()

    def _serve(self, sock: socket.socket, number: int) -> None:
        try:
            sock.settimeout(SEND_TIMEOUT)
            if self._tls is not None:
                with self._lock:
                    self.handshakes += 1
                try:
                    tls_sock = self._tls.wrap_socket(sock, server_side=True)
                except (ssl.SSLError, OSError):
                    return  # the client refused our certificate
                with self._lock:
                    self._sockets.add(tls_sock)
                sock = tls_sock
            conn = Connection(self, sock, number)
            buffer = bytearray()
            while not self._stop.is_set():
                request = self._read_request(sock, buffer, number)
                if request is None:
                    return
                handler = self._script[min(request.index, len(self._script) - 1)]
                try:
                    handler(conn, request)
                except ClientGone:
                    return
                except Exception:
                    self.errors.append(traceback.format_exc())
                    return
                if not conn.keep_alive:
                    return
        finally:
            with contextlib.suppress(OSError):
                sock.close()

    def _recv_into(
        self, sock: socket.socket, buffer: bytearray, deadline: float
    ) -> bool:
        """Read more bytes; False at EOF, on error, on stop or past `deadline`."""
        while not self._stop.is_set() and time.monotonic() < deadline:
            try:
                readable, _, _ = select.select([sock], [], [], _POLL)
            except (OSError, ValueError):
                return False
            if not readable and not (
                isinstance(sock, ssl.SSLSocket) and sock.pending()
            ):
                continue
            try:
                data = sock.recv(_SLICE)
            except ssl.SSLWantReadError:
                continue
            except (OSError, ValueError):
                return False
            if not data:
                return False
            buffer += data
            return True
        return False

    def _read_request(
        self, sock: socket.socket, buffer: bytearray, number: int
    ) -> Request | None:
        deadline = time.monotonic() + IDLE_BETWEEN_REQUESTS
        while b"\r\n\r\n" not in buffer:
            if len(buffer) > _HEAD_LIMIT or not self._recv_into(sock, buffer, deadline):
                return None
        end = buffer.index(b"\r\n\r\n")
        lines = bytes(buffer[:end]).decode("latin-1").split("\r\n")
        del buffer[: end + 4]
        method, target, _version = [*lines[0].split(" "), "", ""][:3]
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            key = name.strip().lower()
            value = value.strip()
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
        if "chunked" in headers.get("transfer-encoding", "").lower():
            body = self._read_chunked(sock, buffer, deadline)
            if body is None:
                return None
        else:
            length = int(headers.get("content-length", "0") or "0")
            while len(buffer) < length:
                if not self._recv_into(sock, buffer, deadline):
                    return None
            body = bytes(buffer[:length])
            del buffer[:length]
        with self._lock:
            request = Request(
                index=len(self.requests),
                connection=number,
                time=time.monotonic(),
                method=method,
                target=target,
                headers=headers,
                body=body,
            )
            self.requests.append(request)
        return request

    def _read_chunked(
        self, sock: socket.socket, buffer: bytearray, deadline: float
    ) -> bytes | None:
        body = bytearray()
        while True:
            while b"\r\n" not in buffer:
                if not self._recv_into(sock, buffer, deadline):
                    return None
            end = buffer.index(b"\r\n")
            size = int(bytes(buffer[:end]).split(b";")[0] or b"0", 16)
            del buffer[: end + 2]
            while len(buffer) < size + 2:
                if not self._recv_into(sock, buffer, deadline):
                    return None
            body += buffer[:size]
            del buffer[: size + 2]
            if size == 0:
                return bytes(body)


# ------------------------------------------------------------------ framing


def _header_items(
    headers: Mapping[str, str] | Iterable[tuple[str, str]],
) -> list[tuple[str, str]]:
    if hasattr(headers, "items"):
        return list(headers.items())  # type: ignore[union-attr]
    return list(headers)


def head(
    status: int,
    headers: Mapping[str, str] | Iterable[tuple[str, str]] = (),
    *,
    reason: str | None = None,
) -> bytes:
    """A status line and headers, exactly as given (nothing is added)."""
    lines = [f"HTTP/1.1 {status} {reason or REASONS.get(status, 'Whatever')}"]
    lines += [f"{name}: {value}" for name, value in _header_items(headers)]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def chunk(data: bytes) -> bytes:
    """One chunk of a chunked body (an empty `data` would end the body)."""
    return b"%x\r\n%b\r\n" % (len(data), data)


LAST_CHUNK = b"0\r\n\r\n"


def gzip_bytes(data: bytes) -> bytes:
    return gzip.compress(data, compresslevel=6)


@functools.cache
def gzip_bomb(prefix: bytes, size: int, filler: bytes = b"a") -> bytes:
    """A gzip member that inflates to `prefix` then `filler` up to `size` bytes.

    Cached: compressing hundreds of MiB takes a second or two.
    """
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    parts = [compressor.compress(prefix)]
    block = filler * (1024 * 1024 // len(filler))
    remaining = size - len(prefix)
    while remaining > 0:
        parts.append(compressor.compress(block[: min(len(block), remaining)]))
        remaining -= len(block)
    parts.append(compressor.flush())
    return b"".join(parts)


def response(
    status: int,
    body: bytes,
    *,
    content_type: str = "application/json",
    headers: Mapping[str, str] | Iterable[tuple[str, str]] = (),
    encoding: str | None = None,
    chunked: bool = False,
) -> bytes:
    """A whole response; `encoding` only labels the body (encode it yourself)."""
    items = [("Content-Type", content_type), *_header_items(headers)]
    if encoding:
        items.append(("Content-Encoding", encoding))
    if chunked:
        items.append(("Transfer-Encoding", "chunked"))
        framed = (chunk(body) if body else b"") + LAST_CHUNK
        return head(status, items) + framed
    items.append(("Content-Length", str(len(body))))
    return head(status, items) + body


def json_response(
    status: int,
    obj: Any,
    headers: Mapping[str, str] | Iterable[tuple[str, str]] = (),
    *,
    gzip_body: bool = False,
    chunked: bool = False,
) -> bytes:
    body = json.dumps(obj).encode()
    if gzip_body:
        body = gzip_bytes(body)
    return response(
        status,
        body,
        headers=headers,
        encoding="gzip" if gzip_body else None,
        chunked=chunked,
    )


def text_response(
    status: int,
    text: str | bytes,
    *,
    content_type: str = "text/plain; charset=utf-8",
    headers: Mapping[str, str] | Iterable[tuple[str, str]] = (),
) -> bytes:
    body = text.encode() if isinstance(text, str) else text
    return response(status, body, content_type=content_type, headers=headers)


def sse_event(event: Mapping[str, Any] | str | bytes) -> bytes:
    """`data: <json>\\n\\n`; a str or bytes event is sent as the data verbatim."""
    if isinstance(event, bytes):
        data = event
    elif isinstance(event, str):
        data = event.encode()
    else:
        data = json.dumps(event).encode()
    return b"data: " + data + b"\n\n"


DONE = b"data: [DONE]\n\n"


def sse_body(
    events: Iterable[Mapping[str, Any] | str | bytes], *, done: bool = True
) -> bytes:
    return b"".join(sse_event(e) for e in events) + (DONE if done else b"")


SSE_HEADERS = (("Content-Type", "text/event-stream"), ("Cache-Control", "no-cache"))


def sse_head(*, chunked: bool = True, headers: Iterable[tuple[str, str]] = ()) -> bytes:
    """The head of a 200 SSE response; without `chunked`, the body ends at close."""
    items = [*SSE_HEADERS, *headers]
    items.append(
        ("Transfer-Encoding", "chunked") if chunked else ("Connection", "close")
    )
    return head(200, items)


def sse_response(
    events: Iterable[Mapping[str, Any] | str | bytes],
    *,
    done: bool = True,
    chunked: bool = True,
    gzip_body: bool = False,
    headers: Iterable[tuple[str, str]] = (),
) -> bytes:
    body = sse_body(events, done=done)
    if gzip_body:
        body = gzip_bytes(body)
    return response(
        200,
        body,
        content_type="text/event-stream",
        headers=headers,
        encoding="gzip" if gzip_body else None,
        chunked=chunked,
    )


# ------------------------------------------------------------------ payloads

RESPONSE_ID = "chatcmpl-hostile-0001"


def completion(
    content: str | None = "Hello world",
    *,
    reasoning: str | None = "Greet.",
    tool_calls: list[dict[str, Any]] | None = None,
    finish_reason: str = "stop",
) -> dict[str, Any]:
    """A vLLM-shaped chat completion (protocol.md §2.b)."""
    message: dict[str, Any] = {
        "role": "assistant",
        "content": content,
        "reasoning_content": reasoning,
        "tool_calls": tool_calls or [],
    }
    return {
        "id": RESPONSE_ID,
        "object": "chat.completion",
        "created": 1770614085,
        "model": "gpt_oss_120b",
        "choices": [
            {
                "index": 0,
                "message": message,
                "logprobs": None,
                "finish_reason": finish_reason,
            }
        ],
        "usage": {"prompt_tokens": 5, "total_tokens": 9, "completion_tokens": 4},
    }


def delta_event(
    delta: dict[str, Any], finish_reason: str | None = None
) -> dict[str, Any]:
    """One chunk event (protocol.md §2.c)."""
    return {
        "id": RESPONSE_ID,
        "object": "chat.completion.chunk",
        "created": 1770614085,
        "model": "gpt_oss_120b",
        "choices": [
            {
                "index": 0,
                "delta": delta,
                "logprobs": None,
                "finish_reason": finish_reason,
            }
        ],
    }


USAGE_EVENT = {
    "id": RESPONSE_ID,
    "object": "chat.completion.chunk",
    "created": 1770614085,
    "model": "gpt_oss_120b",
    "choices": [],
    "usage": {"prompt_tokens": 5, "total_tokens": 9, "completion_tokens": 4},
}


def answer_events(pieces: Sequence[str] = ("Hello", " world")) -> list[dict[str, Any]]:
    """Role chunk, one reasoning delta, `pieces` as content, finish, usage."""
    events = [delta_event({"role": "assistant", "content": ""})]
    events.append(delta_event({"reasoning_content": "Greet."}))
    events += [delta_event({"content": piece}) for piece in pieces]
    events.append(delta_event({}, finish_reason="stop"))
    events.append(USAGE_EVENT)
    return events


# ------------------------------------------------------------------ handlers


def send(data: bytes) -> Callable[[Connection, Request], None]:
    """A handler that writes `data` and keeps the connection."""

    def handler(conn: Connection, _request: Request) -> None:
        conn.send(data)

    return handler


def send_then_close(data: bytes) -> Callable[[Connection, Request], None]:
    """A handler that writes `data`, then closes the connection."""

    def handler(conn: Connection, _request: Request) -> None:
        conn.send(data)
        conn.close()

    return handler


def answer(conn: Connection, request: Request) -> None:
    """A well-behaved reply: SSE "Hello world" for a stream, else the JSON."""
    if request.wants_stream:
        conn.send(sse_response(answer_events()))
    else:
        conn.send(json_response(200, completion()))


def reset(conn: Connection, _request: Request) -> None:
    """Read the request, then abort the connection (TCP RST), sending nothing."""
    conn.reset()
