"""`ChatGptOss`: LangChain chat model for gpt-oss-120b on E2E Networks' TIR."""

from __future__ import annotations

import logging
import math
import time
from contextlib import aclosing, closing
from typing import TYPE_CHECKING, Any, Literal, Self

import httpx
from langchain_core.language_models.base import LangSmithParams
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages.utils import count_tokens_approximately
from langchain_core.rate_limiters import InMemoryRateLimiter
from langchain_core.utils.utils import from_env, secret_from_env
from pydantic import (
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    field_validator,
    model_validator,
)

from langchain_gptoss import _attempt, _harmony, _http, _tokens
from langchain_gptoss._clients import OwnedClients
from langchain_gptoss._decode import response_limit
from langchain_gptoss._endpoint import (
    DEFAULT_BASE_URL,
    DEFAULT_MODEL,
    check_model,
    resolve_endpoint,
    sends_token_in_clear,
)
from langchain_gptoss._json import find_non_finite
from langchain_gptoss._limiter import LimiterRecipe
from langchain_gptoss._profile import PROFILE
from langchain_gptoss._redact import locals_forgotten
from langchain_gptoss._request import (
    check_extra_body,
    encode_body,
    format_tools,
    merge_extra_body,
    tool_choice_to_wire,
    wire_body,
)
from langchain_gptoss._response import (
    PROVIDER,
    StreamState,
    achunks_from_events,
    chunks_from_events,
    result_from_response,
)
from langchain_gptoss._settings import (
    check_idle_timeout,
    check_max_connections,
    check_timeout,
    checked_api_key,
    init_hiding_inputs,
)
from langchain_gptoss._sse import DEFAULT_MAX_EVENT_BYTES
from langchain_gptoss._structured import Method, structured_output
from langchain_gptoss._target import Target, prepare_target
from langchain_gptoss._transport import DEFAULT_MAX_CONNECTIONS
from langchain_gptoss.errors import GptOssContextOverflowError
from langchain_gptoss.version import __version__

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence

    from langchain_core.callbacks import (
        AsyncCallbackManagerForLLMRun,
        CallbackManagerForLLMRun,
    )
    from langchain_core.language_models import LanguageModelInput
    from langchain_core.language_models.model_profile import ModelProfile
    from langchain_core.messages import AIMessage, BaseMessage
    from langchain_core.outputs import ChatGenerationChunk, ChatResult
    from langchain_core.runnables import Runnable
    from langchain_core.tools import BaseTool

    from langchain_gptoss._names import ToolNames

logger = logging.getLogger("langchain_gptoss")

_TOKEN_ENV = ("E2E_TIR_ACCESS_TOKEN", "TIR_API_TOKEN")
_USER_AGENT = f"langchain-gptoss/{__version__}"


class ChatGptOss(BaseChatModel):
    """gpt-oss-120b on E2E Networks' TIR GenAI API, with its reasoning kept.

    Reads the token from `E2E_TIR_ACCESS_TOKEN` (or `TIR_API_TOKEN`) and the
    project from `E2E_TIR_PROJECT_ID` unless given. The model's chain of thought
    arrives in `additional_kwargs["reasoning_content"]` and as the first of
    `message.content_blocks`.

    Example:
        ```python
        from langchain_gptoss import ChatGptOss

        model = ChatGptOss(project_id=12345, reasoning_effort="low")
        message = model.invoke("Why is the sky blue? One sentence.")
        print(message.additional_kwargs["reasoning_content"])
        print(message.content, message.usage_metadata)
        ```
    """

    model: str = Field(default=DEFAULT_MODEL, alias="model_name")
    """Model slug, used in the URL and the body."""
    api_key: SecretStr | None = Field(
        default_factory=secret_from_env(list(_TOKEN_ENV), default=None)
    )
    """TIR auth token; defaults to `E2E_TIR_ACCESS_TOKEN`, then `TIR_API_TOKEN`."""
    project_id: int | str | None = Field(
        default_factory=from_env("E2E_TIR_PROJECT_ID", default=None)
    )
    """TIR project number (`123` or `"p-123"`); defaults to `E2E_TIR_PROJECT_ID`."""
    base_url: str = Field(
        default_factory=from_env("E2E_TIR_BASE_URL", default=DEFAULT_BASE_URL)
    )
    """Host root, or the full `.../project/p-{id}/genai/{model}/v1` base from TIR."""
    include_project_query: bool = True
    """Also send `?project_id=` (TIR's API reference asks for it)."""

    # NaN passes range checks (it compares false) and json.dumps writes it as
    # `NaN`, which is not JSON: refuse non-finite numbers outright.
    temperature: float | None = Field(default=None, ge=0.0, le=2.0, allow_inf_nan=False)
    max_tokens: int | None = Field(default=None, ge=1)
    """Token budget for reasoning and answer together."""
    top_p: float | None = Field(default=None, gt=0.0, le=1.0, allow_inf_nan=False)
    frequency_penalty: float | None = Field(default=None, allow_inf_nan=False)
    presence_penalty: float | None = Field(default=None, allow_inf_nan=False)
    stop: list[str] | None = Field(default=None, alias="stop_sequences")
    seed: int | None = None
    n: int | None = Field(default=None, ge=1)
    reasoning_effort: Literal["low", "medium", "high"] | None = None
    model_kwargs: dict[str, Any] = Field(default_factory=dict)
    """Extra body fields, e.g. vLLM's `top_k`; unknown constructor kwargs land here."""
    extra_body: dict[str, Any] | None = None
    """Fields merged into the top level of the body last, over everything else, as
    the OpenAI SDK does (e.g. `{"top_k": 20, "chat_template_kwargs": {...}}`); a
    per-call `extra_body` is merged over this one."""

    vllm_version: str = "0.13.0"
    """The vLLM release whose prompt rendering token counts follow. TIR most likely
    runs 0.10.2-0.20.x; 0.13.0 renders the most of those (see the README)."""
    context_check: bool = False
    """Count the prompt before sending and raise `GptOssContextOverflowError` if
    it plus `max_tokens` exceeds the context window (stricter than vLLM)."""

    streaming: bool = False
    """Stream underneath `invoke` too."""
    stream_usage: bool = True
    """Ask for token usage at the end of streams (`stream_options.include_usage`)."""

    timeout: float | httpx.Timeout | None = Field(default=None, alias="request_timeout")
    """Seconds, or an `httpx.Timeout`; the connect part is capped at 10 s."""
    stream_idle_timeout: float | None = _attempt.DEFAULT_STREAM_IDLE_TIMEOUT
    """Longest wait between two stream events after the first, in seconds (None:
    no limit); the first is awaited for the read `timeout`."""
    retry_first_event_timeout: bool = False
    """Send a stream again when its first event did not come within the read
    timeout (off: the server may be generating it already)."""
    total_timeout: float | None = Field(default=None, gt=0)
    """Longest a whole call may take, in seconds, retries and the whole stream
    included (None: no limit)."""
    max_event_bytes: int = Field(default=DEFAULT_MAX_EVENT_BYTES, ge=1024)
    """Largest stream event (and line) accepted, in bytes."""
    max_response_bytes: int | None = Field(default=None, ge=1024)
    """Largest non-streamed body accepted after decompression, in bytes (None:
    enough for the request's longest possible answer, see the README)."""
    max_error_body_bytes: int = Field(
        default=_attempt.DEFAULT_MAX_ERROR_BODY_BYTES, ge=1024
    )
    """How much of an error body (or an unexpected non-JSON body) is read."""
    max_retries: int = Field(default=_attempt.DEFAULT_MAX_RETRIES, ge=0)
    """Retries after the first try, for 408/409/429/5xx and connection failures."""
    max_connections: int = DEFAULT_MAX_CONNECTIONS
    """Most requests in flight at once over the model's shared connection pool;
    the rest wait for a free connection (up to the pool timeout), and at most 100
    stay open when idle. 1,000 by default, as in the OpenAI SDK: TIR batches
    concurrent requests, so a lower cap only queues them here. Named as in httpx
    and the OpenAI SDK, since `max_concurrency` is LangChain's own per-call limit
    on `batch()` (`RunnableConfig`), which this does not replace."""
    default_headers: dict[str, str] | None = None
    http_client: httpx.Client | None = Field(default=None, exclude=True)
    """Your own `httpx.Client`; used as is and never closed by the model (nor
    replaced after a fork: recreate it in the child)."""
    http_async_client: httpx.AsyncClient | None = Field(default=None, exclude=True)
    """Your own `httpx.AsyncClient`; used as is and never closed by the model
    (nor replaced after a fork: recreate it in the child)."""

    # Errors must not print the input: it holds the token (see `_init`).
    model_config = ConfigDict(populate_by_name=True, hide_input_in_errors=True)

    _owned: OwnedClients = PrivateAttr()
    _target: Target = PrivateAttr()

    # ------------------------------------------------------------------ validation

    if not TYPE_CHECKING:
        # Hidden from type checkers, which then keep the field-typed signature
        # that pydantic's dataclass transform gives the class.
        def __init__(self, **data: Any) -> None:
            """Validate the settings; no error raised here carries the token."""
            init_hiding_inputs(ChatGptOss, self, data)

    @field_validator("timeout")
    @classmethod
    def _timeout_is_usable(
        cls, value: float | httpx.Timeout | None
    ) -> float | httpx.Timeout | None:
        check_timeout(value)
        return value

    @field_validator("stream_idle_timeout")
    @classmethod
    def _idle_timeout_is_usable(cls, value: float | None) -> float | None:
        check_idle_timeout(value)
        return value

    @field_validator("max_connections", mode="before")
    @classmethod
    def _max_connections_is_usable(cls, value: Any) -> Any:
        check_max_connections(value)
        return value

    @field_validator("model_kwargs")
    @classmethod
    def _model_kwargs_are_sendable(cls, value: dict[str, Any]) -> dict[str, Any]:
        found = find_non_finite(value)
        if found is not None:
            where, number = found
            msg = (
                f"model_kwargs has {number!r} at {where}, and JSON has no NaN or "
                "infinity: use a finite number, or leave the setting out."
            )
            raise ValueError(msg)
        if "model" in value:
            check_model(value["model"])
        return value

    @field_validator("extra_body")
    @classmethod
    def _extra_body_is_sendable(
        cls, value: dict[str, Any] | None
    ) -> dict[str, Any] | None:
        if value is not None:
            check_extra_body(value)
        return value

    @field_validator("vllm_version")
    @classmethod
    def _vllm_version_is_a_release(cls, value: str) -> str:
        _harmony.parse_version(value)
        return value

    @field_validator("stop", mode="before")
    @classmethod
    def _stop_as_list(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @model_validator(mode="before")
    @classmethod
    def _collect_model_kwargs(cls, values: Any) -> Any:
        """Move unknown constructor arguments into `model_kwargs`, with a warning."""
        if not isinstance(values, dict):
            return values
        known = set(cls.model_fields)
        known.update(f.alias for f in cls.model_fields.values() if f.alias)
        extra = {key: values[key] for key in values if key not in known}
        if not extra:
            return values
        model_kwargs = dict(values.get("model_kwargs") or {})
        for key, value in extra.items():
            logger.warning(
                "%s is not a ChatGptOss field; it is sent in the request body as is "
                "(pass it in model_kwargs to silence this warning).",
                key,
            )
            model_kwargs[key] = value
        return {
            **{k: v for k, v in values.items() if k not in extra},
            "model_kwargs": model_kwargs,
        }

    @model_validator(mode="after")
    def _resolve_credentials_and_endpoint(self) -> Self:
        self._derive_endpoint()
        return self

    def _derive_endpoint(self) -> None:
        """Check the token, resolve URL, project and model, and set up clients.

        No local variable here holds the raw token: tracebacks keep the locals
        of their frames, and error reporters print them.
        """
        secret = checked_api_key(self)
        explicit_model = self.model if "model" in self.model_fields_set else None
        endpoint = resolve_endpoint(self.base_url, self.project_id, explicit_model)
        # model_copy(update=...) skips the field validators.
        check_idle_timeout(self.stream_idle_timeout)
        check_max_connections(self.max_connections)
        self._owned = OwnedClients(self._timeout(), self.max_connections)
        self.base_url, self.model = endpoint.root, endpoint.model
        self.project_id = int(endpoint.project_id)
        # Last, so that a model that failed to validate never holds the header.
        self._target = prepare_target(
            endpoint,
            secret,
            project_query=self.include_project_query,
            user_agent=_USER_AGENT,
            default_headers=self.default_headers,
        )
        if sends_token_in_clear(endpoint.root):
            logger.warning(
                "base_url %s is plain http:// to a non-loopback host: the auth token "
                "would cross the network unencrypted. Use https://.",
                endpoint.root,
            )

    # ------------------------------------------------------------ LangChain hooks

    @property
    def _llm_type(self) -> str:
        return "gptoss-chat"

    @classmethod
    def is_lc_serializable(cls) -> bool:
        """Models can be saved with `dumpd` and restored with `load`."""
        return True

    @classmethod
    def get_lc_namespace(cls) -> list[str]:
        """Namespace used by LangChain serialization."""
        return ["langchain_gptoss", "chat_models"]

    def _resolve_model_profile(self) -> ModelProfile | None:
        return PROFILE.copy()

    @property
    def lc_secrets(self) -> dict[str, str]:
        """Where `load` finds the token again."""
        return {"api_key": _TOKEN_ENV[0]}

    @property
    def _default_params(self) -> dict[str, Any]:
        """Body fields set on the model (None ones are dropped when sending)."""
        return {
            "model": self.model,
            "temperature": self.temperature,
            "max_tokens": self.max_tokens,
            "top_p": self.top_p,
            "frequency_penalty": self.frequency_penalty,
            "presence_penalty": self.presence_penalty,
            "stop": self.stop or None,
            "seed": self.seed,
            "n": self.n,
            "reasoning_effort": self.reasoning_effort,
            **self.model_kwargs,
        }

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {
            "base_url": self.base_url,
            "project_id": self.project_id,
            **{k: v for k, v in self._default_params.items() if v is not None},
        }

    def _get_ls_params(
        self, stop: list[str] | None = None, **kwargs: Any
    ) -> LangSmithParams:
        params = {**self._default_params, **kwargs}
        ls_params = LangSmithParams(
            ls_provider=PROVIDER,
            ls_model_name=params["model"],
            ls_model_type="chat",
        )
        if params.get("temperature") is not None:
            ls_params["ls_temperature"] = params["temperature"]
        if params.get("max_tokens") is not None:
            ls_params["ls_max_tokens"] = params["max_tokens"]
        ls_stop = stop or params.get("stop")
        if ls_stop:
            ls_params["ls_stop"] = [ls_stop] if isinstance(ls_stop, str) else ls_stop
        return ls_params

    # ------------------------------------------------------------- token counting

    def get_token_ids(self, text: str) -> list[int]:
        """gpt-oss's token ids for `text` (o200k, no chat framing).

        Raises:
            ImportError: Without openai-harmony (`pip install
                'langchain-gptoss[tokens]'`).
        """
        if self.custom_get_token_ids is not None:
            return self.custom_get_token_ids(text)
        return _tokens.text_token_ids(text)

    def get_num_tokens(self, text: str) -> int:
        """Tokens in `text` alone (approximate without openai-harmony)."""
        if self.custom_get_token_ids is not None or _tokens.encoding() is not None:
            return len(self.get_token_ids(text))
        return math.ceil(len(text) / 4)  # count_tokens_approximately's rate

    def get_num_tokens_from_messages(
        self, messages: list[BaseMessage], tools: Sequence[Any] | None = None
    ) -> int:
        """The `prompt_tokens` vLLM (`vllm_version`) reports for these messages.

        Counts the request a call would send (the model's settings, `tools` as
        `bind_tools` would send them) in harmony's framing: system header, developer
        message with the tools, every message, the assistant prefix. Without
        openai-harmony, LangChain's `count_tokens_approximately`.
        """
        kwargs = {} if tools is None else {"tools": format_tools(tools)}
        _sent, body, _names = self._wire_body(messages, None, kwargs, stream=False)
        return self._prompt_tokens(body, messages)

    def _prompt_tokens(self, body: dict[str, Any], messages: list[BaseMessage]) -> int:
        return _tokens.prompt_tokens(
            body,
            _harmony.parse_version(self.vllm_version),
            approximate=lambda: count_tokens_approximately(
                messages, tools=body.get("tools")
            ),
        )

    def _check_context(self, body: dict[str, Any], messages: list[BaseMessage]) -> None:
        window = PROFILE["max_input_tokens"]
        prompt = self._prompt_tokens(body, messages)
        asked = body.get("max_completion_tokens") or body.get("max_tokens")
        if prompt + (asked or 0) > window or prompt >= window:
            raise GptOssContextOverflowError.before_sending(
                prompt_tokens=prompt, max_tokens=asked, context_window=window
            )

    # ------------------------------------------------------ tools, structured output

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool],
        *,
        tool_choice: str | bool | dict[str, Any] | None = None,
        strict: bool | None = None,
        parallel_tool_calls: bool | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        """Bind tools (pydantic classes, functions, LangChain tools or dicts).

        Args:
            tools: The tools the model may call.
            tool_choice: `"auto"`, `"none"`, `"required"`, `"any"` (same as
                required), `True` (the only tool), a tool name, or a wire dict.
                gpt-oss on vLLM honours `"auto"` best; the others depend on the
                server version.
            strict: Ask for arguments that match the schemas exactly.
            parallel_tool_calls: Passed through (gpt-oss makes one call a turn).
            **kwargs: Further request fields.

        Names that are not identifiers (MCP's `github.create_issue`,
        `get-weather`) are renamed on the wire only; calls come back under the
        original names.

        Raises:
            ValueError: For a tool that is not a function, or an unknown choice.
        """
        formatted = format_tools(tools, strict=strict)
        if tool_choice is not None and tool_choice is not False:
            kwargs["tool_choice"] = tool_choice_to_wire(tool_choice, formatted)
        if parallel_tool_calls is not None:
            kwargs["parallel_tool_calls"] = parallel_tool_calls
        return super().bind(tools=formatted, **kwargs)

    def with_structured_output(
        self,
        schema: dict[str, Any] | type,
        *,
        method: Method = "json_schema",
        include_raw: bool = False,
        strict: bool | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, dict[str, Any] | Any]:
        """Answer in `schema` (a pydantic class, a TypedDict or a JSON schema).

        Args:
            schema: The output schema.
            method: `"json_schema"` (vLLM's guided decoding, the default),
                `"function_calling"` (a forced tool call) or `"json_mode"`.
            include_raw: Return `{"raw", "parsed", "parsing_error"}` instead of
                raising when the output does not parse.
            strict: Ask the server to follow the schema exactly.
            **kwargs: Not supported; present for signature compatibility.

        Raises:
            ValueError: For an unknown method or unexpected keyword arguments.
        """
        if kwargs:
            msg = f"Unexpected arguments: {sorted(kwargs)}."
            raise ValueError(msg)
        return structured_output(
            self, schema, method=method, include_raw=include_raw, strict=strict
        )

    # ---------------------------------------------------------------- request prep

    def _wire_body(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None,
        kwargs: dict[str, Any],
        *,
        stream: bool,
    ) -> tuple[dict[str, Any], dict[str, Any], ToolNames | None]:
        """The settings as sent, the body, and the tool names renamed in it."""
        return wire_body(
            messages,
            {**self._default_params, **kwargs},
            stop=stop,
            stream=stream,
            stream_usage=kwargs.get("stream_usage", self.stream_usage),
            # Per call over the model's; model_kwargs["extra_body"] is the old
            # spelling.
            extra_body=merge_extra_body(
                self.extra_body,
                self.model_kwargs.get("extra_body"),
                kwargs.get("extra_body"),
            ),
        )

    def _prepare(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None,
        kwargs: dict[str, Any],
        *,
        stream: bool,
    ) -> _attempt.Call:
        if not messages:
            msg = "No messages to send: pass at least one message."
            raise ValueError(msg)
        sent, body, names = self._wire_body(messages, stop, kwargs, stream=stream)
        if self.context_check:
            self._check_context(body, messages)
        target, total = self._target, self.total_timeout
        return _attempt.Call(
            url=target.url_for(sent["model"], project_query=self.include_project_query),
            headers=target.headers_for(stream=stream),
            content=encode_body(body),
            max_retries=self.max_retries,
            redact=target.redact,
            idle_timeout=self.stream_idle_timeout if stream else None,
            retry_first_event_timeout=self.retry_first_event_timeout,
            max_event_bytes=self.max_event_bytes,
            max_response_bytes=self.max_response_bytes or response_limit(sent),
            max_error_body_bytes=self.max_error_body_bytes,
            deadline=None if total is None else (time.monotonic() + total, total),
            names=names,
        )

    def _timeout(self) -> httpx.Timeout:
        # model_copy(update=...) skips the field validator.
        check_timeout(self.timeout)
        if self.timeout is None:
            return _attempt.DEFAULT_TIMEOUT
        if isinstance(self.timeout, httpx.Timeout):
            return self.timeout
        return httpx.Timeout(
            self.timeout, connect=min(self.timeout, _attempt.MAX_CONNECT_TIMEOUT)
        )

    def _sync_client(self) -> httpx.Client:
        return self.http_client or self._owned.sync()

    def _async_client(self) -> httpx.AsyncClient:
        return self.http_async_client or self._owned.for_running_loop()

    # ------------------------------------------------------------------ lifecycle

    def close(self) -> None:
        """Stop using the shared connection pool; close it if no other model does.

        Models with the same timeouts and `max_connections` share one pool. The
        last one to close it closes its sync connections, and each event loop's
        as that loop runs on (a loop's also close as it shuts down:
        `asyncio.run` does that). The next call opens or joins a pool again.
        Injected `http_client` and `http_async_client` are never closed. A
        process forked from this one opens its own and leaves the parent's
        alone; injected clients are yours to replace in the child.
        """
        self._owned.close()

    async def aclose(self) -> None:
        """As `close()`, closing this event loop's connections before it returns."""
        await self._owned.aclose()

    def __enter__(self) -> Self:
        """Use the model in a `with` block that ends with `close()`."""
        return self

    def __exit__(self, *exc_info: object) -> None:
        """Stop using the pool; close it if no other model does."""
        self.close()

    async def __aenter__(self) -> Self:
        """Use the model in an `async with` block that ends with `aclose()`."""
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        """Stop using the pool; close it if no other model does."""
        await self.aclose()

    def __getstate__(self) -> dict[Any, Any]:
        """Pickle without clients or locks: the unpickled model opens its own."""
        state = super().__getstate__()
        fields = {**state["__dict__"], "http_client": None, "http_async_client": None}
        if isinstance(self.rate_limiter, InMemoryRateLimiter):
            fields["rate_limiter"] = LimiterRecipe(self.rate_limiter)
        state["__dict__"] = fields
        return state

    def model_copy(
        self, *, update: Mapping[str, Any] | None = None, deep: bool = False
    ) -> Self:
        """Copy the model; changed settings re-derive the endpoint and timeouts."""
        if deep and update:
            # pydantic deep-copies field by field here, past `__deepcopy__`, and
            # so would copy injected clients and the limiter (and fail on locks).
            return super().model_copy(deep=True).model_copy(update=update)
        copied = super().model_copy(update=update, deep=deep)
        if update:
            # The caller's mapping may hold a raw token; keep it out of the
            # frame locals of any error raised below.
            del update
            copied._derive_endpoint()  # noqa: SLF001 - same class
        return copied

    def __copy__(self) -> Self:
        """Share the settings, and the pool, with a membership of its own.

        pydantic copies private attributes shallowly, so closing the copy would
        end the original's use of the pool too (`model_copy()` comes here).
        """
        copied = super().__copy__()
        copied._owned = OwnedClients(  # noqa: SLF001 - same class
            self._timeout(), self.max_connections
        )
        return copied

    def __deepcopy__(self, memo: dict[int, Any] | None = None) -> Self:
        """Copy the settings; share injected clients and the rate limiter."""
        memo = {} if memo is None else memo
        for shared in (self.http_client, self.http_async_client, self.rate_limiter):
            if shared is not None:
                memo[id(shared)] = shared
        return super().__deepcopy__(memo)

    # ----------------------------------------------------------------------- calls

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,  # noqa: ARG002
        **kwargs: Any,
    ) -> ChatResult:
        call = self._prepare(messages, stop, kwargs, stream=False)
        with locals_forgotten():
            return result_from_response(
                _http.post(self._sync_client(), call), call.redact, call.names
            )

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,  # noqa: ARG002
        **kwargs: Any,
    ) -> ChatResult:
        call = self._prepare(messages, stop, kwargs, stream=False)
        with locals_forgotten():
            # One expression: a named local would keep the body in this frame.
            return result_from_response(
                await _http.apost(self._async_client(), call), call.redact, call.names
            )

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        call = self._prepare(messages, stop, kwargs, stream=True)
        state = StreamState(
            v1=self.output_version == "v1", redact=call.redact, names=call.names
        )
        with (
            locals_forgotten(),
            closing(_http.stream_events(self._sync_client(), call)) as events,
        ):
            for chunk in chunks_from_events(events, state):
                if run_manager:
                    run_manager.on_llm_new_token(chunk.text, chunk=chunk)
                yield chunk
        state.check_complete()

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        call = self._prepare(messages, stop, kwargs, stream=True)
        state = StreamState(
            v1=self.output_version == "v1", redact=call.redact, names=call.names
        )
        with locals_forgotten():
            async with aclosing(
                _http.astream_events(self._async_client(), call)
            ) as events:
                async for chunk in achunks_from_events(events, state):
                    if run_manager:
                        await run_manager.on_llm_new_token(chunk.text, chunk=chunk)
                    yield chunk
        state.check_complete()
