"""Pure request handling of vLLM's ``/v1/chat/completions``: bytes in, answer out."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from langchain_gptoss.testing._answer import Outcome, generate
from langchain_gptoss.testing._billing import prompt_tokens
from langchain_gptoss.testing._errors import ApiError, vllm_error
from langchain_gptoss.testing._releases import DEFAULT_RELEASE, Profile, profile
from langchain_gptoss.testing._render import (
    BodyKeys,
    Shape,
    StreamKeys,
    response_body,
    stream,
)
from langchain_gptoss.testing._steps import Play
from langchain_gptoss.testing._tools import Habits, model_reply
from langchain_gptoss.testing._types import Reply
from langchain_gptoss.testing._validate import invalid, validate

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from langchain_gptoss.testing._types import Era


@dataclass(frozen=True)
class Settings:
    """A snapshot of the emulator knobs that shape one answer."""

    model: str
    era: Era
    context_window: int
    token_ids_key: bool
    tokens_per_chunk: int
    force_include_usage: bool
    responder: Callable[[dict[str, Any]], Reply] | None
    habits: Habits = field(default_factory=Habits)
    tool_parser: bool = True
    leak_tool_args: bool = False
    tool_stream_quirks: bool | None = None
    """None: the release's row (``Profile.tool_stream_quirks``)."""
    profile: Profile = field(default_factory=lambda: profile(DEFAULT_RELEASE))
    """The vLLM release played (``vllm``) and what it does."""
    harmony_date: str | None = None
    """The date of vLLM's harmony system message (None: today)."""
    scripted: Callable[[], Reply | None] = lambda: None
    """The next scripted answer, taken only by a request that gets answered."""


@dataclass(frozen=True)
class JsonAnswer:
    """A successful non-streaming answer (HTTP 200, JSON body)."""

    body: bytes


@dataclass(frozen=True)
class StreamAnswer:
    """A successful streaming answer: the ``data`` payloads, ``[DONE]`` excluded.

    The payloads are made one at a time while the body is written.
    """

    events: Iterator[bytes]


def parse_body(raw: bytes) -> tuple[Any, ApiError | None]:
    """Decode a JSON body, or return the error FastAPI gives for it."""
    if not raw.strip():
        return None, invalid("missing", (), "Field required", None)
    try:
        return json.loads(raw), None
    except json.JSONDecodeError as exc:
        error = invalid(
            "json_invalid", (exc.pos,), "JSON decode error", {}, error=exc.msg
        )
        return None, error
    except ValueError:
        return None, invalid("json_invalid", (0,), "JSON decode error", {})


def _overflow(body: dict[str, Any], prompt: int, settings: Settings) -> ApiError | None:
    """The context errors of the harmony path; a too-large budget is clamped (§2.e)."""
    window, release = settings.context_window, settings.profile
    requested = body.get("max_completion_tokens") or body.get("max_tokens")
    if release.max_tokens_over_window_rejected and requested and requested > window:
        message = (
            f"max_tokens={requested}cannot be greater than max_model_len="
            f"max_total_tokens={window}. Please request fewer output tokens. "
            f"(parameter=max_tokens, value={requested})"
        )
        return ApiError(400, vllm_error(message, "BadRequestError", 400, "max_tokens"))
    if prompt < window:
        return None
    if release.overflow_message == "input_length":
        message = (
            f"Input length ({prompt}) exceeds model's maximum context length "
            f"({window})."
        )
        return ApiError(400, vllm_error(message, "BadRequestError", 400))
    left = window - prompt
    message = f"max_tokens must be at least 1, got {left}."
    if release.error_style == "plain":
        return ApiError(400, vllm_error(message, "BadRequestError", 400))
    message += f" (parameter=max_tokens, value={left})"
    return ApiError(400, vllm_error(message, "BadRequestError", 400, "max_tokens"))


def _replies(body: dict[str, Any], settings: Settings, n: int) -> list[Reply]:
    scripted = settings.scripted()
    if scripted is not None:
        return [scripted] * n
    if settings.responder is None:
        return [model_reply(body, index, settings.habits) for index in range(n)]
    reply = settings.responder(body)
    if not isinstance(reply, Reply):
        msg = f"responder returned {type(reply).__name__}, expected Reply"
        raise TypeError(msg)
    return [reply] * n


def _unparsed(outcome: Outcome, *, shown: bool) -> Outcome:
    """Without ``--tool-call-parser`` the call is not parsed (§2.b).

    ``shown``: its raw JSON becomes the ``content`` (streams; bodies up to 0.16),
    else ``content`` is null.
    """
    if not outcome.calls:
        return outcome
    content = [token for call in outcome.calls for token in call.tokens]
    return replace(
        outcome, content=content if shown else None, finish_reason="stop", calls=()
    )


def _release_outcome(
    outcome: Outcome, release: Profile, *, streamed: bool, parser: bool
) -> Outcome:
    """Apply the release's handling of unparsed calls and preambles (§2.b, §2.c).

    A stream is played from the tokens (``_steps``); only its finish reason
    comes from here.
    """
    if not parser and not streamed:
        outcome = _unparsed(outcome, shown=release.unparsed_call_in_content)
    elif not parser and release.stream_unparsed_call == "dropped" and outcome.calls:
        outcome = replace(outcome, finish_reason="stop", calls=())
    # The tool parser builds content from complete messages only (§2.b).
    cut = outcome.finish_reason == "length"
    if not streamed and parser and release.cut_answer_dropped and cut:
        outcome = replace(outcome, content=None)
    if not streamed and release.preamble_into_reasoning:
        return _preamble_in_reasoning(outcome)
    return outcome


def _preamble_in_reasoning(outcome: Outcome) -> Outcome:
    """Up to 0.12 all but the last message are joined into reasoning (§2.b)."""
    if not outcome.calls or outcome.content is None:
        return outcome
    reasoning = [*(outcome.reasoning or []), "\n", *outcome.content]
    return replace(outcome, reasoning=reasoning, content=None)


def _usage_flags(
    body: dict[str, Any], force: bool, release: Profile
) -> tuple[bool, bool]:
    """Mirror vLLM: ``{}`` means ``include_usage`` on up to 0.17, off from 0.18.

    A forced usage is ignored up to 0.11.0 and continuous from 0.17 (§2.c).
    """
    force = force and release.force_usage_honoured
    forced_continuous = force and release.forced_usage_continuous
    options = body.get("stream_options")
    if not isinstance(options, dict):
        return force, forced_continuous
    default = release.empty_stream_options_usage
    include = bool(options.get("include_usage", default)) or force
    continuous = bool(options.get("continuous_usage_stats")) or forced_continuous
    return include, include and continuous


def _body_keys(release: Profile) -> BodyKeys:
    return BodyKeys(
        fingerprint=release.system_fingerprint,
        prompt_text=release.prompt_text_key,
        response_extras=release.response_extra_keys,
        choice_extras=release.choice_extra_keys,
        drop_empty_tool_calls=release.empty_tool_calls_dropped,
        reasoning_tokens=release.reasoning_tokens_reported,
    )


def _stream_keys(release: Profile) -> StreamKeys:
    role = ("prompt_token_ids", "prompt_text") if release.prompt_text_key else None
    return StreamKeys(
        role_extras=role or ("prompt_token_ids",),
        chunk_extras=release.stream_chunk_extra_keys,
        finish_extras=release.stream_finish_extra_keys,
    )


def _named_stop(outcome: Outcome) -> Outcome:
    """From 0.26 a named ``tool_choice`` reports ``stop`` even with calls (§2.b)."""
    if outcome.finish_reason != "tool_calls":
        return outcome
    return replace(outcome, finish_reason="stop")


def complete(
    body: Any, settings: Settings, *, request_id: str, created: int
) -> ApiError | JsonAnswer | StreamAnswer:
    """Answer a parsed request body the way vLLM serving gpt-oss would."""
    error = validate(body, settings.profile)
    if error:
        return error
    model = body.get("model")
    if model is not None and model != settings.model:
        message = f"The model `{model}` does not exist."
        style = settings.profile.error_style
        if style == "typed":
            message += f" Valid aliases: {settings.model}."
        param = None if style == "plain" else "model"
        return ApiError(404, vllm_error(message, "NotFoundError", 404, param))
    prompt = prompt_tokens(body, settings.profile.release, settings.harmony_date)
    error = _overflow(body, prompt, settings)
    if error:
        return error
    n = int(body.get("n") or 1)
    budget = body.get("max_completion_tokens") or body.get("max_tokens")
    left = settings.context_window - prompt
    budget = min(int(budget or left), left)
    stops = body.get("stop") or []
    stops = [stops] if isinstance(stops, str) else stops
    try:
        replies = _replies(body, settings, n)
    except Exception as exc:
        message = f"{type(exc).__name__}: {exc}"
        return ApiError(500, vllm_error(message, "Internal Server Error", 500))
    outcomes: list[Outcome] = [generate(r, budget=budget, stops=stops) for r in replies]
    release, streamed = settings.profile, bool(body.get("stream"))
    outcomes = [
        _release_outcome(
            outcome, release, streamed=streamed, parser=settings.tool_parser
        )
        for outcome in outcomes
    ]
    if settings.profile.named_choice_finishes_stop and isinstance(
        body.get("tool_choice"), dict
    ):
        outcomes = [_named_stop(outcome) for outcome in outcomes]
    top = body.get("top_logprobs") or 0
    shape = Shape(
        era=settings.era,
        model=settings.model,
        request_id=request_id,
        created=created,
        prompt_tokens=prompt,
        token_ids_key=settings.token_ids_key,
        top_logprobs=int(top) if body.get("logprobs") else None,
        leak_tool_args=settings.leak_tool_args,
        tool_stream_quirks=(
            settings.profile.tool_stream_quirks
            if settings.tool_stream_quirks is None
            else settings.tool_stream_quirks
        ),
        id_hex_digits=settings.profile.id_hex_digits,
        redump_arguments=settings.profile.arguments_redumped,
        body_keys=_body_keys(settings.profile),
        stream_keys=_stream_keys(settings.profile),
        play=Play(
            settings.profile,
            show_reasoning=body.get("include_reasoning") is not False,
            calls_streamed=settings.tool_parser
            or settings.profile.stream_unparsed_call != "dropped",
        ),
    )
    if not body.get("stream"):
        return JsonAnswer(response_body(shape, outcomes))
    include, continuous = _usage_flags(
        body, settings.force_include_usage, settings.profile
    )
    events = stream(
        shape,
        outcomes,
        include_usage=include,
        continuous=continuous,
        tokens_per_chunk=settings.tokens_per_chunk,
    )
    return StreamAnswer(events)
