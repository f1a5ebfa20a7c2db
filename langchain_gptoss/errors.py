"""Errors raised by `langchain-gptoss`.

Every class also derives from the matching `langchain_core.exceptions` kind, so code
written against LangChain's provider-neutral errors (and its `is_retryable` flag)
works unchanged::

    GptOssError(ModelError)                    anything this package raises on purpose
    ├── GptOssAPIError                         HTTP error status from TIR or vLLM
    │   ├── GptOssBadRequestError              400, 413, 422 (ModelInvalidRequestError)
    │   │   └── GptOssContextOverflowError     prompt + max_tokens > context window
    │   ├── GptOssAuthenticationError          401 (ModelAuthenticationError)
    │   ├── GptOssPermissionDeniedError        403 (ModelPermissionDeniedError)
    │   ├── GptOssNotFoundError                404 (ModelNotFoundError)
    │   ├── GptOssRateLimitError               429 (ModelRateLimitError), retryable
    │   └── GptOssServerError                  5xx, 408, 409 (ModelAPIError), retryable
    ├── GptOssConnectionError                  cannot connect, or the connection broke
    │   └── GptOssTimeoutError                 connect/read/stream-idle/total timeout
    ├── GptOssStreamError                      the SSE stream itself went wrong: an
    │                                          in-stream error event, a malformed
    │                                          event, or an end without `[DONE]`
    └── GptOssResponseTooLargeError            a body or event passed a size limit

No message ever contains the auth token: errors are built from the server's reply,
which is redacted before it is stored.
"""

from __future__ import annotations

from langchain_core.exceptions import (
    ContextOverflowError,
    ModelAPIError,
    ModelAuthenticationError,
    ModelConnectionError,
    ModelError,
    ModelInvalidRequestError,
    ModelNotFoundError,
    ModelPermissionDeniedError,
    ModelRateLimitError,
    ModelTimeoutError,
)

__all__ = [
    "GptOssAPIError",
    "GptOssAuthenticationError",
    "GptOssBadRequestError",
    "GptOssConnectionError",
    "GptOssContextOverflowError",
    "GptOssError",
    "GptOssNotFoundError",
    "GptOssPermissionDeniedError",
    "GptOssRateLimitError",
    "GptOssResponseTooLargeError",
    "GptOssServerError",
    "GptOssStreamError",
    "GptOssTimeoutError",
]


class GptOssError(ModelError):
    """Base class of every error this package raises on purpose."""


class GptOssAPIError(GptOssError):
    """The endpoint answered with an HTTP error status.

    Attributes:
        status_code: The HTTP status.
        message: The server's own explanation, as found in its body.
        body: The response body (first 2,000 characters), token redacted.
        retry_after: Seconds the server asked us to wait, if it said so.
        request_id: The server's request id header, if any.
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        body: str = "",
        retry_after: float | None = None,
        request_id: str | None = None,
    ) -> None:
        """Build the error; `message` is the server's explanation."""
        self.status_code = status_code
        self.message = message
        self.body = body
        self.retry_after = retry_after
        self.request_id = request_id
        super().__init__(f"HTTP {status_code}: {message}")

    def __reduce__(self) -> tuple[object, ...]:
        """Keep errors picklable (worker pools send them between processes)."""
        return (
            _rebuild_api_error,
            (type(self), self.message, self.status_code, self.body, self.retry_after),
        )


def _rebuild_api_error(
    cls: type[GptOssAPIError],
    message: str,
    status_code: int,
    body: str,
    retry_after: float | None,
) -> GptOssAPIError:
    return cls(message, status_code=status_code, body=body, retry_after=retry_after)


class GptOssBadRequestError(GptOssAPIError, ModelInvalidRequestError):
    """The request was rejected as invalid (400, 413, 422 and other plain 4xx)."""


class GptOssContextOverflowError(GptOssBadRequestError, ContextOverflowError):
    """The prompt plus `max_tokens` does not fit the model's context window.

    Raised for the server's own refusal, and before sending by `context_check=True`
    (`before_sending`): then nothing reached the server, `status_code` is 0, and
    `prompt_tokens`, `max_tokens` and `context_window` hold the numbers.

    Attributes:
        prompt_tokens: The counted prompt (None when the server refused it).
        max_tokens: The output budget asked for (None: none was set).
        context_window: The window the prompt was checked against.
    """

    prompt_tokens: int | None = None
    max_tokens: int | None = None
    context_window: int | None = None

    @classmethod
    def before_sending(
        cls, *, prompt_tokens: int, max_tokens: int | None, context_window: int
    ) -> GptOssContextOverflowError:
        """The error `context_check` raises instead of sending the request."""
        window = f"gpt-oss-120b's context window of {context_window:,} tokens"
        trim = (
            "Trim the conversation (e.g. langchain_core.messages.trim_messages "
            "with token_counter=model)"
        )
        refused = "(context_check=True refused it; nothing was sent.)"
        room = context_window - prompt_tokens
        if max_tokens is None or room <= 0:
            asked = (
                "" if max_tokens is None else f" (max_tokens asks for {max_tokens:,})"
            )
            message = (
                f"The prompt alone is {prompt_tokens:,} tokens, which fills {window}: "
                f"nothing is left for the answer{asked}. {trim}. {refused}"
            )
        else:
            message = (
                f"The prompt is {prompt_tokens:,} tokens and max_tokens asks for up "
                f"to {max_tokens:,} more: {prompt_tokens + max_tokens:,} in all, over "
                f"{window}. {trim}, or lower max_tokens to at most {room:,}. "
                f"{refused}"
            )
        error = cls(message, status_code=0)
        error.args = (message,)
        error.prompt_tokens = prompt_tokens
        error.max_tokens = max_tokens
        error.context_window = context_window
        return error

    def __reduce__(self) -> tuple[object, ...]:
        if self.prompt_tokens is None or self.context_window is None:
            return super().__reduce__()
        return (
            _rebuild_local_overflow,
            (self.prompt_tokens, self.max_tokens, self.context_window),
        )


def _rebuild_local_overflow(
    prompt_tokens: int, max_tokens: int | None, context_window: int
) -> GptOssContextOverflowError:
    return GptOssContextOverflowError.before_sending(
        prompt_tokens=prompt_tokens,
        max_tokens=max_tokens,
        context_window=context_window,
    )


class GptOssAuthenticationError(GptOssAPIError, ModelAuthenticationError):
    """The auth token is missing, wrong, expired or revoked (401)."""


class GptOssPermissionDeniedError(GptOssAPIError, ModelPermissionDeniedError):
    """The token may not use this project or model (403)."""


class GptOssNotFoundError(GptOssAPIError, ModelNotFoundError):
    """Unknown project, model slug or path (404)."""


class GptOssRateLimitError(GptOssAPIError, ModelRateLimitError):
    """Too many requests (429); retried automatically."""


class GptOssServerError(GptOssAPIError, ModelAPIError):
    """The server or its gateway failed (5xx, and 408/409); retried automatically."""


class GptOssConnectionError(GptOssError, ModelConnectionError):
    """The endpoint could not be reached, or the connection broke mid-answer.

    `is_retryable` is false where trying again cannot help: a TLS certificate
    that fails verification, or a pool timeout (nothing was sent).
    """

    def __init__(self, message: str, *, retryable: bool = True) -> None:
        """Build the error; `retryable` says whether a fresh request may succeed."""
        self.is_retryable = retryable
        super().__init__(message)

    def __reduce__(self) -> tuple[object, ...]:
        return (_rebuild_flagged, (type(self), str(self), self.is_retryable))


class GptOssTimeoutError(GptOssConnectionError, ModelTimeoutError):
    """A connect, a read, the gap between events or the whole call took too long.

    The message names the setting: `timeout`, `stream_idle_timeout` or
    `total_timeout`.
    """


class GptOssStreamError(GptOssError, ModelAPIError):
    """The SSE stream broke its protocol, or carried an error event.

    `is_retryable` is true for an error event (vLLM's harmony parser fails
    transiently), false for a malformed event. A stream is only ever retried before
    its first chunk reached the caller.
    """

    def __init__(self, message: str, *, retryable: bool = False) -> None:
        """Build the error; `retryable` says whether a fresh request may succeed."""
        self.is_retryable = retryable
        super().__init__(message)

    def __reduce__(self) -> tuple[object, ...]:
        return (_rebuild_flagged, (type(self), str(self), self.is_retryable))


def _rebuild_flagged(
    cls: type[GptOssConnectionError | GptOssStreamError],
    message: str,
    retryable: bool,
) -> GptOssError:
    return cls(message, retryable=retryable)


class GptOssResponseTooLargeError(GptOssError):
    """A response body or stream event was larger than a configured limit.

    Never retried: the same request would get the same answer. The message names
    the setting to raise (`max_response_bytes` or `max_event_bytes`).

    Attributes:
        limit: The limit in bytes.
        setting: The name of the `ChatGptOss` setting that holds it.
    """

    def __init__(self, message: str, *, limit: int, setting: str) -> None:
        """Build the error for the limit `setting` = `limit` bytes."""
        self.limit = limit
        self.setting = setting
        super().__init__(message)

    def __reduce__(self) -> tuple[object, ...]:
        return (_rebuild_too_large, (str(self), self.limit, self.setting))


def _rebuild_too_large(
    message: str, limit: int, setting: str
) -> GptOssResponseTooLargeError:
    return GptOssResponseTooLargeError(message, limit=limit, setting=setting)
