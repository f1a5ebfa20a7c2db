"""Validation errors worded as the release played words them (protocol §2.e).

``_validate`` reports a pydantic error as an ``Invalid``; ``worded`` writes the
body that release sends: the ``1 validation error:`` text with FastAPI's location
tail up to 0.25, ``param`` from 0.15 for the model validators that name theirs
(`` (parameter=…)`` in the text), ``body.<field>`` for field errors from 0.26,
and 0.33's ``BadRequestError`` without the pydantic wrapper for named validators.
A union's errors (``ApiError.union``) are worded the same way, one line each, as
``N validation errors:``; 0.33 lists the first ``validation_errors_listed``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from langchain_gptoss.testing._errors import ApiError, vllm_error

if TYPE_CHECKING:
    from langchain_gptoss.testing._errors import Invalid
    from langchain_gptoss.testing._releases import Profile

# The FastAPI that vLLM <= 0.25 resolves (0.165.0 in the golden runs) appends the
# route's place to a validation message; releases pinning fastapi<0.137 (0.26+) do
# not. The line differs per release and install: this is 0.20.1's, for all of them.
_FASTAPI_TAIL = (
    '\n\n  File "<site-packages>/vllm/entrypoints/utils.py", line 40, in '
    "create_chat_completion\n    POST /v1/chat/completions {errors}"
)


class VLLMValidationError(ValueError):
    """Stands for vLLM's own error class, whose ``repr`` the message echoes."""


def _input(value: Any, summarised: bool) -> Any:
    """0.33 echoes a dict input as ``'<dict of N items>'`` and null as ``'None'``."""
    if summarised and isinstance(value, dict):
        return f"<dict of {len(value)} items>"
    if summarised and value is None:
        return "None"
    return value


def worded(error: ApiError, release: Profile) -> ApiError:
    """Return ``error`` worded for ``release`` (unchanged if not a validation one)."""
    if error.union:
        return ApiError(400, _listed(error.union, release))
    found = error.invalid
    if found is None:
        return error
    named = found.param is not None and found.param in release.named_validators
    if found.kind == "value_error" and named and release.error_style == "typed":
        message = f"{found.msg} (parameter={found.param})"
        return ApiError(400, vllm_error(message, "BadRequestError", 400, found.param))
    return ApiError(400, _body(found, release, named=named))


def _dotted(found: Invalid) -> str:
    return ".".join(str(part) for part in ("body", *found.loc[: found.cut]))


def _detail(found: Invalid, release: Profile) -> dict[str, Any]:
    typed = release.error_style == "typed"
    detail: dict[str, Any] = {
        "type": found.kind,
        "loc": _dotted(found) if typed else ("body", *found.loc),
        "msg": found.msg,
        "input": _input(found.value, typed),
    }
    if found.ctx:
        detail["ctx"] = found.ctx
    return detail


def _message(details: list[dict[str, Any]], release: Profile) -> str:
    """The count line, one line per error, FastAPI's tail up to 0.25."""
    count = len(details)
    shown = details[: release.validation_errors_listed]
    lines = "".join(f"\n  {detail}" for detail in shown)
    if count > len(shown):
        lines += f"\n  ...and {count - len(shown)} more errors"
    message = f"{count} validation error{'s' if count > 1 else ''}:{lines}"
    if release.fastapi_location_tail:
        message += _FASTAPI_TAIL.format(errors=details)
    return message


def _listed(errors: tuple[Invalid, ...], release: Profile) -> dict[str, Any]:
    details = [_detail(found, release) for found in errors]
    param = (
        _dotted(errors[0]) if release.error_style in {"body_param", "typed"} else None
    )
    return vllm_error(_message(details, release), "Bad Request", 400, param)


def _body(found: Invalid, release: Profile, *, named: bool) -> dict[str, Any]:
    detail = _detail(found, release)
    if found.kind == "value_error":
        suffix = f" (parameter={found.param})" if named else ""
        detail["msg"] = f"Value error, {found.msg}{suffix}"
        cause = VLLMValidationError if named else ValueError
        detail["ctx"] = {"error": cause(found.msg)}
    message = _message([detail], release)
    if named and release.error_style != "plain":
        param: str | None = found.param
    elif release.error_style in {"body_param", "typed"}:
        param = _dotted(found)
    else:
        param = None
    return vllm_error(message, "Bad Request", 400, param)
