"""The clients compared: ChatGptOss, ChatOpenAI, raw httpx, and a no-I/O floor."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from contextlib import AbstractContextManager
from typing import Any

import httpx
from _api import HEADERS, MODEL, PROJECT, QUERY, TOKEN, body, chat_url, openai_base
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult

from langchain_gptoss import ChatGptOss


def gptoss(base_url: str) -> ChatGptOss:
    return ChatGptOss(base_url=base_url, api_key=TOKEN, project_id=PROJECT)


def chat_openai(base_url: str) -> BaseChatModel:
    """What people do today: ChatOpenAI pointed at TIR."""
    from langchain_openai import ChatOpenAI

    return ChatOpenAI(
        model=MODEL,
        base_url=openai_base(base_url),
        api_key=TOKEN,  # type: ignore[arg-type]
        default_query={"project_id": PROJECT},
    )


def open_stream(
    client: httpx.Client, base_url: str, prompt: str
) -> AbstractContextManager[httpx.Response]:
    """POST `prompt` for a streamed answer, as a raw client does."""
    return client.stream(
        "POST",
        chat_url(base_url),
        params=QUERY,
        headers=HEADERS,
        json=body(prompt, stream=True),
    )


def raw_stream(client: httpx.Client, base_url: str, prompt: str) -> int:
    """The floor for any client: post, read the SSE lines, json.loads each event."""
    events = 0
    with open_stream(client, base_url, prompt) as response:
        for line in response.iter_lines():
            if line.startswith("data: {"):
                json.loads(line[6:])
                events += 1
    return events


def raw_invoke(client: httpx.Client, base_url: str, prompt: str) -> Any:
    url = chat_url(base_url)
    return client.post(
        url, params=QUERY, headers=HEADERS, json=body(prompt, stream=False)
    ).json()


async def raw_ainvoke(client: httpx.AsyncClient, base_url: str, prompt: str) -> Any:
    url = chat_url(base_url)
    response = await client.post(
        url, params=QUERY, headers=HEADERS, json=body(prompt, stream=False)
    )
    return response.json()


def pooled_async_client(size: int) -> httpx.AsyncClient:
    """Raw httpx with a pool as large as the concurrency, so nothing queues.

    The read timeout is raised from httpx's 5 s, which a loaded 2-core machine
    can pass; it costs nothing per request.
    """
    return httpx.AsyncClient(
        timeout=httpx.Timeout(600),
        limits=httpx.Limits(max_connections=size, max_keepalive_connections=size),
    )


async def raw_astream(client: httpx.AsyncClient, base_url: str, prompt: str) -> int:
    """`raw_stream`'s async twin: post, read the SSE lines, json.loads each event."""
    events = 0
    async with client.stream(
        "POST",
        chat_url(base_url),
        params=QUERY,
        headers=HEADERS,
        json=body(prompt, stream=True),
    ) as response:
        async for line in response.aiter_lines():
            if line.startswith("data: {"):
                json.loads(line[6:])
                events += 1
    return events


class NoIOChatModel(BaseChatModel):
    """The floor: LangChain's own cost per chunk, with no I/O at all.

    The text of every chunk is prepared beforehand; each stream builds one
    `AIMessageChunk` per event from it, as any chat model must, and hands it to
    LangChain's streaming machinery.
    """

    templates: list[tuple[str, str]]

    @property
    def _llm_type(self) -> str:
        return "no-io"

    def _chunks(self) -> Iterator[ChatGenerationChunk]:
        for reasoning, content in self.templates:
            extra = {"reasoning_content": reasoning} if reasoning else {}
            message = AIMessageChunk(content=content, additional_kwargs=extra)
            yield ChatGenerationChunk(message=message)

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: Any = None,
        run_manager: Any = None,
        **kwargs: Any,
    ) -> ChatResult:
        text = "".join(content for _, content in self.templates)
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text))])

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: Any = None,
        run_manager: Any = None,
        **kwargs: Any,
    ) -> ChatResult:
        return self._generate(messages)

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: Any = None,
        run_manager: Any = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        yield from self._chunks()

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: Any = None,
        run_manager: Any = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        for chunk in self._chunks():
            yield chunk


def floor_for(base_url: str, prompt: str) -> NoIOChatModel:
    """A no-I/O model with one chunk per event of the real answer to `prompt`."""
    templates: list[tuple[str, str]] = []
    with httpx.Client() as client, open_stream(client, base_url, prompt) as response:
        for line in response.iter_lines():
            if line.startswith("data: {"):
                event = json.loads(line[6:])
                delta = (event.get("choices") or [{}])[0].get("delta") or {}
                templates.append(
                    (delta.get("reasoning") or "", delta.get("content") or "")
                )
    return NoIOChatModel(templates=templates)
