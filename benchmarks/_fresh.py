"""Lines measured in fresh processes: cold start, memory, import time.

The children are this file: `python _fresh.py cold ours|raw async|sync URL`
and `python _fresh.py memory gptoss|openai URL COUNT`.
"""

from __future__ import annotations

import asyncio
import compileall
import gc
import json
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from _api import HEADERS, LONG, PROJECT, QUERY, SHORT, TOKEN, body, chat_url
from _harness import Report, Spec, child, ms

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

# --- cold start: a new model and its first call, after the imports ---------------

COLD_MODES = ("async", "sync")
COLD_CALLS = ("first", "second")
COLD_CLIENTS = ("ours", "raw", "floor")


def cold_specs(mode: str, call: str) -> tuple[Spec, Spec]:
    what = (
        {"first": "new model + first ainvoke", "second": "second asyncio.run"}
        if mode == "async"
        else {"first": "new model + first invoke", "second": "second invoke"}
    )[call]
    return (
        Spec(f"cold start, {what}: ChatGptOss / raw", "<=", 1.2),
        Spec(f"cold start, {what}: ChatGptOss / (raw + floor)", "<=", 1.2),
    )


def bench_cold_start(url: str, report: Report, samples: int) -> None:
    """Each client in its own fresh process, `samples` times, interleaved.

    The floor is LangChain's own model with no I/O, taken through the same
    steps: what any LangChain chat model pays on top of raw httpx (its first
    call imports LangChain's tracers, every call runs its callback machinery).
    """
    specs = [s for m in COLD_MODES for c in COLD_CALLS for s in cold_specs(m, c)]
    with report.guard(*specs):
        times: dict[tuple[str, str], list[dict[str, float]]] = {}
        for sample in range(samples):  # interleaved, in rotating order
            for mode in COLD_MODES:
                for client in COLD_CLIENTS[sample % 3 :] + COLD_CLIENTS[: sample % 3]:
                    result = child("_fresh.py", "cold", client, mode, url, timeout=120)
                    times.setdefault((client, mode), []).append(result)
        for mode in COLD_MODES:
            for call in COLD_CALLS:
                ours, raw, floor = (
                    statistics.median(s[call] for s in times[client, mode])
                    for client in COLD_CLIENTS
                )
                to_raw, to_floor = cold_specs(mode, call)
                report.line(
                    to_raw,
                    ours / raw,
                    f"medians of {samples}: {ms(ours)} vs {ms(raw)}; raw + floor "
                    f"alone is {(raw + floor) / raw:.2f}x raw",
                )
                report.line(to_floor, ours / (raw + floor), f"floor {ms(floor)}")


def cold_ours(mode: str, url: str) -> dict[str, float]:
    from langchain_gptoss import ChatGptOss

    return two_calls(
        lambda: ChatGptOss(base_url=url, api_key=TOKEN, project_id=PROJECT), mode
    )


def cold_floor(mode: str, _url: str) -> dict[str, float]:
    from _clients import NoIOChatModel

    return two_calls(lambda: NoIOChatModel(templates=[("", "Short answer.")]), mode)


def two_calls(build: Callable[[], BaseChatModel], mode: str) -> dict[str, float]:
    """Build a model and call it twice: on two `asyncio.run`s, or `invoke`s."""
    started = time.perf_counter()
    model = build()
    if mode == "async":
        asyncio.run(model.ainvoke(SHORT))
        first = time.perf_counter()
        asyncio.run(model.ainvoke(SHORT))
    else:
        model.invoke(SHORT)
        first = time.perf_counter()
        model.invoke(SHORT)
    return {"first": first - started, "second": time.perf_counter() - first}


def cold_raw(mode: str, url: str) -> dict[str, float]:
    # httpx imports its transport's modules at the first client; importing
    # langchain_gptoss has imported them already, so they go before the clock.
    import certifi  # noqa: F401
    import httpcore  # noqa: F401
    import httpx

    def post(client: httpx.Client) -> Any:
        sent = body(SHORT, stream=False)
        return client.post(chat_url(url), params=QUERY, headers=HEADERS, json=sent)

    async def apost() -> Any:
        # A new client (default TLS settings) and its first post, as a fresh
        # `asyncio.run` of a raw script would.
        async with httpx.AsyncClient() as client:
            sent = body(SHORT, stream=False)
            response = await client.post(
                chat_url(url), params=QUERY, headers=HEADERS, json=sent
            )
            return response.json()

    started = time.perf_counter()
    if mode == "async":
        asyncio.run(apost())
        first = time.perf_counter()
        asyncio.run(apost())
        return {"first": first - started, "second": time.perf_counter() - first}
    with httpx.Client() as client:
        post(client).json()
        first = time.perf_counter()
        post(client).json()
    return {"first": first - started, "second": time.perf_counter() - first}


# --- memory: peak RSS of many long streams at once --------------------------------


def memory_spec(count: int) -> Spec:
    return Spec(f"{count} concurrent long astreams: memory vs ChatOpenAI", "<=", 0.9)


def bench_memory(url: str, report: Report, count: int) -> None:
    spec = memory_spec(count)
    with report.guard(spec):
        ours = child("_fresh.py", "memory", "gptoss", url, count)
        openai = child("_fresh.py", "memory", "openai", url, count)
        detail = (
            f"peak +{ours['peak_mb']:.0f} MB vs +{openai['peak_mb']:.0f} MB; "
            f"wall {ours['seconds']:.2f} s vs {openai['seconds']:.2f} s"
        )
        report.line(spec, ours["peak_mb"] / openai["peak_mb"], detail)


def measure_memory(name: str, url: str, count: int) -> dict[str, float]:
    """Stream `count` long answers at once, keeping no chunks."""
    import _clients as clients

    model = clients.gptoss(url) if name == "gptoss" else clients.chat_openai(url)

    async def one() -> None:
        async for _ in model.astream(LONG):
            pass

    async def run() -> tuple[int, float]:
        # One event loop throughout: ChatOpenAI's cached client breaks across loops.
        await one()  # imports, first connection
        gc.collect()
        baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        started = time.perf_counter()
        await asyncio.gather(*(one() for _ in range(count)))
        return baseline, time.perf_counter() - started

    baseline, seconds = asyncio.run(run())
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"peak_mb": max(peak - baseline, 1) / 1024, "seconds": seconds}


# --- import time -------------------------------------------------------------------

IMPORT = Spec("import langchain_gptoss / core chat models", "<=", 1.1)
IMPORTS = {
    "gptoss": "import langchain_gptoss",
    "core": "import langchain_core.language_models.chat_models",
}


def import_seconds(statement: str) -> float:
    code = f"import time; t = time.perf_counter(); {statement}; print(time.perf_counter() - t)"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    return float(done.stdout)


def bench_import(report: Report, runs: int) -> None:
    with report.guard(IMPORT):
        # Bytecode as a regular pip install leaves it (site-packages is compiled
        # at install time; an editable checkout may run with
        # PYTHONDONTWRITEBYTECODE).
        import langchain_gptoss

        compileall.compile_dir(Path(langchain_gptoss.__file__).parent, quiet=1)
        samples: dict[str, list[float]] = {"gptoss": [], "core": []}
        for run in range(runs):  # interleaved pairs, in alternating order
            names = ["gptoss", "core"] if run % 2 == 0 else ["core", "gptoss"]
            for name in names:
                samples[name].append(import_seconds(IMPORTS[name]))
        # A single import swings by +-10% here; the machine's drift moves both
        # of a pair alike, so the median of the pairs' ratios is the steady one.
        ratio = statistics.median(
            ours / core
            for ours, core in zip(samples["gptoss"], samples["core"], strict=True)
        )
        ours, core = (statistics.median(samples[n]) for n in ("gptoss", "core"))
        detail = (
            f"median of {runs} paired ratios; medians {ms(ours)} vs {ms(core)} "
            f"({ours / core:.2f})"
        )
        report.line(IMPORT, ratio, detail)


def main(argv: list[str]) -> None:
    if argv[0] == "cold":
        client, mode, url = argv[1:4]
        cold = {"ours": cold_ours, "raw": cold_raw, "floor": cold_floor}[client]
        result = cold(mode, url)
    else:
        result = measure_memory(argv[1], argv[2], int(argv[3]))
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
