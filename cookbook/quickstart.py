"""Quickstart: invoke, stream with the reasoning shown apart, async, and batch.

Run from the repository root:

    python cookbook/quickstart.py

It talks to TIR when E2E_TIR_ACCESS_TOKEN and E2E_TIR_PROJECT_ID are set, otherwise
to the bundled emulator (and says so on its first line).
"""

from __future__ import annotations

import asyncio
import sys
from typing import TYPE_CHECKING

from _connect import chat_model

if TYPE_CHECKING:
    from langchain_gptoss import ChatGptOss

DIM, RESET = ("\033[2m", "\033[0m") if sys.stdout.isatty() else ("", "")


def show_invoke(model: ChatGptOss) -> None:
    message = model.invoke("In one sentence: why is the sky blue?")
    print("\n== invoke")
    print(f"reasoning: {message.additional_kwargs.get('reasoning_content', '')}")
    print(f"answer:    {message.content}")
    print(f"usage:     {message.usage_metadata}")


def show_stream(model: ChatGptOss) -> None:
    print("\n== stream (reasoning dimmed, then the answer)")
    answering = False
    for chunk in model.stream("Name three prime numbers."):
        reasoning = chunk.additional_kwargs.get("reasoning_content")
        if reasoning:
            print(f"{DIM}{reasoning}{RESET}", end="", flush=True)
        if chunk.content:
            if not answering:
                print("\nanswer: ", end="")
                answering = True
            print(chunk.content, end="", flush=True)
        if chunk.usage_metadata:
            print(f"\nusage: {chunk.usage_metadata}")


async def show_async(model: ChatGptOss) -> None:
    message = await model.ainvoke("Say hello in French.")
    print("\n== async")
    print(f"answer: {message.content}")


def show_batch(model: ChatGptOss) -> None:
    questions = ["What is 2 + 2?", "Capital of Japan?", "Largest planet?"]
    print("\n== batch")
    for question, answer in zip(
        questions, model.batch(questions, config={"max_concurrency": 3}), strict=True
    ):
        print(f"{question} -> {answer.content}")


def main() -> None:
    with chat_model(reasoning_effort="low", max_tokens=1024) as model:
        show_invoke(model)
        show_stream(model)
        asyncio.run(show_async(model))
        show_batch(model)


if __name__ == "__main__":
    main()
