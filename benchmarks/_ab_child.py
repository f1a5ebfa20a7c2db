"""One round of `ab.py` in a fresh interpreter: the hot paths of the checkout on sys.path.

Prints one JSON line: seconds for a long stream, 100 sequential invokes, a long
astream and 100 concurrent ainvokes, each the median of a few runs after a
warm-up.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import _clients as clients
from _api import LONG, SHORT
from _harness import aconsume, consume, gather

RUNS = 5


def timed(work: Callable[[], Any]) -> float:
    work()  # warm-up
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    url = sys.argv[1]
    model = clients.gptoss(url)
    results = {
        "stream": timed(lambda: consume(model.stream(LONG))),
        "100 invokes": timed(lambda: [model.invoke(SHORT) for _ in range(100)]),
        "astream": timed(lambda: asyncio.run(aconsume(model.astream(LONG)))),
        "100 ainvokes": timed(
            lambda: asyncio.run(gather(100, lambda _: model.ainvoke(SHORT)))
        ),
    }
    print(json.dumps(results))


if __name__ == "__main__":
    main()
