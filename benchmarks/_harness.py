"""Timing and reporting: interleaved medians, and lines that say their target."""

from __future__ import annotations

import asyncio
import gc
import json
import math
import operator
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
OPERATORS: dict[str, Callable[[float, float], bool]] = {
    "<=": operator.le,
    ">=": operator.ge,
    ">": operator.gt,
}


@contextmanager
def emulator_process() -> Iterator[str]:
    """The emulator in its own process, so it is not measured with the client."""
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


def child(script: str, *args: object, timeout: float = 900) -> Any:
    """Run `script` with `args` in a fresh interpreter; its last line, as JSON.

    A failing child raises with the last line of its stderr, which `guard`
    turns into MISS lines.
    """
    done = subprocess.run(
        [sys.executable, str(HERE / script), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        errors = done.stderr.strip().splitlines() or [f"exit {done.returncode}"]
        msg = f"{script} {' '.join(map(str, args[:1]))}: {errors[-1]}"
        raise RuntimeError(msg)
    return json.loads(done.stdout.strip().splitlines()[-1])


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


async def amedians(
    repeats: int,
    *works: Callable[[], Awaitable[Any]],
    warmups: Sequence[Callable[[], Awaitable[Any]]] | None = None,
) -> list[float]:
    """`medians` inside one event loop: clients that cache a loop's pool keep it.

    `warmups`, one per work, replace the works themselves as the warm-up round
    (when a full round is long and a lighter one opens the same connections).
    """
    for warmup in works if warmups is None else warmups:
        await warmup()
    samples: list[list[float]] = [[] for _ in works]
    for _ in range(repeats):
        for work, times in zip(works, samples, strict=True):
            gc.collect()
            started = time.perf_counter()
            await work()
            times.append(time.perf_counter() - started)
    return [statistics.median(times) for times in samples]


def consume(stream: Any) -> None:
    for _ in stream:
        pass


async def aconsume(stream: Any) -> None:
    async for _ in stream:
        pass


async def gather(count: int, make: Callable[[int], Awaitable[Any]]) -> list[Any]:
    return await asyncio.gather(*(make(i) for i in range(count)))


def ms(seconds: float) -> str:
    milliseconds = seconds * 1e3
    return f"{milliseconds:.1f} ms" if milliseconds < 10 else f"{milliseconds:.0f} ms"


@dataclass(frozen=True)
class Spec:
    """A line's name and target: `ratio <op> target`."""

    name: str
    op: str
    target: float

    @property
    def target_text(self) -> str:
        return f"{self.op} {self.target:g}"


@dataclass
class Line:
    spec: Spec
    ratio: float
    detail: str
    error: str | None = None

    @property
    def ok(self) -> bool:
        if self.error is not None or math.isnan(self.ratio):
            return False
        return OPERATORS[self.spec.op](self.ratio, self.spec.target)

    @property
    def score(self) -> float:
        """Ratio over target, turned so that <= 1 (or < 1 for ">") is met."""
        if self.error is not None:
            return math.nan
        if self.spec.op == "<=":
            return self.ratio / self.spec.target
        return self.spec.target / self.ratio

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.spec.name,
            "ratio": None if math.isnan(self.ratio) else self.ratio,
            "target": self.spec.target_text,
            "score": None if math.isnan(self.score) else self.score,
            "ok": self.ok,
            "detail": self.detail,
            "error": self.error,
        }


@dataclass
class Report:
    lines: list[Line] = field(default_factory=list)

    def line(self, spec: Spec, ratio: float, detail: str = "") -> None:
        self._add(Line(spec, ratio, detail))

    def note(self, text: str) -> None:
        print(f"     {text}", flush=True)

    @contextmanager
    def guard(self, *specs: Spec) -> Iterator[None]:
        """A measurement that fails reports its lines as MISS and the run goes on."""
        try:
            yield
        except Exception as exc:
            reported = {line.spec for line in self.lines}
            error = f"{type(exc).__name__}: {exc}".splitlines()[0][:200]
            for spec in specs:
                if spec not in reported:
                    self._add(Line(spec, math.nan, error, error=error))

    def _add(self, line: Line) -> None:
        self.lines.append(line)
        mark = "ok  " if line.ok else "MISS"
        ratio = "  --  " if math.isnan(line.ratio) else f"{line.ratio:6.2f}"
        detail = f"ERROR {line.detail}" if line.error else line.detail
        print(
            f"{mark} {line.spec.name:<60} {ratio}   target "
            f"{line.spec.target_text:<7} {detail}",
            flush=True,
        )

    @property
    def failed(self) -> list[str]:
        return [line.spec.name for line in self.lines if not line.ok]
