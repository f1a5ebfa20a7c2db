"""JSON arriving piece by piece: whole members so far, and LangChain's partial dicts.

Pure and incremental: Python code looks at each character once however finely
the answer is split; what is redone per piece is the C decoder's work.
"""

from __future__ import annotations

import json
import re
from typing import Any

# Where `WholeMembers` is in the object: the next character opens it, starts a
# key (or closes an empty object), ... or follows a whole member.
(
    _OPEN,
    _FIRST_KEY,
    _KEY,
    _IN_KEY,
    _COLON,
    _VALUE,
    _STRING,
    _NESTED,
    _SCALAR,
    _AFTER,
    _CLOSED,
    _BROKEN,
) = range(12)
_IN_TOKEN = frozenset({_IN_KEY, _STRING, _NESTED, _SCALAR})
_IN_STRING = frozenset({_IN_KEY, _STRING})
_NON_SPACE = re.compile(r"\S")
_QUOTE_OR_ESCAPE = re.compile(r'["\\]')
_QUOTE_OR_BRACKET = re.compile(r'["{}\[\]]')
_SCALAR_END = re.compile(r"[\s,\]}]")


class WholeMembers:
    """The top-level members of a streamed JSON object whose values have arrived.

    Fed the text piece by piece, it looks at each character once and decodes
    each key and value once. A value is whole when it is a string with its
    closing quote, an object or array with its closing bracket (nested values
    are never partial), or a number, `true`, `false` or `null` followed by
    whitespace, `,` or `}`: until then `12` may still become `123`. Text that is
    not a JSON object stops the reading; the strict parse at the end reports it.
    """

    def __init__(self) -> None:
        self.members: dict[str, Any] = {}
        self.arrived = 0
        """How many members have been decoded (a repeated key counts again)."""
        self._state = _OPEN
        self._parts: list[str] = []  # the current key or value, from past pieces
        self._key = ""
        self._depth = 0  # brackets open in the current nested value
        self._nested_string = False  # inside a string in a nested value
        self._escape = False  # the last piece ended in a string's backslash

    def feed(self, text: str) -> None:
        """Read the next piece of the answer."""
        if self._state in {_CLOSED, _BROKEN}:
            return
        try:
            self._scan(text)
        except (ValueError, RecursionError):
            self._state = _BROKEN

    def _scan(self, text: str) -> None:
        state, pos, start, end = self._state, 0, 0, len(text)
        if self._escape and end:
            self._escape, pos = False, 1  # the escaped character
        while pos < end:
            if state in _IN_STRING or (state == _NESTED and self._nested_string):
                state, pos = self._string(state, text, start, pos)
            elif state == _NESTED:
                state, pos = self._nested(text, start, pos)
            elif state == _SCALAR:
                found = _SCALAR_END.search(text, pos)
                if found is None:
                    break
                pos = found.start()
                self._add(json.loads(self._token(text, start, pos)))
                state = _AFTER
            else:
                found = _NON_SPACE.search(text, pos)
                if found is None:
                    break
                state, pos = self._structure(state, found.group(), found.start())
                if state in {_CLOSED, _BROKEN}:
                    break
                if state in _IN_TOKEN:
                    start = pos if state == _SCALAR else pos - 1
        if state in _IN_TOKEN:
            self._parts.append(text[start:])
        self._state = state

    def _string(self, state: int, text: str, start: int, pos: int) -> tuple[int, int]:
        """Read on in a string: the next state and index."""
        found = _QUOTE_OR_ESCAPE.search(text, pos)
        if found is None:
            return state, len(text)
        pos = found.end()
        if found.group() == "\\":
            if pos == len(text):
                self._escape = True
            return state, pos + 1
        if state == _NESTED:
            self._nested_string = False
            return state, pos
        token = json.loads(self._token(text, start, pos))
        if state == _IN_KEY:
            self._key = token
            return _COLON, pos
        self._add(token)
        return _AFTER, pos

    def _nested(self, text: str, start: int, pos: int) -> tuple[int, int]:
        """Read on in a nested object or array: the next state and index."""
        found = _QUOTE_OR_BRACKET.search(text, pos)
        if found is None:
            return _NESTED, len(text)
        pos, char = found.end(), found.group()
        if char == '"':
            self._nested_string = True
        elif char in "{[":
            self._depth += 1
        else:
            self._depth -= 1
            if not self._depth:
                self._add(json.loads(self._token(text, start, pos)))
                return _AFTER, pos
        return _NESTED, pos

    def _structure(self, state: int, char: str, pos: int) -> tuple[int, int]:
        """Step over `char`, outside any key or value: the next state and index."""
        if state == _OPEN and char == "{":
            return _FIRST_KEY, pos + 1
        if state in {_FIRST_KEY, _KEY} and char == '"':
            return _IN_KEY, pos + 1
        if state == _COLON and char == ":":
            return _VALUE, pos + 1
        if state == _VALUE:
            if char == '"':
                return _STRING, pos + 1
            if char in "{[":
                self._depth, self._nested_string = 1, False
                return _NESTED, pos + 1
            return _SCALAR, pos
        if state == _AFTER and char == ",":
            return _KEY, pos + 1
        if state in {_FIRST_KEY, _AFTER} and char == "}":
            return _CLOSED, pos + 1
        return _BROKEN, pos

    def _token(self, text: str, start: int, stop: int) -> str:
        token = "".join([*self._parts, text[start:stop]])
        self._parts.clear()
        return token

    def _add(self, value: Any) -> None:
        self.members[self._key] = value
        self.arrived += 1


class PartialJson:
    """What `parse_partial_json` returns for the text so far, without rereading it.

    `parse_partial_json` walks the whole text in Python on every call: quadratic
    on a stream (seconds for 10 kB in one-token chunks). This keeps its walk's
    state across pieces (the text with raw newlines in strings escaped, the open
    brackets, an open string) and repeats only its last step, which is C work:
    decode the text with the brackets closed, cutting it back where the decoder
    stops, as it does. The results are the same (a property test checks).
    """

    def __init__(self) -> None:
        self._text = ""
        self._doubles: set[int] = set()  # where a newline became two characters
        self._closing: list[str] = []
        self._in_string = False
        self._escaped = False
        self._mismatched = False

    def feed(self, piece: str) -> None:
        """Walk the next piece, as `parse_partial_json` walks each character."""
        if self._mismatched:
            return
        out, in_string, escaped = [], self._in_string, self._escaped
        closing, length = self._closing, len(self._text)
        for char in piece:
            new = char
            if in_string:
                if char == '"' and not escaped:
                    in_string = False
                elif char == "\n" and not escaped:
                    new = "\\n"
                    self._doubles.add(length)
                elif char == "\\":
                    escaped = not escaped
                else:
                    escaped = False
            elif char == '"':
                in_string, escaped = True, False
            elif char == "{":
                closing.append("}")
            elif char == "[":
                closing.append("]")
            elif char in "}]":
                if not closing or closing[-1] != char:
                    self._mismatched = True
                    return
                closing.pop()
            out.append(new)
            length += len(new)
        self._text += "".join(out)
        self._in_string, self._escaped = in_string, escaped

    def value(self) -> Any:
        """The value so far; None where `parse_partial_json` gives None or fails."""
        if self._mismatched:
            return None
        text, doubles = self._text, self._doubles
        if self._in_string:
            text = (text[:-1] if self._escaped else text) + '"'
        closing = "".join(reversed(self._closing))
        while text:
            try:
                return json.loads(text + closing, strict=False)
            except json.JSONDecodeError as exc:
                if exc.pos < len(text):  # cut at the character the decoder refused
                    text = text[: exc.pos - 1 if exc.pos - 1 in doubles else exc.pos]
                else:
                    text = text[: -2 if len(text) - 2 in doubles else -1]
        return None
