"""Streamed structured output: a pydantic object holds only fields that have arrived.

Answers are fed chunk by chunk, to the parser itself and through ChatGptOss over a
MockTransport, with every split that matters: inside numbers, escapes, surrogate
pairs, literals, nested objects and lists.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from langchain_core.exceptions import OutputParserException
from langchain_core.messages import AIMessageChunk
from langchain_core.messages.tool import tool_call_chunk
from langchain_core.utils.json import parse_partial_json
from pydantic import BaseModel, create_model, model_validator
from pydantic import v1 as pydantic_v1
from typing_extensions import TypedDict

from langchain_gptoss._partial_json import PartialJson, WholeMembers
from langchain_gptoss._structured import JsonAnswerParser
from langchain_gptoss.testing._tokens import tokenize
from tests.unit_tests.conftest import (
    Recorder,
    make_model,
    run_invoke,
    run_stream,
    sse_bytes,
    sse_response,
)
from tests.unit_tests.wire import chunk as event
from tests.unit_tests.wire import completion

TOOL_ID = "chatcmpl-tool-0b6f3c2a9d8e4f1a8c7b6a5d4e3f2a1b"
METHODS = ["json_schema", "json_mode", "function_calling"]


class Address(BaseModel):
    street: str
    city: str


class Person(BaseModel):
    """A person."""

    name: str
    age: int = 0
    score: float = 0.0
    quote: str = ""
    active: bool = False
    nickname: str | None = "none yet"
    address: Address | None = None
    tags: list[str] = []


class PersonDict(TypedDict):
    """A person."""

    name: str
    age: int
    score: float
    quote: str
    active: bool
    nickname: str | None
    address: dict[str, str]
    tags: list[str]


# Escapes (\", \\, \u00e9, a surrogate pair, \n), raw non-ASCII, a number with an
# exponent, literals, a nested object and a list whose strings hold , ] { }.
PERSON_JSON = (
    r'{"name": "Ren\u00e9e \"Ray\" O\u2019Brien", "age": 123, "score": -12.5e3, '
    r'"quote": "caf\u00e9 \\ \ud83d\ude00 Zürich 東京\n", "active": true, '
    r'"nickname": null, "address": {"street": "Baker Street", "city": "London, UK"}, '
    r'"tags": ["a, b", "c]", "{d}"]}'
)
PERSON = Person.model_validate_json(PERSON_JSON)
LAYOUTS = {
    "compact": PERSON_JSON,
    "indented": json.dumps(json.loads(PERSON_JSON), indent=2),
}


def answer(
    pieces: list[str], method: str, *, name: str = "Person", finish: str = "stop"
) -> httpx.Response:
    """A streamed answer whose JSON arrives in `pieces` (content or arguments)."""
    events = [
        event({"role": "assistant", "content": ""}),
        event({"reasoning": "Answer in JSON."}),
    ]
    if method == "function_calling":
        opener = {
            "id": TOOL_ID,
            "type": "function",
            "index": 0,
            "function": {"name": name, "arguments": ""},
        }
        events.append(event({"tool_calls": [opener]}))
        events += [
            event({"tool_calls": [{"index": 0, "function": {"arguments": piece}}]})
            for piece in pieces
        ]
        finish = "tool_calls" if finish == "stop" else finish
    else:
        events += [event({"content": piece}) for piece in pieces]
    events.append(event({}, finish_reason=finish))
    return sse_response(sse_bytes(*events))


def whole(text: str, method: str, *, name: str = "Person") -> httpx.Response:
    """The same answer, not streamed."""
    if method != "function_calling":
        return httpx.Response(200, json=completion("both", content=text))
    payload = completion("both", content=None, finish_reason="tool_calls")
    payload["choices"][0]["message"]["tool_calls"] = [
        {
            "id": TOOL_ID,
            "type": "function",
            "function": {"name": name, "arguments": text},
        }
    ]
    return httpx.Response(200, json=payload)


def structured(response: httpx.Response, schema: Any, method: str, **kw: Any) -> Any:
    return make_model(Recorder(response)).with_structured_output(
        schema, method=method, **kw
    )


def assert_whole_fields_only(
    streamed: list[Any], final: BaseModel, *, finished: bool = True
) -> None:
    """Each object's set fields equal the final ones; the others are defaults."""
    for obj in streamed:
        assert type(obj) is type(final)
        assert obj.model_fields_set <= final.model_fields_set
        for name, field in type(final).model_fields.items():
            if name in obj.model_fields_set:
                assert getattr(obj, name) == getattr(final, name), name
            else:
                assert getattr(obj, name) == field.get_default(
                    call_default_factory=True
                ), name
    for before, after in itertools.pairwise(streamed):
        assert before.model_fields_set < after.model_fields_set
    if finished:
        assert streamed, "nothing was streamed"
        assert streamed[-1] == final
        assert streamed[-1].model_fields_set == final.model_fields_set


# ------------------------------------------------------------ through ChatGptOss


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("split", ["chars", "tokens"])
def test_pydantic_stream_holds_only_whole_fields(
    method: str, layout: str, split: str, mode: str
) -> None:
    text = LAYOUTS[layout]
    pieces = list(text) if split == "chars" else tokenize(text)
    streamed = run_stream(structured(answer(pieces, method), Person, method), mode, "q")
    assert_whole_fields_only(streamed, PERSON)
    # `name` (required) comes first: one object per member from then on.
    assert len(streamed) == len(Person.model_fields)


@pytest.mark.parametrize("method", ["json_schema", "function_calling"])
@pytest.mark.parametrize("schema", [PersonDict, Person.model_json_schema()])
def test_dict_schemas_still_stream_partial_dicts(
    method: str, schema: Any, mode: str
) -> None:
    name = getattr(schema, "__name__", "Person")
    response = answer(tokenize(PERSON_JSON), method, name=name)
    streamed = run_stream(structured(response, schema, method), mode, "q")
    final = json.loads(PERSON_JSON)
    assert streamed[-1] == final
    assert all(isinstance(d, dict) and set(d) <= set(final) for d in streamed)
    # As LangChain's JSON parsers do: a string shows up while it is still arriving.
    names = [d["name"] for d in streamed if "name" in d]
    assert any(final["name"].startswith(n) and n != final["name"] for n in names)


@pytest.mark.parametrize("method", ["json_schema", "function_calling"])
@pytest.mark.parametrize("schema", [Person, PersonDict])
def test_cut_off_answer_raises_at_the_end_of_the_stream_like_invoke(
    method: str, schema: Any, mode: str
) -> None:
    cut = PERSON_JSON[: PERSON_JSON.index('"active"') + 12]  # inside `true`
    name = schema.__name__
    streamed: list[Any] = []
    with pytest.raises(OutputParserException) as caught:
        run_stream(
            structured(
                answer(tokenize(cut), method, name=name, finish="length"),
                schema,
                method,
            ),
            mode,
            "q",
            into=streamed,
        )
    assert cut in str(caught.value.llm_output)
    if schema is Person:
        assert_whole_fields_only(streamed, PERSON, finished=False)
        assert streamed[-1].model_fields_set == {"name", "age", "score", "quote"}
    with pytest.raises(OutputParserException) as invoked:
        run_invoke(structured(whole(cut, method, name=name), schema, method), mode, "q")
    assert cut in str(invoked.value.llm_output)


@pytest.mark.parametrize(
    "arguments", ['{"name": "Ren', '{"age": 3}', "[1]", None], ids=repr
)
def test_function_calling_errors_raise_like_json_schema(
    arguments: str | None, mode: str
) -> None:
    """Broken arguments raise OutputParserException, as the README says, not None."""
    response = (
        httpx.Response(200, json=completion("both", content="No call."))
        if arguments is None
        else whole(arguments, "function_calling")
    )
    with pytest.raises(OutputParserException) as caught:
        run_invoke(structured(response, Person, "function_calling"), mode, "q")
    assert (arguments or "No call.") in str(caught.value.llm_output)


@pytest.mark.parametrize("method", ["json_schema", "function_calling"])
@pytest.mark.parametrize("text", [PERSON_JSON, PERSON_JSON[:40]], ids=["whole", "cut"])
def test_include_raw_stream_gives_what_invoke_gives(
    method: str, text: str, mode: str
) -> None:
    response = answer(tokenize(text), method)
    streamed = run_stream(
        structured(response, Person, method, include_raw=True), mode, "q"
    )
    merged: dict[str, Any] = {}
    for chunk in streamed:
        merged.update(chunk)
    invoked = run_invoke(
        structured(whole(text, method), Person, method, include_raw=True), mode, "q"
    )
    assert set(merged) == set(invoked) == {"raw", "parsed", "parsing_error"}
    assert merged["parsed"] == invoked["parsed"]
    assert type(merged["parsing_error"]) is type(invoked["parsing_error"])
    if text == PERSON_JSON:
        assert merged["parsed"] == PERSON
        assert merged["parsing_error"] is None
    else:
        assert isinstance(merged["parsing_error"], OutputParserException)
        assert text in str(merged["parsing_error"].llm_output)
    assert isinstance(merged["raw"], AIMessageChunk)
    assert merged["raw"].text == invoked["raw"].text


# ------------------------------------------------------------- the parser itself


class Simple(BaseModel):
    s: str
    t: str = ""


class Num(BaseModel):
    a: int
    b: str = ""


class Flags(BaseModel):
    s: str
    flag: bool = False
    none: str | None = "x"


class Owner(BaseModel):
    name: str
    address: Address | None = None


class Tagged(BaseModel):
    name: str
    tags: list[str] = []


class Late(BaseModel):
    note: str = ""
    id: int


class OldStyle(pydantic_v1.BaseModel):
    name: str
    age: int = 0


# (schema, pieces, [(pieces consumed when an object came, its set fields)])
SPLITS: dict[str, tuple[Any, list[str], list[tuple[int, dict[str, Any]]]]] = {
    "a string is whole at its closing quote": (
        Simple,
        ['{"s": "Baker', " Street", '"', ', "t": "x"}'],
        [(3, {"s": "Baker Street"}), (4, {"s": "Baker Street", "t": "x"})],
    ),
    "a number split, then a comma": (
        Num,
        ['{"a": 12', "3", ",", ' "b": "x"}'],
        [(3, {"a": 123}), (4, {"a": 123, "b": "x"})],
    ),
    "a number split before the closing brace": (
        Num,
        ['{"b": "x", "a": 1', "2", "3", "}"],
        [(4, {"b": "x", "a": 123})],
    ),
    "a number ended by whitespace": (
        Num,
        ['{"a": 123', " ", ', "b": "x"}'],
        [(2, {"a": 123}), (3, {"a": 123, "b": "x"})],
    ),
    "an escaped quote split from its backslash": (
        Simple,
        ['{"s": "say \\', '"hi\\', '"', '"', "}"],
        [(4, {"s": 'say "hi"'})],
    ),
    "an escaped backslash before the closing quote": (
        Simple,
        ['{"s": "a\\', "\\", '"', "}"],
        [(3, {"s": "a\\"})],
    ),
    "a \\u escape split in the middle": (
        Simple,
        ['{"s": "caf\\u00', "e9", '"}'],
        [(3, {"s": "café"})],
    ),
    "a surrogate pair split between its halves": (
        Simple,
        ['{"s": "\\ud83d', "\\ude00", '!"}'],
        [(3, {"s": "\U0001f600!"})],
    ),
    "raw non-ASCII text": (
        Simple,
        ['{"s": "Zü', "rich 東", '京"}'],
        [(3, {"s": "Zürich 東京"})],
    ),
    "literals wait for a delimiter": (
        Flags,
        ['{"s": "x", "flag": tr', "ue", ', "none": nu', "ll", "}"],
        [
            (1, {"s": "x"}),
            (3, {"s": "x", "flag": True}),
            (5, {"s": "x", "flag": True, "none": None}),
        ],
    ),
    "a nested object only once it is closed": (
        Owner,
        [
            '{"name": "A", "address": {"street": "Baker',
            ' Street"',
            ', "city": "L"',
            "}",
            "}",
        ],
        [
            (1, {"name": "A"}),
            (4, {"name": "A", "address": {"street": "Baker Street", "city": "L"}}),
        ],
    ),
    "a list only once it is closed": (
        Tagged,
        ['{"name": "A", "tags": ["x", "y', '", "z]"', "]", "}"],
        [(1, {"name": "A"}), (3, {"name": "A", "tags": ["x", "y", "z]"]})],
    ),
    "nothing before a required field": (
        Late,
        ['{"note": "n"', ', "id": 7', "}"],
        [(3, {"note": "n", "id": 7})],
    ),
    "a pydantic v1 model": (
        OldStyle,
        ['{"name": "A', '", "age": 4', "2}"],
        [(2, {"name": "A"}), (3, {"name": "A", "age": 42})],
    ),
}


def set_fields(obj: Any) -> dict[str, Any]:
    if isinstance(obj, pydantic_v1.BaseModel):
        return obj.dict(exclude_unset=True)
    return obj.model_dump(exclude_unset=True)


def message_chunks(pieces: list[str], tool: str | None) -> list[AIMessageChunk]:
    if tool is None:
        return [AIMessageChunk(content=piece) for piece in pieces]
    return [
        AIMessageChunk(
            content="",
            tool_call_chunks=[
                tool_call_chunk(
                    name=tool if n == 0 else None,
                    args=piece,
                    id=TOOL_ID if n == 0 else None,
                    index=0,
                )
            ],
        )
        for n, piece in enumerate(pieces)
    ]


def feed(parser: JsonAnswerParser, chunks: list[Any], mode: str) -> list[Any]:
    """Return `(chunks consumed, object)` for each object the parser yields."""
    taken = 0

    def source() -> Iterator[Any]:
        nonlocal taken
        for chunk in chunks:
            taken += 1
            yield chunk

    if mode == "sync":
        return [(taken, obj) for obj in parser.transform(source())]

    async def asource() -> AsyncIterator[Any]:
        for chunk in source():
            yield chunk

    async def collect() -> list[Any]:
        return [(taken, obj) async for obj in parser.atransform(asource())]

    return asyncio.run(collect())


@pytest.mark.parametrize("case", SPLITS)
@pytest.mark.parametrize("carrier", ["text", "message", "tool call"])
def test_parser_yields_a_field_once_its_value_has_arrived(
    case: str, carrier: str, mode: str
) -> None:
    schema, pieces, expected = SPLITS[case]
    tool = schema.__name__ if carrier == "tool call" else None
    parser = JsonAnswerParser(model_class=schema, tool_name=tool)
    chunks = pieces if carrier == "text" else message_chunks(pieces, tool)
    got = feed(parser, chunks, mode)
    assert [(n, set_fields(obj)) for n, obj in got] == expected
    assert all(isinstance(obj, schema) for _, obj in got)


def test_validation_runs_once_per_arrived_field() -> None:
    """10 kB in one-token chunks: no reparse and revalidation on every chunk."""
    calls = []

    class Counted(BaseModel):
        @model_validator(mode="before")
        @classmethod
        def count(cls, data: Any) -> Any:
            calls.append(1)
            return data

    fields: dict[str, Any] = {f"f{i}": (str, "") for i in range(200)}
    many = create_model("Many", __base__=Counted, **fields)
    text = json.dumps({f"f{i}": f"word {i} " * 6 for i in range(200)})
    assert len(text) > 10_000
    streamed = list(JsonAnswerParser(model_class=many).transform(tokenize(text)))
    assert len(streamed) == 200
    assert len(calls) <= 200 + 1  # one per field, and the strict final one
    assert streamed[-1] == many.model_validate_json(text)


# ------------------------------------------------------- the reader, by property

JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=12,
)


def whole_members_reference(text: str) -> list[tuple[str, Any, int]]:
    """(key, value, prefix length from which it is whole) per member, via json."""
    decoder = json.JSONDecoder()

    def skip(pos: int) -> int:
        while text[pos].isspace():
            pos += 1
        return pos

    members = []
    pos = skip(skip(0) + 1)
    while text[pos] != "}":
        key, pos = json.decoder.scanstring(text, pos + 1)
        pos = skip(skip(pos) + 1)  # past the colon
        value, end = decoder.raw_decode(text, pos)
        members.append((key, value, end if text[pos] in '"[{' else end + 1))
        pos = skip(end)
        if text[pos] == ",":
            pos = skip(pos + 1)
    return members


@settings(max_examples=150, deadline=2000)
@given(
    data=st.dictionaries(st.text(max_size=6), JSON_VALUES, max_size=6),
    layout=st.sampled_from(
        [
            {},
            {"separators": (",", ":")},
            {"indent": 2},
            {"ensure_ascii": False, "indent": "\t"},
        ]
    ),
    cuts=st.lists(st.integers(min_value=0, max_value=400), max_size=40),
)
def test_whole_members_matches_a_json_reference(
    data: dict[str, Any], layout: dict[str, Any], cuts: list[int]
) -> None:
    text = json.dumps(data, **layout)
    reference = whole_members_reference(text)
    bounds = sorted({0, len(text), *(c for c in cuts if c < len(text))})
    reader = WholeMembers()
    for start, stop in itertools.pairwise(bounds):
        reader.feed(text[start:stop])
        expected = {k: v for k, v, ready in reference if ready <= stop}
        assert reader.members == expected
        assert reader.arrived == len(expected)
    assert reader.members == data


@settings(max_examples=150, deadline=2000)
@given(
    text=st.text(alphabet='{}[]",: \\aeflnrstu0123-.', max_size=60),
    cuts=st.lists(st.integers(min_value=0, max_value=60), max_size=10),
)
def test_whole_members_takes_any_text_without_raising(
    text: str, cuts: list[int]
) -> None:
    bounds = sorted({0, len(text), *(c for c in cuts if c < len(text))})
    reader = WholeMembers()
    for start, stop in itertools.pairwise(bounds):
        reader.feed(text[start:stop])
    with contextlib.suppress(ValueError):
        whole = json.loads(text)
        if isinstance(whole, dict):
            assert reader.members == whole


def partial_reference(text: str) -> Any:
    try:
        return parse_partial_json(text)
    except ValueError:
        return None


@settings(max_examples=300, deadline=2000)
@given(
    text=st.one_of(
        st.builds(
            json.dumps,
            JSON_VALUES,
            indent=st.sampled_from([None, 1]),
            ensure_ascii=st.booleans(),
        ),
        st.text(alphabet='{}[]",: \\\n\taeflnrstu0123-.E', max_size=40),
    ),
    cuts=st.lists(st.integers(min_value=0, max_value=200), max_size=30),
)
def test_partial_json_gives_what_parse_partial_json_gives(
    text: str, cuts: list[int]
) -> None:
    bounds = sorted({0, len(text), *(c for c in cuts if c < len(text))})
    reader = PartialJson()
    for start, stop in itertools.pairwise(bounds):
        reader.feed(text[start:stop])
        assert reader.value() == partial_reference(text[:stop]), text[:stop]
    reader = PartialJson()
    for stop, char in enumerate(text, 1):
        reader.feed(char)
        assert reader.value() == partial_reference(text[:stop]), text[:stop]
