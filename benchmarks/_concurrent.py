"""Many calls at once: short `ainvoke`s and long `astream`s, each count in its own process.

Each measurement runs in a fresh child (`python _concurrent.py KIND URL COUNT
REPEATS`), all of its clients in one event loop: langchain-openai caches its
async httpx client across loops, so a second `asyncio.run` in one process would
hand ChatOpenAI connections of a closed loop.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from typing import Any

import _clients as clients
from _api import LONG, SHORT
from _harness import Report, Spec, aconsume, amedians, child, gather


def invoke_specs(count: int) -> tuple[Spec, Spec]:
    return (
        Spec(f"{count} concurrent ainvokes: ChatGptOss / raw httpx", "<=", 1.15),
        Spec(f"{count} concurrent ainvokes: ChatOpenAI / ChatGptOss", ">", 1),
    )


def stream_specs(count: int) -> tuple[Spec, Spec]:
    return (
        Spec(f"{count} concurrent astreams: ChatGptOss / (raw + floor)", "<=", 1.15),
        Spec(f"{count} concurrent astreams: ChatOpenAI / ChatGptOss", ">", 1),
    )


def bench_concurrent_invoke(url: str, report: Report, count: int, repeats: int) -> None:
    limit, openai = invoke_specs(count)
    with report.guard(limit, openai):
        t = child("_concurrent.py", "invoke", url, count, repeats)
        report.note(
            f"{count} ainvokes at once: ours {t['ours']:.2f} s, raw httpx "
            f"{t['raw']:.2f} s, ChatOpenAI {t['openai']:.2f} s"
        )
        report.line(limit, t["ours"] / t["raw"], "raw: a pool as large as the count")
        report.line(openai, t["openai"] / t["ours"])


def bench_concurrent_stream(url: str, report: Report, count: int, repeats: int) -> None:
    limit, openai = stream_specs(count)
    with report.guard(limit, openai):
        t = child("_concurrent.py", "stream", url, count, repeats, timeout=1800)
        floor = t["raw"] + t["floor"]
        report.note(
            f"{count} long astreams at once: ours {t['ours']:.2f} s, raw httpx "
            f"{t['raw']:.2f} s + floor {t['floor']:.2f} s, ChatOpenAI "
            f"{t['openai']:.2f} s"
        )
        report.line(limit, t["ours"] / floor)
        report.line(
            openai,
            t["openai"] / t["ours"],
            f"a client at the limit would reach {t['openai'] / floor:.2f}",
        )


async def measure_invoke(url: str, count: int, repeats: int) -> dict[str, float]:
    model, openai = clients.gptoss(url), clients.chat_openai(url)
    async with clients.pooled_async_client(count) as raw:
        t_raw, t_ours, t_openai = await amedians(
            repeats,
            lambda: gather(count, lambda _: clients.raw_ainvoke(raw, url, SHORT)),
            lambda: gather(count, lambda _: model.ainvoke(SHORT)),
            lambda: gather(count, lambda _: openai.ainvoke(SHORT)),
        )
    return {"raw": t_raw, "ours": t_ours, "openai": t_openai}


async def measure_stream(url: str, count: int, repeats: int) -> dict[str, float]:
    model, openai = clients.gptoss(url), clients.chat_openai(url)
    floors = {prompt: clients.floor_for(url, prompt) for prompt in (LONG, SHORT)}
    async with clients.pooled_async_client(count) as raw:

        def works(prompt: str) -> list[Callable[[], Awaitable[Any]]]:
            return [
                lambda: gather(count, lambda _: clients.raw_astream(raw, url, prompt)),
                lambda: gather(
                    count, lambda _: aconsume(floors[prompt].astream(prompt))
                ),
                lambda: gather(count, lambda _: aconsume(model.astream(prompt))),
                lambda: gather(count, lambda _: aconsume(openai.astream(prompt))),
            ]

        # A round of long streams takes ChatOpenAI minutes; short ones open the
        # same `count` connections and warm the same code.
        t_raw, t_floor, t_ours, t_openai = await amedians(
            repeats, *works(LONG), warmups=works(SHORT)
        )
    return {"raw": t_raw, "floor": t_floor, "ours": t_ours, "openai": t_openai}


def main(argv: list[str]) -> None:
    kind, url, count, repeats = argv[0], argv[1], int(argv[2]), int(argv[3])
    measure: Any = {"invoke": measure_invoke, "stream": measure_stream}[kind]
    print(json.dumps(asyncio.run(measure(url, count, repeats))))


if __name__ == "__main__":
    main(sys.argv[1:])
