"""One model call in a fresh interpreter; prints `PROBE {json}` with what happened.

Run by `support.probe` as `python -m tests.hostile.probe PARAMS_JSON` from the
worktree root, so this worktree's `langchain_gptoss` is the one imported. Reports
the time the call took, its error (class, MRO, message, the attributes tests look
at), how much text came back, the peak RSS before and after the call, and (async,
with `ticker`) the longest gap between ticks of a 10 ms ticker on the same loop.
"""

from __future__ import annotations

import asyncio
import json
import resource
import sys
import time
from typing import Any

import langchain_gptoss
from langchain_gptoss import ChatGptOss


def rss_mb() -> float:
    """Peak resident set size so far, in MB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def describe(error: BaseException) -> dict[str, Any]:
    body = getattr(error, "body", None)
    return {
        "type": type(error).__name__,
        "mro": [cls.__name__ for cls in type(error).__mro__],
        "str": str(error)[:2000],
        "setting": getattr(error, "setting", None),
        "limit": getattr(error, "limit", None),
        "status_code": getattr(error, "status_code", None),
        "body_len": None if body is None else len(body),
        "is_retryable": getattr(error, "is_retryable", None),
    }


def sync_call(model: ChatGptOss, how: str) -> int:
    if how == "invoke":
        return len(str(model.invoke("hi").content))
    return sum(len(str(chunk.content)) for chunk in model.stream("hi"))


async def async_call(model: ChatGptOss, how: str) -> int:
    if how == "invoke":
        return len(str((await model.ainvoke("hi")).content))
    total = 0
    async for chunk in model.astream("hi"):
        total += len(str(chunk.content))
    return total


def main() -> None:
    params = json.loads(sys.argv[1])
    model = ChatGptOss(
        base_url=params["base_url"],
        api_key=params["token"],
        project_id=params["project_id"],
        **params["settings"],
    )
    how: str = params["how"]
    result: dict[str, Any] = {"package": langchain_gptoss.__file__}
    if params["mode"] == "sync":
        if params["warmup"]:
            sync_call(model, how)
        result["rss_before_mb"] = rss_mb()
        started = time.monotonic()
        try:
            result["content_len"] = sync_call(model, how)
        except BaseException as exc:
            result["error"] = describe(exc)
        result["elapsed"] = time.monotonic() - started
    else:
        asyncio.run(run_async(model, params, result))
    result["rss_after_mb"] = rss_mb()
    print("PROBE " + json.dumps(result), flush=True)  # noqa: T201


async def run_async(
    model: ChatGptOss, params: dict[str, Any], result: dict[str, Any]
) -> None:
    how = params["how"]
    if params["warmup"]:
        await async_call(model, how)
    result["rss_before_mb"] = rss_mb()
    gaps = [0.0]
    running = True

    async def tick() -> None:
        last = time.monotonic()
        while running:
            await asyncio.sleep(0.01)
            now = time.monotonic()
            gaps.append(now - last)
            last = now

    ticker = asyncio.create_task(tick()) if params["ticker"] else None
    await asyncio.sleep(0)
    started = time.monotonic()
    try:
        result["content_len"] = await async_call(model, how)
    except BaseException as exc:
        result["error"] = describe(exc)
    result["elapsed"] = time.monotonic() - started
    running = False
    if ticker is not None:
        await ticker
        result["max_gap"] = max(gaps)
    await model.aclose()


if __name__ == "__main__":
    main()
