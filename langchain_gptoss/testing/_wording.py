"""Validation errors worded as the release played words them (protocol §2.e).

``_validate`` reports a pydantic error as an ``Invalid``; ``worded`` writes the
body that release sends: the ``1 validation error:`` text with FastAPI's location
tail up to 0.25, ``param`` from 0.15 for the model validators that name theirs
(`` (parameter=…)`` in the text), ``body.<field>`` for field errors from 0.26,
and 0.33's ``BadRequestError`` without the pydantic wrapper for named validators.
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
    "create_chat_completion\n    POST /v1/chat/completions [{error}]"
)


class VLLMValidationError(ValueError):
    """Stands for vLLM's own error class, whose ``repr`` the message echoes."""


def _input(value: Any, summarised: bool) -> Any:
    """0.33's pydantic echoes a dict input as ``'<dict of N items>'``."""
    if summarised and isinstance(value, dict):
        return f"<dict of {len(value)} items>"
    return value


def worded(error: ApiError, release: Profile) -> ApiError:
    """Return ``error`` worded for ``release`` (unchanged if not a validation one)."""
    found = error.invalid
    if found is None:
        return error
    named = found.param is not None and found.param in release.named_validators
    if found.kind == "value_error" and named and release.error_style == "typed":
        message = f"{found.msg} (parameter={found.param})"
        return ApiError(400, vllm_error(message, "BadRequestError", 400, found.param))
    return ApiError(400, _body(found, release, named=named))


def _body(found: Invalid, release: Profile, *, named: bool) -> dict[str, Any]:
    typed = release.error_style == "typed"
    dotted = ".".join(str(part) for part in ("body", *found.loc))
    detail: dict[str, Any] = {
        "type": found.kind,
        "loc": dotted if typed else ("body", *found.loc),
        "msg": found.msg,
        "input": _input(found.value, typed),
    }
    ctx = found.ctx
    if found.kind == "value_error":
        suffix = f" (parameter={found.param})" if named else ""
        detail["msg"] = f"Value error, {found.msg}{suffix}"
        cause = VLLMValidationError if named else ValueError
        ctx = {"error": cause(found.msg)}
    if ctx:
        detail["ctx"] = ctx
    message = f"1 validation error:\n  {detail}"
    if release.fastapi_location_tail:
        message += _FASTAPI_TAIL.format(error=detail)
    if named and release.error_style != "plain":
        param: str | None = found.param
    elif release.error_style in {"body_param", "typed"}:
        param = dotted
    else:
        param = None
    return vllm_error(message, "Bad Request", 400, param)
