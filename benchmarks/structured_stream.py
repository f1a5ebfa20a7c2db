"""How long streamed structured output takes: ~10 kB of JSON in one-token chunks.

Run from the repository root:

    python benchmarks/structured_stream.py

Prints times, asserts none: the parser alone (content and tool-call arguments,
pydantic and dict outputs), then the whole path through ChatGptOss and the
in-process emulator, which shares this process and so is part of the time.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from langchain_core.messages import AIMessageChunk
from langchain_core.messages.tool import tool_call_chunk
from pydantic import BaseModel

sys.path.insert(0, str(Path(__file__).parent.parent))

from langchain_gptoss import ChatGptOss
from langchain_gptoss._structured import JsonAnswerParser
from langchain_gptoss.testing import Reply, TirEmulator, ToolCall
from langchain_gptoss.testing._tokens import tokenize


class Item(BaseModel):
    sku: str
    quantity: int
    price: float
    tags: list[str]


class Order(BaseModel):
    """An order."""

    customer: str
    note: str = ""
    express: bool = False
    total: float = 0.0
    items: list[Item] = []
    lines: list[str] = []


def order_json() -> str:
    items = [
        Item(sku=f"SKU-{i:04d}", quantity=i, price=i * 1.25, tags=["a\u00e9", f"t{i}"])
        for i in range(90)
    ]
    order = Order(
        customer='Ren\u00e9e "Ray" O\u2019Brien',
        note="Leave at the door; ring twice. " * 60,
        express=True,
        total=12345.5,
        items=items,
        lines=[f"line {i}: caf\u00e9 \\ Z\u00fcrich" for i in range(90)],
    )
    return order.model_dump_json()


def content_chunks(pieces: list[str]) -> list[AIMessageChunk]:
    return [AIMessageChunk(content=p) for p in pieces]


def call_chunks(pieces: list[str]) -> list[AIMessageChunk]:
    return [
        AIMessageChunk(
            content="",
            tool_call_chunks=[
                tool_call_chunk(
                    name="Order" if n == 0 else None, args=p, id=None, index=0
                )
            ],
        )
        for n, p in enumerate(pieces)
    ]


def timed(label: str, run: Callable[[], list[Any]]) -> None:
    started = time.perf_counter()
    out = run()
    elapsed = time.perf_counter() - started
    print(f"{label:<52} {elapsed * 1000:8.1f} ms  ({len(out)} objects)")


def main() -> None:
    text = order_json()
    pieces = tokenize(text)
    print(f"{len(text)} characters of JSON in {len(pieces)} one-token chunks\n")
    for carrier, chunks, tool in (
        ("content", content_chunks(pieces), None),
        ("tool-call arguments", call_chunks(pieces), "Order"),
    ):
        for kind, schema in (("pydantic", Order), ("dict", None)):
            parser = JsonAnswerParser(model_class=schema, tool_name=tool)
            timed(
                f"parser, {kind}, {carrier}",
                lambda p=parser, c=chunks: list(p.transform(iter(c))),
            )

    def respond(body: dict[str, Any]) -> Reply:
        if body.get("tools"):
            return Reply(
                reasoning="", content=None, tool_calls=(ToolCall("Order", text),)
            )
        return Reply(reasoning="", content=text)

    print()
    with TirEmulator(responder=respond, tokens_per_chunk=1) as emu:
        model = ChatGptOss(
            base_url=emu.base_url, api_key=emu.token, project_id=emu.project_id
        )
        timed("ChatGptOss.stream, no parser", lambda: list(model.stream("q")))
        for method in ("json_schema", "function_calling"):
            for kind, schema in (
                ("pydantic", Order),
                ("dict", Order.model_json_schema()),
            ):
                chain = model.with_structured_output(schema, method=method)
                timed(
                    f"with_structured_output, {method}, {kind}",
                    lambda c=chain: list(c.stream("q")),
                )


if __name__ == "__main__":
    main()
