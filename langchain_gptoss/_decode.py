"""Response bodies: undo Content-Encoding in bounded steps, and read within limits.

httpx decompresses each network chunk in one call, so 64 KiB of gzip can become
64 MB at once, and `gzip, gzip` squares that. Here every decompression step yields
at most `STEP` bytes, so the limits the caller checks between steps hold in memory
too. Only the encodings the client asks for are accepted (`ACCEPT_ENCODING`).
"""

from __future__ import annotations

import zlib
from typing import TYPE_CHECKING, Any, Protocol

from langchain_gptoss.errors import GptOssResponseTooLargeError

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Mapping

ACCEPT_ENCODING = "gzip, deflate"
STEP = 65_536
# The longest answer gpt-oss can give fills its 131,072-token context; 128 bytes
# a token (and a logprob entry) is far above what JSON spends on one.
_CONTEXT_TOKENS = 131_072
_BYTES_PER_ENTRY = 128


def response_limit(params: Mapping[str, Any]) -> int:
    """The default `max_response_bytes` for a request with these body fields.

    Room for `n` answers of the whole context, each token with its text and,
    when asked for, its logprob entries (`top_logprobs` + 1, and the same for
    vLLM's `prompt_logprobs`): 16 MiB for a plain answer.
    """
    entries = 1
    if params.get("logprobs"):
        entries += 1 + _whole(params.get("top_logprobs"))
    if params.get("prompt_logprobs") is not None:
        entries += 1 + _whole(params.get("prompt_logprobs"))
    choices = max(1, _whole(params.get("n")))
    return _CONTEXT_TOKENS * _BYTES_PER_ENTRY * entries * choices


def _whole(value: Any) -> int:
    try:
        return max(0, int(value or 0))
    except (TypeError, ValueError, OverflowError):
        return 0


class BodyDecodingError(ValueError):
    """The body does not match its Content-Encoding, or uses an unknown one."""


class _Decompressor(Protocol):
    @property
    def unconsumed_tail(self) -> bytes: ...

    def decompress(self, data: bytes, max_length: int = ...) -> bytes: ...


class Decoder:
    """Undoes a `Content-Encoding` (one or several, as listed) step by step."""

    __slots__ = ("_stages",)

    def __init__(self, content_encoding: str | None) -> None:
        """Prepare for the encodings named in the header, applied left to right.

        Raises:
            BodyDecodingError: For an encoding the client did not ask for.
        """
        names = [
            name.strip().lower()
            for name in (content_encoding or "").split(",")
            if name.strip()
        ]
        self._stages: list[_Stage] = []
        for name in reversed(names):  # the last encoding applied is undone first
            if name == "identity":
                continue
            if name not in {"gzip", "x-gzip", "deflate"}:
                msg = (
                    f"The server used Content-Encoding {name!r}, which this client "
                    f"does not accept (it asks for {ACCEPT_ENCODING})."
                )
                raise BodyDecodingError(msg)
            self._stages.append(_Stage(name))

    @property
    def identity(self) -> bool:
        """Whether the body passes through unchanged."""
        return not self._stages

    def decode(self, raw: Iterable[bytes]) -> Iterator[bytes]:
        """The decoded bytes of `raw`, in pieces of at most `STEP` bytes."""
        pieces: Iterable[bytes] = raw
        for stage in self._stages:
            pieces = stage.run(pieces)
        return iter(pieces)

    def feed(self, piece: bytes) -> Iterator[bytes]:
        """Decode one raw piece (for async bodies, which arrive one at a time)."""
        return self.decode((piece,))

    def finish(self) -> None:
        """At the end of the body: check that every compressed stream was whole.

        Raises:
            BodyDecodingError: When one of them was cut short.
        """
        for stage in self._stages:
            stage.check_end()


class _Stage:
    __slots__ = ("_deflate_tried", "_name", "_z")

    def __init__(self, name: str) -> None:
        self._name = name
        # gzip: a gzip header; deflate: zlib's header first, raw deflate if not.
        wbits = zlib.MAX_WBITS | 16 if name != "deflate" else zlib.MAX_WBITS
        self._z: _Decompressor = zlib.decompressobj(wbits)
        self._deflate_tried = name != "deflate"

    def run(self, pieces: Iterable[bytes]) -> Iterator[bytes]:
        for piece in pieces:
            data = piece
            # Defensive: a step that comes back full gets one more call even when
            # no input is left (zlib's inflate can stop with output owed). No case
            # was found where CPython needed it; it costs one call a full step.
            while True:
                try:
                    out = self._z.decompress(data, STEP)
                except zlib.error as exc:
                    if not self._deflate_tried:  # some servers send raw deflate
                        self._deflate_tried = True
                        self._z = zlib.decompressobj(-zlib.MAX_WBITS)
                        continue
                    msg = f"The body is not valid {self._name} data ({exc})."
                    raise BodyDecodingError(msg) from None
                self._deflate_tried = True
                data = self._z.unconsumed_tail
                if out:
                    yield out
                if not data and len(out) < STEP:
                    break

    def check_end(self) -> None:
        if not getattr(self._z, "eof", True):
            msg = f"The {self._name} body ended before its compressed stream did."
            raise BodyDecodingError(msg)


class BodyLimit:
    """Collects a body's decoded bytes up to a limit."""

    __slots__ = ("_parts", "_setting", "_size", "limit", "truncate")

    def __init__(self, limit: int, setting: str, *, truncate: bool = False) -> None:
        """Collect at most `limit` bytes; past it, raise (or stop, if `truncate`)."""
        self.limit = limit
        self.truncate = truncate
        self._setting = setting
        self._parts: list[bytes] = []
        self._size = 0

    def add(self, piece: bytes) -> bool:
        """Take a piece; return False once a truncating limit is reached.

        Raises:
            GptOssResponseTooLargeError: Past the limit, unless truncating.
        """
        room = self.limit - self._size
        if len(piece) > room:
            if not self.truncate:
                raise GptOssResponseTooLargeError(
                    f"The response body is larger than {self._setting}="
                    f"{self.limit:,} bytes; the rest was not read. Raise "
                    f"{self._setting} if the answer is legitimately this large.",
                    limit=self.limit,
                    setting=self._setting,
                )
            piece = piece[:room]
        self._parts.append(piece)
        self._size += len(piece)
        return not self.truncate or self._size < self.limit

    def content(self) -> bytes:
        """Everything collected so far, as one bytes object."""
        return self._parts[0] if len(self._parts) == 1 else b"".join(self._parts)
