"""`assert_no_leak`: prove that an error (and its logs) never shows a secret.

Error reporters print more than the message: the chained exceptions, and the
locals of every frame in their tracebacks. So a secret counts as leaked when any
8 characters of it appear in any of those. The catching frame is part of a
traceback too: keep the secret out of the test's own locals (read it from a
module constant inside the call, as in `ChatGptOss(api_key=TOKEN)`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from types import TracebackType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from warnings import WarningMessage

PIECE = 8


def assert_no_leak(
    exc: BaseException,
    secret: str,
    *,
    records: Iterable[logging.LogRecord] = (),
    warnings: Iterable[WarningMessage] = (),
) -> None:
    """Fail, naming every place found, if any 8 characters of `secret` show.

    Searched: `str`, `repr`, `args`, notes, attributes and (for pydantic)
    `errors()` of `exc` and of every exception chained to it (`__cause__`,
    `__context__`, exception groups); the `repr` of every local of every frame
    in their tracebacks; log records (message, args, every attribute, and their
    `exc_info` as above); warnings (message and its args). A `repr` that raises
    is skipped, never fatal. The failure message masks the secret.

    Raises:
        ValueError: For an empty secret, which would match everything.
    """
    if not secret:
        msg = "assert_no_leak needs a non-empty secret."
        raise ValueError(msg)
    pieces = _pieces(secret)
    found = []
    for where, text in _surfaces(exc, records, warnings):
        offset = next((o for o, piece in pieces if piece in text), None)
        if offset is not None:
            found.append(
                f"  {where} (characters {offset}-{offset + len(pieces[0][1]) - 1})"
            )
    if found:
        masked = f"{secret[:2]}…({len(secret)} characters)"
        places = "\n".join(found)
        msg = f"secret {masked} leaked in {len(found)} place(s):\n{places}"
        raise AssertionError(msg)


def _pieces(secret: str) -> list[tuple[int, str]]:
    if len(secret) <= PIECE:
        return [(0, secret)]
    return [(i, secret[i : i + PIECE]) for i in range(len(secret) - PIECE + 1)]


def _safe(render: Callable[[Any], str], value: Any) -> str:
    """`render(value)`, or "" when that raises: a broken repr must not end the search."""
    try:
        return render(value)
    except Exception:
        return ""


def _surfaces(
    exc: BaseException,
    records: Iterable[logging.LogRecord],
    warnings: Iterable[WarningMessage],
) -> Iterator[tuple[str, str]]:
    yield from _exception_surfaces(exc, "raised")
    for index, record in enumerate(records):
        where = f"log record {index} ({record.name}, {record.levelname})"
        yield f"{where} getMessage()", _safe(logging.LogRecord.getMessage, record)
        for key, value in vars(record).items():
            yield f"{where} .{key}", _safe(repr, value)
        if record.exc_info and record.exc_info[1] is not None:
            yield from _exception_surfaces(record.exc_info[1], f"{where} exc_info")
    for index, warning in enumerate(warnings):
        where = f"warning {index} ({warning.category.__name__})"
        yield f"{where} message", _safe(str, warning.message)
        yield f"{where} repr", _safe(repr, warning.message)
        args = getattr(warning.message, "args", ())
        yield f"{where} args", _safe(repr, args)


def _exception_surfaces(root: BaseException, label: str) -> Iterator[tuple[str, str]]:
    seen: set[int] = set()
    pending: list[tuple[str, BaseException]] = [(label, root)]
    while pending:
        path, exc = pending.pop(0)
        if id(exc) in seen:
            continue
        seen.add(id(exc))
        name = f"{path} {type(exc).__name__}"
        yield f"{name} str()", _safe(str, exc)
        yield f"{name} repr()", _safe(repr, exc)
        for index, arg in enumerate(exc.args):
            yield f"{name} args[{index}]", _safe(repr, arg)
        yield f"{name} __notes__", _safe(repr, getattr(exc, "__notes__", []))
        for key, value in _attributes(exc):
            yield f"{name} .{key}", _safe(repr, value)
        errors = getattr(exc, "errors", None)
        if callable(errors):  # pydantic's ValidationError: inputs and ctx
            yield f"{name} errors()", _safe(lambda call: repr(call()), errors)
        yield from _traceback_surfaces(exc.__traceback__, name)
        for link, chained in (
            ("__cause__", exc.__cause__),
            ("__context__", exc.__context__),
        ):
            if chained is not None:
                pending.append((f"{name}.{link} ->", chained))
        for index, member in enumerate(getattr(exc, "exceptions", ())):
            if isinstance(member, BaseException):
                pending.append((f"{name}.exceptions[{index}] ->", member))


def _attributes(exc: BaseException) -> list[tuple[str, Any]]:
    try:
        return list(vars(exc).items())
    except TypeError:  # no __dict__
        return []


def _traceback_surfaces(
    tb: TracebackType | None, name: str
) -> Iterator[tuple[str, str]]:
    while tb is not None:
        code = tb.tb_frame.f_code
        frame = f"{code.co_name} ({code.co_filename.rsplit('/', 1)[-1]}:{tb.tb_lineno})"
        for key, value in list(tb.tb_frame.f_locals.items()):
            yield (
                f"{name} traceback, local {key!r} of {frame}",
                _safe(repr, value),
            )
        tb = tb.tb_next
