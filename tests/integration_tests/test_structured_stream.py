"""Streamed structured output over loopback, one token per SSE chunk, sync and async."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import BaseModel
from typing_extensions import TypedDict

from langchain_gptoss.testing import Reply, TirEmulator, ToolCall
from tests.integration_tests.conftest import needs_emulator

pytestmark = needs_emulator


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
    address: Address | None = None
    tags: list[str] = []


class PersonDict(TypedDict):
    """A person."""

    name: str
    age: int
    score: float
    quote: str
    active: bool
    address: dict[str, str]
    tags: list[str]


# The emulator splits `\"`, `\u00e9` and `12.5` across tokens, one token a chunk.
ANSWER = (
    r'{"name": "Ren\u00e9e \"Ray\" O\u2019Brien", "age": 123, "score": -12.5, '
    r'"quote": "caf\u00e9 \\ Zürich 東京\n", "active": true, '
    r'"address": {"street": "Baker Street", "city": "London, UK"}, '
    r'"tags": ["a, b", "c]"]}'
)


def scripted(body: dict[str, Any]) -> Reply:
    """Answer with ANSWER: as content, or as the arguments of the forced call."""
    tools = body.get("tools") or []
    if tools:
        call = ToolCall(tools[0]["function"]["name"], ANSWER)
        return Reply(reasoning="Call it.", content=None, tool_calls=(call,))
    return Reply(reasoning="Answer in JSON.", content=ANSWER)


@pytest.fixture(scope="module")
def emulator() -> Iterator[TirEmulator]:
    with TirEmulator(responder=scripted, tokens_per_chunk=1) as emu:
        yield emu


def both_ways(chain: Any, prompt: str) -> list[Any]:
    """Stream sync and async; they must yield the same objects."""
    synced = list(chain.stream(prompt))

    async def collect() -> list[Any]:
        return [item async for item in chain.astream(prompt)]

    assert asyncio.run(collect()) == synced
    return synced


@pytest.mark.parametrize("method", ["json_schema", "function_calling"])
def test_pydantic_objects_hold_only_whole_fields(
    emulator: TirEmulator, method: str
) -> None:
    chain = emulator.chat_model().with_structured_output(Person, method=method)
    streamed = both_ways(chain, "Who is this?")
    final = Person.model_validate_json(ANSWER)
    assert streamed[-1] == final == chain.invoke("Who is this?")
    assert len(streamed) == len(Person.model_fields)  # one per member, name first
    for obj in streamed:
        assert isinstance(obj, Person)
        for name in obj.model_fields_set:
            assert getattr(obj, name) == getattr(final, name), name
        for name in Person.model_fields.keys() - obj.model_fields_set:
            assert getattr(obj, name) == Person.model_fields[name].default, name
    for before, after in itertools.pairwise(streamed):
        assert before.model_fields_set < after.model_fields_set


@pytest.mark.parametrize("method", ["json_schema", "function_calling"])
@pytest.mark.parametrize("schema", [PersonDict, Person.model_json_schema()])
def test_dict_schemas_stream_partial_dicts(
    emulator: TirEmulator, method: str, schema: Any
) -> None:
    chain = emulator.chat_model().with_structured_output(schema, method=method)
    streamed = both_ways(chain, "Who is this?")
    final = json.loads(ANSWER)
    assert streamed[-1] == final == chain.invoke("Who is this?")
    assert all(isinstance(d, dict) for d in streamed)
    names = [d["name"] for d in streamed if "name" in d]
    assert any(final["name"].startswith(n) and n != final["name"] for n in names)


@pytest.mark.parametrize("method", ["json_schema", "function_calling"])
def test_default_model_streams_whole_fields(method: str) -> None:
    """The emulator's own model, filling the schema from the prompt."""

    class Place(BaseModel):
        """A place."""

        street: str
        number: int = 0
        city: str = ""

    prompt = "Place at 'Baker Street' 221 in 'London'."
    with TirEmulator(tokens_per_chunk=1) as emu:
        chain = emu.chat_model().with_structured_output(Place, method=method)
        streamed = both_ways(chain, prompt)
        final = chain.invoke(prompt)
    assert final == Place(street="Baker Street", number=221, city="London")
    assert [obj.model_dump(exclude_unset=True) for obj in streamed] == [
        {"street": "Baker Street"},
        {"street": "Baker Street", "number": 221},
        {"street": "Baker Street", "number": 221, "city": "London"},
    ]
