"""The ``prompt_tokens`` the emulator bills: exact with openai-harmony, else close.

With ``openai-harmony`` importable (and its vocabulary at hand) the prompt is
counted by the package's own harmony rendering of the release played
(``langchain_gptoss._tokens.count``), which agrees with the golden runs'
``usage.prompt_tokens``; otherwise by the approximate ``_tokens.prompt_tokens``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from langchain_gptoss import _harmony
from langchain_gptoss import _tokens as exact
from langchain_gptoss.errors import GptOssError
from langchain_gptoss.testing import _tokens as approximate

if TYPE_CHECKING:
    from langchain_gptoss.testing._release import Release


def prompt_tokens(body: dict[str, Any], release: Release, date: str | None) -> int:
    """Count ``body``'s prompt as ``release`` renders it on ``date`` (None: today).

    Falls back to the approximate count without harmony or its vocabulary, and
    for a body the exact renderer does not take.
    """
    try:
        if exact.encoding() is None:
            return approximate.prompt_tokens(body)
        version = _harmony.parse_version(str(release))
        return exact.count(body, version, date or exact.today())
    except (GptOssError, ValueError, TypeError, KeyError, AttributeError):
        return approximate.prompt_tokens(body)
