"""The redactor: no 8-character piece of the token survives, in any spelling."""

from __future__ import annotations

import json
import sys
from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from langchain_gptoss._redact import WINDOW, Redactor, forget_locals

TOKEN = "tir-4f0c/9a+e1d7.b2c8e3f4a5b6c7d8e9f0a1b2"


def pieces(secret: str) -> set[str]:
    return {secret[i : i + WINDOW] for i in range(len(secret) - WINDOW + 1)}


def assert_clean(text: str, secret: str = TOKEN) -> None:
    found = [piece for piece in pieces(secret) if piece in text]
    assert not found, f"{len(found)} pieces of the token survived"


@pytest.mark.parametrize(
    "spelling",
    [
        TOKEN,
        json.dumps(TOKEN)[1:-1].replace("/", "\\/"),
        quote(TOKEN, safe=""),
        TOKEN[:14],
        TOKEN[-9:],
    ],
    ids=["raw", "json-escaped", "url-encoded", "first-14", "last-9"],
)
def test_every_spelling_and_fragment_is_masked(spelling: str) -> None:
    text = f"Authorization: Bearer {spelling} was rejected"
    redacted = Redactor(TOKEN)(text)
    assert_clean(redacted)
    assert "***" in redacted
    assert redacted.startswith("Authorization: Bearer ")
    assert redacted.endswith(" was rejected")


@pytest.mark.parametrize("limit", [200, 500, 2000])
def test_an_excerpt_cut_across_the_token_keeps_no_piece(limit: int) -> None:
    for offset in range(-len(TOKEN), 1):
        text = "x" * (limit + offset) + TOKEN + "y" * 50
        excerpt = Redactor(TOKEN).excerpt(text, limit)
        assert len(excerpt) <= limit
        assert_clean(excerpt)


def test_text_without_the_token_is_unchanged() -> None:
    text = "The server failed: Unexpected token 200002 while expecting start"
    assert Redactor(TOKEN)(text) == text
    assert Redactor()(text) == text  # no secret: nothing to mask


def test_a_short_token_is_masked_whole() -> None:
    assert Redactor("abc12")("key abc12 bad") == "key *** bad"


def test_the_redactor_shows_and_holds_no_text_of_the_token() -> None:
    redactor = Redactor(TOKEN)
    assert repr(redactor) == "Redactor(***)"
    held = [getattr(redactor, slot) for slot in type(redactor).__slots__]
    assert_clean(repr(held))


@given(st.text(max_size=300), st.integers(0, 300), st.integers(1, 400))
def test_no_piece_survives_anywhere(text: str, at: int, limit: int) -> None:
    at = min(at, len(text))
    mixed = text[:at] + TOKEN + text[at:]
    assert_clean(Redactor(TOKEN)(mixed))
    assert_clean(Redactor(TOKEN).excerpt(mixed, limit))


def test_forget_locals_clears_finished_frames_of_the_whole_chain() -> None:
    def inner() -> None:
        secret_here = TOKEN  # noqa: F841 - the local under test
        msg = "inner"
        raise OSError(msg)

    def outer() -> None:
        body = TOKEN  # noqa: F841 - the local under test
        try:
            inner()
        except OSError as exc:
            msg = "outer"
            raise RuntimeError(msg) from exc

    try:
        outer()
    except RuntimeError as error:
        forget_locals(error)
        chain = [error, error.__cause__]
        for exc in chain:
            assert exc is not None
            tb = exc.__traceback__
            while tb is not None:
                if tb.tb_frame is not sys._getframe():
                    assert_clean(repr(tb.tb_frame.f_locals))
                tb = tb.tb_next
