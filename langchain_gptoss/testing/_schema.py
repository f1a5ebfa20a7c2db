"""Fill a JSON schema from the words of a prompt, as a small obedient model would."""

from __future__ import annotations

import re
from typing import Any

# Quoted spans as people type them: '...' (not an apostrophe), "...", curly double
# and single quotes, and CJK corner brackets.
_QUOTED = re.compile(
    r"(?<!\w)'([^'\n]+?)'(?!\w)|\"([^\"\n]+)\""
    r"|\u201c([^\u201d]+)\u201d|\u2018([^\u2019]+)\u2019"
    r"|\u300c([^\u300d]+)\u300d|\u300e([^\u300f]+)\u300f"
)
_NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?!\w)")
_WORD = re.compile(r"[^\W_]+(?:['\u2019][^\W_]+)?")
# A place may hold a comma ("San Francisco, CA"); a topic ends at one.
_CUT = re.compile(r"[?.!;:\n]|,?\s+(?:and|or|but|then|with)\s+|\s+\(")
_TOPIC_CUT = re.compile(r"[?.!;:,\n]|\s+(?:and|or|but|then|with)\s+|\s+\(")
_ARTICLES = frozenset({"a", "an", "the", "me", "my", "some"})
_FILLERS = _ARTICLES | {"and", "or", "with", "to", "of", "for", "by", "at", "on"}
_MAX_PHRASE_WORDS = 5
_LAST_WORDS = 3
_MAX_DEPTH = 8
_BOUNDS = ("minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum")
_FORMATS = {
    "date": "2025-01-01",
    "date-time": "2025-01-01T00:00:00Z",
    "time": "00:00:00",
    "email": "user@example.com",
    "uri": "https://example.com",
    "url": "https://example.com",
    "uuid": "00000000-0000-4000-8000-000000000000",
}


def quoted(text: str) -> list[str]:
    """Return the quoted spans of ``text`` in order of appearance."""
    return [
        next(g for g in m.groups() if g is not None) for m in _QUOTED.finditer(text)
    ]


def unquoted(text: str) -> str:
    """Return ``text`` with its quoted spans blanked out."""
    return _QUOTED.sub(" ", text)


def _phrase(text: str, cut: re.Pattern[str]) -> str:
    """Trim a phrase at the first clause break; keep at most a few words."""
    words = cut.split(text, maxsplit=1)[0].strip(" ,").split()
    while words and words[0].lower() in _ARTICLES:
        words.pop(0)
    return " ".join(words[:_MAX_PHRASE_WORDS]).rstrip(" ,")


def _after(word: str, text: str, cut: re.Pattern[str] = _CUT) -> str:
    """Return the phrase after ``word``, preferring a capitalised one (a place)."""
    matches = list(re.finditer(rf"(?<!\w){word}\s+(?=\S)", text, re.IGNORECASE))
    named = [m for m in matches if not text[m.end()].islower()]
    for match in named or matches[::-1]:
        phrase = _phrase(text[match.end() :], cut)
        if phrase:
            return phrase
    return ""


def _last_words(text: str) -> str:
    """Return the last few words that carry meaning (no numbers, no fillers)."""
    words = [
        word
        for word in _WORD.findall(text)
        if not word.isdigit() and word.lower() not in _FILLERS
    ]
    return " ".join(words[-_LAST_WORDS:])


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _number(raw: str) -> int | float:
    value = float(raw)
    return int(value) if value.is_integer() and "." not in raw else value


class Source:
    """What a prompt offers the schema filler, consumed left to right.

    Attributes:
        quotes: Quoted spans not used yet.
        numbers: Numbers (outside quotes) not used yet.
        phrase: The text a free-form string falls back to: the place after "in",
            else the last words.
        topic: What the prompt is about (after "about", else ``phrase``).
        prose: Write short sentences for free-form strings (structured output)
            instead of copying ``phrase`` (tool arguments).
        words: The prompt's words, lower-cased, for choosing among enum values.
    """

    def __init__(self, text: str, *, prose: bool = False) -> None:
        """Read quotes, numbers and fallback phrases out of ``text``."""
        self.quotes = quoted(text)
        rest = unquoted(text)
        self.numbers = [_number(m.group()) for m in _NUMBER.finditer(rest)]
        self.phrase = _after("in", rest) or _last_words(rest) or "example"
        self.topic = _after("about", rest, _TOPIC_CUT) or self.phrase
        self.prose = prose
        self.words = set(re.findall(r"\w+", text.lower()))

    def choose(self, options: list[Any]) -> Any:
        """Return the first option the prompt names as a word, else the first."""
        named = (o for o in options if isinstance(o, str) and o.lower() in self.words)
        return next(named, options[0])

    def string(self, name: str, schema: dict[str, Any]) -> str:
        """Return the next quoted span, else a value derived from the prompt."""
        if self.quotes:
            return self.quotes.pop(0)
        if schema.get("format") in _FORMATS:
            return _FORMATS[schema["format"]]
        if not self.prose:
            return self.phrase
        label = str(schema.get("description") or schema.get("title") or name)
        label = label.strip().split(". ")[0].rstrip(".").replace("_", " ")
        return f"{label[:1].upper()}{label[1:]} about {self.topic}."

    def number(self, schema: dict[str, Any], *, integer: bool) -> int | float:
        """Return the next number of the prompt, else 0 moved inside the bounds."""
        if self.numbers:
            taken = self.numbers.pop(0)
            return round(taken) if integer else taken
        value: int | float = 0
        bounds = {k: v for k, v in schema.items() if k in _BOUNDS and _is_number(v)}
        if "minimum" in bounds and value < bounds["minimum"]:
            value = bounds["minimum"]
        if "exclusiveMinimum" in bounds and value <= bounds["exclusiveMinimum"]:
            value = bounds["exclusiveMinimum"] + 1
        if "maximum" in bounds and value > bounds["maximum"]:
            value = bounds["maximum"]
        if "exclusiveMaximum" in bounds and value >= bounds["exclusiveMaximum"]:
            value = bounds["exclusiveMaximum"] - 1
        return int(value) if integer else value


def _resolve(ref: str, root: dict[str, Any]) -> dict[str, Any]:
    node: Any = root
    for part in ref.removeprefix("#").strip("/").split("/"):
        if not part:
            continue
        key = part.replace("~1", "/").replace("~0", "~")
        node = node.get(key) if isinstance(node, dict) else None
    return node if isinstance(node, dict) else {}


def _branch(schema: dict[str, Any]) -> dict[str, Any] | None:
    """Pick the first non-null alternative of ``anyOf``/``oneOf``; merge ``allOf``."""
    for key in ("anyOf", "oneOf"):
        options = [o for o in schema.get(key) or [] if isinstance(o, dict)]
        if options:
            chosen = next((o for o in options if o.get("type") != "null"), options[0])
            rest = {k: v for k, v in schema.items() if k != key}
            return {**rest, **chosen}
    parts = [p for p in schema.get("allOf") or [] if isinstance(p, dict)]
    if not parts:
        return None
    merged: dict[str, Any] = {k: v for k, v in schema.items() if k != "allOf"}
    for part in parts:
        for key, value in part.items():
            if key == "properties":
                merged["properties"] = {**merged.get("properties", {}), **value}
            elif key == "required":
                merged["required"] = [*merged.get("required", []), *value]
            else:
                merged.setdefault(key, value)
    return merged


def _kind(schema: dict[str, Any]) -> str:
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if isinstance(kind, str):
        return kind
    if "properties" in schema or "additionalProperties" in schema:
        return "object"
    if "items" in schema:
        return "array"
    return "string"


def fill(
    schema: Any,
    source: Source,
    *,
    root: dict[str, Any] | None = None,
    name: str = "value",
    depth: int = 0,
) -> Any:
    """Return a value of ``schema`` built from ``source``.

    Every property is filled, optional ones too, in schema order; ``$ref`` (into
    ``$defs`` or ``definitions``), ``anyOf``/``oneOf``/``allOf``, ``enum`` (the
    value the prompt names, else the first) and ``const`` are honoured; arrays
    stay empty.
    """
    if not isinstance(schema, dict):
        return {}
    root = schema if root is None else root
    for _ in range(_MAX_DEPTH):
        if isinstance(schema.get("$ref"), str):
            rest = {k: v for k, v in schema.items() if k != "$ref"}
            schema = {**_resolve(schema["$ref"], root), **rest}
        elif (branch := _branch(schema)) is not None:
            schema = branch
        else:
            break
    if "const" in schema:
        return schema["const"]
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return source.choose(schema["enum"])
    kind = _kind(schema)
    if kind == "object":
        properties = schema.get("properties")
        if not isinstance(properties, dict) or depth >= _MAX_DEPTH:
            return {}
        return {
            key: fill(sub, source, root=root, name=key, depth=depth + 1)
            for key, sub in properties.items()
        }
    if kind in {"integer", "number"}:
        return source.number(schema, integer=kind == "integer")
    if kind == "boolean":
        return True
    if kind == "array":
        return []
    if kind == "null":
        return None
    return source.string(name, schema)
