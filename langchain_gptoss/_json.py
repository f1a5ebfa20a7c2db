"""JSON in and out of messages: fast parsing, bounded display, body text (pure)."""

from __future__ import annotations

import json
import reprlib
from typing import Any

from pydantic_core import from_json


def load_json(data: str | bytes) -> Any:
    """Parse JSON with pydantic-core's parser, three times as fast as `json`.

    It refuses escaped lone surrogates, which `json` accepts, so a refusal falls
    back to `json`. Invalid UTF-8 becomes U+FFFD, as it does in streams. Raises
    `ValueError` on malformed input, too deep nesting included.
    """
    try:
        return from_json(data)
    except ValueError:
        pass
    text = data.decode("utf-8", errors="replace") if isinstance(data, bytes) else data
    try:
        return json.loads(text)
    except RecursionError:
        msg = "JSON nested too deeply"
        raise ValueError(msg) from None


_SHOWN = reprlib.Repr()
_SHOWN.maxlevel, _SHOWN.maxdict, _SHOWN.maxlist = 6, 30, 30
_SHOWN.maxstring, _SHOWN.maxother, _SHOWN.maxlong = 2000, 200, 40


def shown(value: object) -> str:
    """A bounded repr of parsed JSON, safe for any depth (for messages)."""
    return _SHOWN.repr(value)


def text_of(content: bytes) -> str:
    """A body as text for messages, invalid UTF-8 replaced."""
    return content.decode("utf-8", errors="replace")
