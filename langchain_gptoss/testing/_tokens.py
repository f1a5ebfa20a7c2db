"""Deterministic stand-ins for the gpt-oss tokenizer and its log-probabilities."""

from __future__ import annotations

import json
import re
import zlib
from typing import Any

# Each token keeps its leading whitespace, so "".join(tokenize(s)) == s always holds.
_TOKEN_RE = re.compile(r"\s*\w+|\s*[^\w\s]|\s+")

SYSTEM_OVERHEAD = 64
"""Tokens of the harmony system message vLLM prepends (identity, date, effort)."""

MESSAGE_OVERHEAD = 4
"""Control tokens around every rendered message (start, role, message, end)."""

_ALTERNATIVES = (
    " the", ",", ".", " a", " and", " to", " of", " is", " it", " in", " that",
    " for", " on", " with", " as", " this", " be", " at", " by", " or", " not",
)  # fmt: skip


def tokenize(text: str) -> list[str]:
    """Split text into word and punctuation tokens that concatenate back to it."""
    return _TOKEN_RE.findall(text)


def count(text: str) -> int:
    """Return the number of tokens in ``text``."""
    return sum(1 for _ in _TOKEN_RE.finditer(text))


def text_of(content: Any) -> str:
    """Flatten a message ``content`` (string or list of text parts) to text."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            part.get("text", "") or part.get("refusal", "") or ""
            for part in content
            if isinstance(part, dict)
        )
    return ""


def _message_tokens(message: dict[str, Any]) -> int:
    tokens = MESSAGE_OVERHEAD + count(text_of(message.get("content")))
    reasoning = message.get("reasoning") or message.get("reasoning_content")
    if isinstance(reasoning, str):
        tokens += count(reasoning)
    for call in message.get("tool_calls") or []:
        function = call.get("function") or {}
        tokens += MESSAGE_OVERHEAD + count(str(function.get("name", "")))
        tokens += count(str(function.get("arguments", "")))
    return tokens


def prompt_tokens(body: dict[str, Any]) -> int:
    """Count the prompt the way the emulator bills it: text plus fixed overheads."""
    total = SYSTEM_OVERHEAD + sum(_message_tokens(m) for m in body["messages"])
    if body.get("tools"):
        total += count(json.dumps(body["tools"]))
    if isinstance(body.get("response_format"), dict):
        total += count(json.dumps(body["response_format"]))
    return total


def _logprob(position: int, token: str) -> float:
    return -round((zlib.crc32(f"{position}:{token}".encode()) % 4000) / 1000, 3)


def logprob_entry(position: int, token: str, top: int) -> dict[str, Any]:
    """Return one ``logprobs.content`` entry with ``top`` alternatives."""
    value = _logprob(position, token)
    alternatives = [token] + [alt for alt in _ALTERNATIVES if alt != token]
    return {
        "token": token,
        "logprob": value,
        "bytes": list(token.encode()),
        "top_logprobs": [
            {
                "token": alt,
                "logprob": round(value - 1.25 * rank, 3),
                "bytes": list(alt.encode()),
            }
            for rank, alt in enumerate(alternatives[:top])
        ],
    }
