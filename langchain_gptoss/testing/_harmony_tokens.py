"""A reply as the harmony tokens gpt-oss generates, with the parser state after each.

vLLM feeds every generated token to openai-harmony's ``StreamableParser`` and
reads its ``current_channel``, ``current_recipient`` and ``last_content_delta``
(protocol §2.c). The emulator builds the same token sequence (control tokens
included: they are generated, billed and given log-probabilities like text)
and records those three values after each token, so the streaming code can
play vLLM's per-release handling of engine steps without harmony installed.

The text between control tokens is split by the real o200k vocabulary when
openai-harmony and its vocabulary are at hand (what the golden runs used), else
by the word-and-punctuation stand-in of ``_tokens.tokenize``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

from langchain_gptoss import _tokens as exact
from langchain_gptoss.errors import GptOssError
from langchain_gptoss.testing._tokens import tokenize

if TYPE_CHECKING:
    from langchain_gptoss.testing._types import Reply

END, CALL, RETURN = "<|end|>", "<|call|>", "<|return|>"
MESSAGE = "<|message|>"


class Token(NamedTuple):
    """One generated token and the harmony parser's state right after it.

    Attributes:
        text: The token's text; a control token's is its own name.
        special: Whether it is a harmony control token.
        message: The index of the message it belongs to (header, text or end).
        channel: ``current_channel`` after it (None outside a message's text).
        recipient: ``current_recipient`` after it.
        delta: ``last_content_delta`` after it (None unless it is text).
        done: How many messages are complete after it.
    """

    text: str
    special: bool
    message: int
    channel: str | None
    recipient: str | None
    delta: str | None
    done: int


@dataclass(frozen=True)
class Message:
    """One harmony message the model writes."""

    channel: str
    recipient: str | None
    text: str
    end: str

    @property
    def header(self) -> list[str]:
        """The header's text between ``<|channel|>`` and ``<|message|>``."""
        if self.recipient is None:
            return [self.channel]
        return [f"{self.channel} to={self.recipient} ", "<|constrain|>", "json"]


def messages(reply: Reply) -> list[Message]:
    """The messages of ``reply``: analysis, then final (or a preamble), then calls."""
    found: list[Message] = []
    if reply.reasoning:
        found.append(Message("analysis", None, reply.reasoning, END))
    if reply.content is not None:
        channel, end = ("commentary", END) if reply.tool_calls else ("final", RETURN)
        found.append(Message(channel, None, reply.content, end))
    found += [
        Message("commentary", f"functions.{call.name}", call.arguments, CALL)
        for call in reply.tool_calls
    ]
    return found


@functools.lru_cache(maxsize=4096)
def split(text: str) -> tuple[str, ...]:
    """Split plain text into token texts, by o200k when it is at hand."""
    try:
        encoding = exact.encoding()
    except GptOssError:
        encoding = None
    if encoding is None:
        return tuple(tokenize(text))
    ids = encoding.encode(text, disallowed_special=())
    pieces = [encoding.decode([token]) for token in ids]
    if "".join(pieces) == text:
        return tuple(pieces)
    # A token ending inside a UTF-8 character: give each token the text it
    # completes, as harmony's parser does ("" while a character is unfinished).
    out, shown = [], ""
    for end in range(1, len(ids) + 1):
        prefix = encoding.decode(ids[:end]).rstrip("\ufffd")
        out.append(prefix[len(shown) :])
        shown = prefix
    return tuple(out)


def _header_tokens(text: str) -> list[tuple[str, bool]]:
    if text.startswith("<|"):
        return [(text, True)]
    return [(piece, False) for piece in split(text)]


def harmony_tokens(found: list[Message]) -> list[Token]:
    """The tokens of ``found`` in order, each with the parser state after it."""
    tokens: list[Token] = []
    for number, message in enumerate(found):
        head: list[tuple[str, bool]] = []
        if number:
            head += [("<|start|>", True), *_header_tokens("assistant")]
        head.append(("<|channel|>", True))
        for part in message.header:
            head += _header_tokens(part)
        done = number
        tokens += [Token(t, s, number, None, None, None, done) for t, s in head]
        channel, recipient = message.channel, message.recipient
        tokens.append(
            Token(
                MESSAGE,
                special=True,
                message=number,
                channel=channel,
                recipient=recipient,
                delta=None,
                done=done,
            )
        )
        tokens += [
            Token(
                piece,
                special=False,
                message=number,
                channel=channel,
                recipient=recipient,
                delta=piece,
                done=done,
            )
            for piece in split(message.text)
        ]
        tokens.append(
            Token(
                message.end,
                special=True,
                message=number,
                channel=None,
                recipient=None,
                delta=None,
                done=done + 1,
            )
        )
    return tokens
