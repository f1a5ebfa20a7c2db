"""Unit tests run without sockets: every request goes to an httpx.MockTransport."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import pytest
from pytest_socket import disable_socket, enable_socket

from langchain_gptoss import ChatGptOss

TOKEN = "unit-test-token-8d1f"
PROJECT = 12345

Handler = Callable[[httpx.Request], httpx.Response]


@pytest.fixture(autouse=True)
def _no_network() -> Iterator[None]:
    # Unix sockets stay allowed: asyncio's event loop needs a socketpair.
    disable_socket(allow_unix_socket=True)
    yield
    enable_socket()


class Pieces(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A response body delivered in the given pieces, sync or async."""

    def __init__(self, pieces: list[bytes]) -> None:
        self.pieces = pieces
        self.closed = False

    def __iter__(self) -> Iterator[bytes]:
        yield from self.pieces

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for piece in self.pieces:
            yield piece

    def close(self) -> None:
        self.closed = True

    async def aclose(self) -> None:
        self.closed = True


def sse_bytes(*events: dict[str, Any] | str, done: bool = True) -> bytes:
    lines = [f"data: {e if isinstance(e, str) else json.dumps(e)}\n\n" for e in events]
    if done:
        lines.append("data: [DONE]\n\n")
    return "".join(lines).encode()


def sse_response(body: bytes, *, split: int | None = None) -> httpx.Response:
    """An SSE response whose body arrives in `split`-byte pieces (or whole)."""
    size = split or len(body) or 1
    pieces = [body[i : i + size] for i in range(0, len(body), size)]
    return httpx.Response(
        200, headers={"content-type": "text/event-stream"}, stream=Pieces(pieces)
    )


class Recorder:
    """Records requests and answers each with the next planned response."""

    def __init__(
        self, *responses: httpx.Response | Callable[[], httpx.Response]
    ) -> None:
        self.responses = list(responses)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        planned = (
            self.responses.pop(0) if len(self.responses) > 1 else self.responses[0]
        )
        return planned() if callable(planned) else planned

    @property
    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(r.content) for r in self.requests]


def make_model(handler: Handler, **kwargs: Any) -> ChatGptOss:
    transport = httpx.MockTransport(handler)
    params: dict[str, Any] = {
        "api_key": TOKEN,
        "project_id": PROJECT,
        "max_retries": 0,
        "http_client": httpx.Client(transport=transport),
        "http_async_client": httpx.AsyncClient(transport=transport),
    }
    params.update(kwargs)
    return ChatGptOss(**params)


@pytest.fixture(params=["sync", "async"])
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def run_invoke(chat: Any, mode: str, /, *args: Any, **kwargs: Any) -> Any:
    if mode == "sync":
        return chat.invoke(*args, **kwargs)
    return asyncio.run(chat.ainvoke(*args, **kwargs))


def run_stream(
    chat: Any, mode: str, /, *args: Any, into: list[Any] | None = None, **kwargs: Any
) -> list[Any]:
    """Stream in `mode`; chunks also land in `into`, so they survive an error."""
    chunks = [] if into is None else into
    if mode == "sync":
        chunks.extend(chat.stream(*args, **kwargs))
        return chunks

    async def collect() -> None:
        async for chunk in chat.astream(*args, **kwargs):
            chunks.append(chunk)

    asyncio.run(collect())
    return chunks
