"""LangChain integration for gpt-oss-120b on E2E Networks' TIR GenAI API.

How the package is laid out, and where to make the common changes:
docs/architecture.md.
"""

from langchain_gptoss.chat_models import ChatGptOss
from langchain_gptoss.errors import (
    GptOssAPIError,
    GptOssAuthenticationError,
    GptOssBadRequestError,
    GptOssConnectionError,
    GptOssContextOverflowError,
    GptOssError,
    GptOssNotFoundError,
    GptOssPermissionDeniedError,
    GptOssRateLimitError,
    GptOssResponseTooLargeError,
    GptOssServerError,
    GptOssStreamError,
    GptOssTimeoutError,
)
from langchain_gptoss.version import __version__

__all__ = [
    "ChatGptOss",
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
    "__version__",
]
