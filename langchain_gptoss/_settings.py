"""Checks on `ChatGptOss` settings, and construction errors that hold no token.

Pure but for `init_hiding_inputs`, which runs pydantic's validation and rebuilds
its error, and `checked_api_key`, which normalises the model's token field.
"""

from __future__ import annotations

import math
import typing
from typing import TYPE_CHECKING, Any

import httpx
from pydantic import BaseModel, SecretStr, ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError, core_schema

from langchain_gptoss._attempt import DEFAULT_TIMEOUT
from langchain_gptoss._transport import DEFAULT_MAX_CONNECTIONS

if TYPE_CHECKING:
    from langchain_gptoss.chat_models import ChatGptOss

# What a construction error shows instead of an input, which may hold the token.
_HIDDEN_INPUT = "[hidden]"
_PYDANTIC_ERROR_TYPES = frozenset(typing.get_args(core_schema.ErrorType))


def init_hiding_inputs(
    cls: type[BaseModel], model: BaseModel, data: dict[str, Any]
) -> None:
    """Run pydantic's `__init__`, re-raising any error without the token.

    A `ValidationError` carries the whole input (token included) in its errors,
    and its traceback runs through frames whose locals hold the input too. So
    the error is rebuilt without inputs and raised from here, after the kwargs
    dict (this call's own) and the half-built model are emptied: they are what
    the frames of the new traceback still reference.
    """
    try:
        super(cls, model).__init__(**data)
    except ValidationError as exc:
        error: Exception = _without_inputs(exc)
    except Exception as exc:
        # Not raised by a validator (pydantic wraps those), so unexpected: keep
        # the type and message, drop the frames that saw the input.
        error = exc.with_traceback(None)
        error.__cause__ = error.__context__ = None
    else:
        return
    data.clear()
    vars(model).clear()
    raise error


def _without_inputs(error: ValidationError) -> ValidationError:
    """A copy of `error` whose line errors show no input."""
    details: list[InitErrorDetails] = []
    for line in error.errors(include_url=False):
        detail: InitErrorDetails
        if line["type"] not in _PYDANTIC_ERROR_TYPES:
            detail = {
                "type": PydanticCustomError(line["type"], line["msg"]),
                "loc": line["loc"],
                "input": _HIDDEN_INPUT,
            }
            details.append(detail)
            continue
        detail = {"type": line["type"], "loc": line["loc"], "input": _HIDDEN_INPUT}
        ctx = dict(line.get("ctx") or {})
        cause = ctx.get("error")
        if isinstance(cause, BaseException):
            # A fresh exception: the original's traceback holds validator frames.
            kind = AssertionError if isinstance(cause, AssertionError) else ValueError
            ctx["error"] = kind(str(cause))
        if ctx:
            detail["ctx"] = ctx
        details.append(detail)
    return ValidationError.from_exception_data(error.title, details, hide_input=True)


def checked_api_key(model: ChatGptOss) -> SecretStr:
    """Make `model.api_key` a usable token and return it, never unwrapped in a local.

    Raises:
        ValueError: When it is missing, of the wrong type, or holds characters
            that a bearer token (an HTTP header) cannot carry.
    """
    # model_copy(update=...) does not validate: wrap a raw str, so that reprs
    # mask it, and drop any other type, so that none show it.
    if isinstance(typing.cast("object", model.api_key), str):
        model.api_key = SecretStr(typing.cast("str", model.api_key))
    elif model.api_key is not None and not isinstance(model.api_key, SecretStr):
        kind = type(model.api_key).__name__
        model.api_key = None
        msg = f"api_key must be a str or SecretStr with the TIR auth token; got {kind}."
        raise ValueError(msg)
    if model.api_key is None or not model.api_key.get_secret_value().strip():
        msg = (
            "No TIR auth token: pass api_key=... to ChatGptOss, or set "
            "E2E_TIR_ACCESS_TOKEN (or TIR_API_TOKEN)."
        )
        raise ValueError(msg)
    # A token read from a file or .env often ends in a newline, which would
    # make an illegal header (and the error naming it would print the token).
    if model.api_key.get_secret_value() != model.api_key.get_secret_value().strip():
        model.api_key = SecretStr(model.api_key.get_secret_value().strip())
    length = len(model.api_key.get_secret_value())
    for position, char in enumerate(model.api_key.get_secret_value()):
        if "!" <= char <= "~":
            continue
        kind = (
            "a space"
            if char.isspace()
            else "a non-ASCII character"
            if char > "\x7f"
            else "a control character"
        )
        msg = (
            f"api_key has {kind} at position {position} of {length}, which a TIR "
            "auth token never has (an HTTP header cannot carry it): copy the Auth "
            "Token from TIR again."
        )
        raise ValueError(msg)
    return model.api_key


def _positive_seconds(value: object) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value > 0
    )


def check_timeout(value: object) -> None:
    """Refuse a timeout httpx would reject only when a request is made.

    Raises:
        ValueError: Naming the part and what is allowed.
    """
    if isinstance(value, httpx.Timeout):
        for part in ("connect", "read", "write", "pool"):
            seconds = getattr(value, part)
            if seconds is not None and not _positive_seconds(seconds):
                msg = (
                    f"timeout's {part} part must be None (no limit) or a positive, "
                    f"finite number of seconds; got {seconds!r}."
                )
                raise ValueError(msg)
    elif value is not None and not _positive_seconds(value):
        default = DEFAULT_TIMEOUT
        msg = (
            "timeout must be a positive, finite number of seconds or an "
            f"httpx.Timeout; got {value!r}. Leave it out for the default "
            f"({default.read:g} s to read, {default.connect:g} s to connect)."
        )
        raise ValueError(msg)


def check_idle_timeout(value: object) -> None:
    """Refuse a stream idle timeout that is not None or positive, finite seconds.

    Raises:
        ValueError: Saying what is allowed.
    """
    if value is not None and not _positive_seconds(value):
        msg = (
            "stream_idle_timeout must be a positive, finite number of seconds, or "
            f"None for no limit; got {value!r}."
        )
        raise ValueError(msg)


def check_max_connections(value: object) -> None:
    """Refuse a connection limit that is not a whole number, 1 or more.

    Raises:
        ValueError: Saying what the setting limits and what is allowed.
    """
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        msg = (
            "max_connections must be a whole number of connections, 1 or more: the "
            f"most requests the model has in flight at once; got {value!r}. Pass "
            f"e.g. max_connections=100, or leave it out (default "
            f"{DEFAULT_MAX_CONNECTIONS})."
        )
        raise ValueError(msg)
