"""Keep the auth token out of every message built from a server's reply (pure).

A server that echoes request headers can put the token, or any part of it, into a
body we quote. Removing only exact copies is not enough: a cut excerpt can keep
half of it, and JSON or URL escaping changes its spelling. So the redactor removes
every run of `WINDOW` or more characters that occurs in the token, in any of its
common spellings, and it holds only hashes of those runs, never the token's text.
"""

from __future__ import annotations

import json
import traceback
from contextlib import contextmanager
from typing import TYPE_CHECKING
from urllib.parse import quote

from langchain_gptoss.errors import GptOssError

if TYPE_CHECKING:
    from collections.abc import Iterator

WINDOW = 8
MASK = "***"


class Redactor:
    """Masks every `WINDOW`-character piece of a secret found in a text."""

    __slots__ = ("_hashes", "_width")

    def __init__(self, secret: str = "") -> None:
        """Remember hashes of the secret's pieces (empty secret: redacts nothing)."""
        spellings = {
            secret,
            json.dumps(secret)[1:-1],
            json.dumps(secret)[1:-1].replace("/", "\\/"),
            quote(secret, safe=""),
        }
        self._width = min(WINDOW, len(secret))
        width = self._width
        self._hashes = frozenset(
            hash(spelling[i : i + width])
            for spelling in spellings
            for i in range(len(spelling) - width + 1)
        )

    def __repr__(self) -> str:
        """Never shows the secret, not even its length."""
        return "Redactor(***)"

    def __call__(self, text: str) -> str:
        """`text` with every piece of the secret replaced by `***`."""
        width, hashes = self._width, self._hashes
        if not width or len(text) < width:
            return text
        spans: list[list[int]] = []
        for start in range(len(text) - width + 1):
            if hash(text[start : start + width]) in hashes:
                if spans and spans[-1][1] >= start:
                    spans[-1][1] = start + width
                else:
                    spans.append([start, start + width])
        if not spans:
            return text
        pieces, end = [], 0
        for start, stop in spans:
            pieces += [text[end:start], MASK]
            end = stop
        pieces.append(text[end:])
        return "".join(pieces)

    def excerpt(self, text: str, limit: int) -> str:
        """At most `limit` characters of `text`, redacted before it is cut.

        Cutting first could leave part of the secret at the edge; the window
        read is `WINDOW` characters longer so a piece across the cut is seen.
        """
        return self(text[: limit + WINDOW])[:limit]


NO_SECRET = Redactor()


def forget_locals(error: BaseException) -> None:
    """Clear the locals of the finished frames in the tracebacks of `error`'s chain.

    Those frames held the request headers, the raw body or a server's echo of
    the token; tools that record locals (Sentry, `pytest --showlocals`, rich)
    would keep them. File, line and function of every frame remain; frames still
    running (the caller's) are left alone.
    """
    seen: set[int] = set()
    pending: list[BaseException] = [error]
    while pending:
        exc = pending.pop()
        if id(exc) in seen:
            continue
        seen.add(id(exc))
        traceback.clear_frames(exc.__traceback__)
        pending += [e for e in (exc.__cause__, exc.__context__) if e is not None]


@contextmanager
def locals_forgotten() -> Iterator[None]:
    """Apply `forget_locals` to every package error that leaves the block."""
    try:
        yield
    except GptOssError as error:
        forget_locals(error)
        raise
