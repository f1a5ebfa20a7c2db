"""Benchmarks: ChatGptOss against ChatOpenAI, raw httpx and LangChain's own floor.

Run from the repository root (see the README):

    python benchmarks/run.py [--quick]

The emulator runs in its own process. Every number that matters is a ratio of two
timings taken side by side in this one run, since absolute times on shared
machines drift; each line says its target and whether it was met.
"""

from __future__ import annotations

import asyncio
import gc
import json
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))

import _clients as clients  # noqa: E402

LONG, SHORT = "Write a long story.", "Say hi."


@contextmanager
def emulator_process() -> Iterator[str]:
    server = subprocess.Popen(
        [sys.executable, str(HERE / "_server.py")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        yield server.stdout.readline().strip()
    finally:
        server.communicate(timeout=30)


def medians(repeats: int, *works: Callable[[], Any]) -> list[float]:
    """Median seconds of each work, run interleaved so drift hits all alike."""
    for work in works:
        work()  # warm up: connections, caches, lazy imports
    samples: list[list[float]] = [[] for _ in works]
    for _ in range(repeats):
        for work, times in zip(works, samples, strict=True):
            gc.collect()
            started = time.perf_counter()
            work()
            times.append(time.perf_counter() - started)
    return [statistics.median(times) for times in samples]


def consume(stream: Any) -> None:
    for _ in stream:
        pass


async def gather(count: int, make: Callable[[int], Any]) -> list[Any]:
    return await asyncio.gather(*(make(i) for i in range(count)))


class Report:
    def __init__(self) -> None:
        self.failed: list[str] = []

    def line(
        self, name: str, ratio: float, target: str, *, ok: bool, detail: str
    ) -> None:
        mark = "ok  " if ok else "MISS"
        print(f"{mark} {name:<44} {ratio:6.2f}   target {target:<8} {detail}")
        if not ok:
            self.failed.append(name)


def bench_streaming(url: str, report: Report, repeats: int) -> None:
    model, openai = clients.gptoss(url), clients.chat_openai(url)
    floor = clients.floor_for(url, LONG)
    with httpx.Client() as raw:
        events = clients.raw_stream(raw, url, LONG)
        t_raw, t_floor, t_ours, t_openai = medians(
            repeats,
            lambda: clients.raw_stream(raw, url, LONG),
            lambda: consume(floor.stream(LONG)),
            lambda: consume(model.stream(LONG)),
            lambda: consume(openai.stream(LONG)),
        )
    limit = t_raw + t_floor
    times = f"ours {t_ours * 1e3:.0f} ms, raw {t_raw * 1e3:.0f}, floor {t_floor * 1e3:.0f}, ChatOpenAI {t_openai * 1e3:.0f}"
    print(f"     streaming {events} events: {times}")
    report.line(
        "stream: ChatGptOss / (raw httpx + no-I/O floor)",
        t_ours / limit,
        "<= 1.15",
        ok=t_ours <= 1.15 * limit,
        detail="",
    )
    report.line(
        "stream: ChatOpenAI / ChatGptOss (speed-up)",
        t_openai / t_ours,
        ">= 5",
        ok=t_openai >= 5 * t_ours,
        detail=f"a client at the limit would reach {t_openai / limit:.2f}",
    )


def bench_small_invoke(url: str, report: Report, calls: int, repeats: int) -> None:
    model = clients.gptoss(url)
    floor = clients.floor_for(url, SHORT)
    with httpx.Client() as raw:

        def at_the_limit() -> None:
            # Raw httpx, then LangChain's own invoke: together, as a model's call
            # runs them, so each pays for the caches the other one cooled.
            clients.raw_invoke(raw, url, SHORT)
            floor.invoke(SHORT)

        t_raw, t_ours, t_limit = medians(
            repeats,
            lambda: [clients.raw_invoke(raw, url, SHORT) for _ in range(calls)],
            lambda: [model.invoke(SHORT) for _ in range(calls)],
            lambda: [at_the_limit() for _ in range(calls)],
        )
    detail = (
        f"{t_ours / calls * 1e3:.2f} ms vs {t_raw / calls * 1e3:.2f} ms a call; "
        f"a client at the limit (raw httpx + LangChain's no-I/O invoke) would "
        f"reach {t_limit / t_raw:.2f}"
    )
    report.line(
        f"{calls} sequential invokes: ChatGptOss / raw",
        t_ours / t_raw,
        "<= 1.3",
        ok=t_ours <= 1.3 * t_raw,
        detail=detail,
    )


def bench_concurrent_invoke(url: str, report: Report, count: int, repeats: int) -> None:
    model = clients.gptoss(url)

    async def ours() -> None:
        await gather(count, lambda _: model.ainvoke(SHORT))

    async def raw() -> None:
        async with clients.unbounded_async_client() as client:
            await gather(count, lambda _: clients.raw_ainvoke(client, url, SHORT))

    t_raw, t_ours = medians(
        repeats, lambda: asyncio.run(raw()), lambda: asyncio.run(ours())
    )
    detail = f"{t_ours:.2f} s vs {t_raw:.2f} s"
    report.line(
        f"{count} concurrent ainvokes: ChatGptOss / raw",
        t_ours / t_raw,
        "<= 1.3",
        ok=t_ours <= 1.3 * t_raw,
        detail=detail,
    )


def bench_memory(url: str, report: Report, count: int) -> None:
    results = {}
    for name in ("gptoss", "openai"):
        done = subprocess.run(
            [sys.executable, __file__, "--memory", name, url, str(count)],
            capture_output=True,
            text=True,
            check=True,
            timeout=600,
        )
        results[name] = json.loads(done.stdout.strip().splitlines()[-1])
    ours, openai = results["gptoss"], results["openai"]
    detail = (
        f"peak +{ours['peak_mb']:.0f} MB vs +{openai['peak_mb']:.0f} MB; "
        f"wall {ours['seconds']:.2f} s vs {openai['seconds']:.2f} s"
    )
    ratio = ours["peak_mb"] / openai["peak_mb"]
    report.line(
        f"{count} concurrent long astreams: memory vs ChatOpenAI",
        ratio,
        "<= 0.9",
        ok=ratio <= 0.9,
        detail=detail,
    )


def measure_memory(name: str, url: str, count: int) -> None:
    """In a fresh process: stream `count` long answers at once, keep no chunks."""
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
        await gather(count, lambda _: one())
        return baseline, time.perf_counter() - started

    baseline, seconds = asyncio.run(run())
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"peak_mb": max(peak - baseline, 1) / 1024, "seconds": seconds}))


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
    # Bytecode as a regular pip install leaves it (site-packages is compiled at
    # install time; an editable checkout may run with PYTHONDONTWRITEBYTECODE).
    import compileall

    import langchain_gptoss

    compileall.compile_dir(Path(langchain_gptoss.__file__).parent, quiet=1)
    samples: dict[str, list[float]] = {"gptoss": [], "core": []}
    for run in range(runs):  # interleaved pairs, in alternating order
        names = ["gptoss", "core"] if run % 2 == 0 else ["core", "gptoss"]
        for name in names:
            samples[name].append(import_seconds(IMPORTS[name]))
    # A single import swings by +-10% here; the machine's drift moves both of a
    # pair alike, so the median of the pairs' ratios is the steady measure.
    ratio = statistics.median(
        ours / core
        for ours, core in zip(samples["gptoss"], samples["core"], strict=True)
    )
    ours, core = (statistics.median(samples[n]) for n in ("gptoss", "core"))
    detail = (
        f"median of {runs} paired ratios; medians {ours * 1e3:.0f} ms vs "
        f"{core * 1e3:.0f} ms ({ours / core:.2f})"
    )
    report.line(
        "import langchain_gptoss / core chat models",
        ratio,
        "<= 1.1",
        ok=ratio <= 1.1,
        detail=detail,
    )


def main() -> int:
    quick = "--quick" in sys.argv
    report = Report()
    print("Each line: ChatGptOss measured against a reference in this same run.\n")
    with emulator_process() as url:
        bench_streaming(url, report, repeats=3 if quick else 21)
        bench_small_invoke(
            url, report, calls=100 if quick else 300, repeats=3 if quick else 15
        )
        bench_concurrent_invoke(
            url, report, count=100 if quick else 500, repeats=3 if quick else 5
        )
        bench_memory(url, report, count=50 if quick else 200)
    bench_import(report, runs=5 if quick else 31)
    print()
    if report.failed:
        print(f"targets missed: {', '.join(report.failed)}")
        return 1
    print("all targets met")
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--memory":
        measure_memory(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    else:
        sys.exit(main())
