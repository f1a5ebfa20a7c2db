"""Thousands of prompts on a Ray cluster: Ray Data, one rate limit for all workers.

Batch inference in Ray is Ray Data's job (its own LLM batch processors are built
the same way): `map_batches` with a callable class runs a fixed pool of actors,
each building its client once and keeping it, and Ray Data streams the rows
through them with its own progress bars and back-pressure. Here:

- the `ChatGptOss` built on the driver travels to each worker (it pickles, its
  token inside, as the worker needs it; the worker opens its own connections)
  and each worker sends at most
  `PER_WORKER` requests at a time, on its own event loop;
- one token bucket, a small async Ray actor, paces every worker together,
  because TIR limits the token, not the process. Each call costs one round
  trip to that actor (the summary prints it; LangChain asks the limiter once
  per call, and the package's retries wait out their own backoff instead).
  Dividing the rate per worker would cost nothing but leave a slow or idle
  worker's share unused;
- the package's retry warnings show in the worker logs Ray forwards (against
  the emulator, some requests are answered with 429, 503 and 502 on purpose,
  and one prompt with a 400 that is not retried);
- failures stay in their rows (`error`), the run goes on, and the summary
  counts answers, failures and tokens.

Run from the repository root, after `pip install -e '.[cookbook,ray]'`:

    python cookbook/ray_batch.py [number_of_prompts]

It starts a local Ray (2 CPUs) unless RAY_ADDRESS names a cluster; it talks to
TIR when E2E_TIR_ACCESS_TOKEN and E2E_TIR_PROJECT_ID are set, otherwise to the
bundled emulator (and says so on its first line). The emulator listens on the
driver's loopback, so on a cluster of several machines use TIR.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import time
from typing import TYPE_CHECKING, Any

import ray
from _connect import chat_model
from langchain_core.rate_limiters import BaseRateLimiter

from langchain_gptoss.testing import Fault

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    import numpy as np

    from langchain_gptoss import ChatGptOss
    from langchain_gptoss.testing import TirEmulator

WORKERS = 2
PER_WORKER = 16  # requests in flight per worker
BATCH = 64  # rows handed to a worker at a time
REQUESTS_PER_SECOND = 200.0  # across the whole cluster
COLUMNS = ("answer", "error", "input_tokens", "output_tokens")


@ray.remote(num_cpus=0)
class TokenBucket:
    """Hands out send times `1 / rate` apart: a wait, never a refusal."""

    def __init__(self, rate: float, burst: int) -> None:
        self.interval = 1.0 / rate
        self.burst = burst * self.interval
        self.next_free = time.monotonic()
        self.reservations = 0

    async def reserve(self) -> float:
        """Seconds the caller waits before it sends."""
        now = time.monotonic()
        slot = max(self.next_free, now - self.burst)
        self.next_free = slot + self.interval
        self.reservations += 1
        return max(0.0, slot - now)

    async def count(self) -> int:
        return self.reservations


class SharedRateLimiter(BaseRateLimiter):
    """LangChain's rate limiter interface over one `TokenBucket` actor."""

    def __init__(self, bucket: Any) -> None:
        self.bucket = bucket

    def acquire(self, *, blocking: bool = True) -> bool:  # noqa: ARG002 - always waits
        time.sleep(ray.get(self.bucket.reserve.remote()))
        return True

    async def aacquire(self, *, blocking: bool = True) -> bool:  # noqa: ARG002
        await asyncio.sleep(await self.bucket.reserve.remote())
        return True


def round_trip_seconds(bucket: Any, samples: int = 200) -> float:
    """What one call to the bucket costs (each reservation is one), apart from waits."""
    started = time.perf_counter()
    for _ in range(samples):
        ray.get(bucket.count.remote())
    return (time.perf_counter() - started) / samples


class Answerer:
    """A Ray Data worker: the model, unpickled once, answering batch after batch."""

    def __init__(self, model: ChatGptOss) -> None:
        logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
        self.model = model
        self.gate = asyncio.Semaphore(PER_WORKER)

    async def answer(self, prompt: str) -> dict[str, Any]:
        async with self.gate:
            try:
                message = await self.model.ainvoke(prompt)
            except Exception as exc:  # kept in the row, not fatal to the run
                return {"answer": "", "error": f"{type(exc).__name__}: {exc}"}
        usage = message.usage_metadata or {"input_tokens": 0, "output_tokens": 0}
        return {
            "answer": message.text,
            "error": "",
            "input_tokens": usage["input_tokens"],
            "output_tokens": usage["output_tokens"],
        }

    async def __call__(
        self, batch: dict[str, np.ndarray]
    ) -> AsyncIterator[dict[str, list[Any]]]:
        rows = await asyncio.gather(*(self.answer(str(p)) for p in batch["prompt"]))
        yield {
            "id": list(batch["id"]),
            "prompt": list(batch["prompt"]),
            **{key: [row.get(key, 0) for row in rows] for key in COLUMNS},
        }


def misbehave(emulator: TirEmulator) -> None:
    """Emulator only: fail a few requests the ways TIR sometimes does."""
    emulator.inject(
        Fault(status=429, headers={"Retry-After": "1"}),
        Fault(status=503),
        Fault(status=502),
        Fault(status=400, body_kind="message"),
    )


def run(model: ChatGptOss, prompts: list[str]) -> list[dict[str, Any]]:
    dataset = ray.data.from_items(
        [{"id": i, "prompt": p} for i, p in enumerate(prompts)]
    )
    answered = dataset.map_batches(
        Answerer,
        fn_constructor_kwargs={"model": model},
        batch_size=BATCH,
        compute=ray.data.ActorPoolStrategy(size=WORKERS),
        num_cpus=0.5,
    )
    return sorted(answered.take_all(), key=lambda row: row["id"])


def summarize(rows: list[dict[str, Any]], seconds: float, bucket: Any) -> None:
    failures = [row for row in rows if row["error"]]
    tokens_in = sum(row["input_tokens"] for row in rows)
    tokens_out = sum(row["output_tokens"] for row in rows)
    answered = len(rows) - len(failures)
    print(f"\n{answered} answered, {len(failures)} failed in {seconds:.1f} s")
    print(f"tokens: {tokens_in} in, {tokens_out} out, {tokens_in + tokens_out} in all")
    reservations = ray.get(bucket.count.remote())
    cost = round_trip_seconds(bucket)
    print(
        f"shared rate limit: {reservations} reservations, "
        f"{cost * 1e3:.2f} ms a round trip to the bucket"
    )
    for row in failures[:5]:
        print(f"  failed: {row['prompt']!r}: {row['error']}")


def main() -> None:
    parser = argparse.ArgumentParser(description="Answer many prompts on Ray.")
    parser.add_argument("prompts", type=int, nargs="?", default=2000, help="how many")
    count = parser.parse_args().prompts
    prompts = [f"In one short sentence, what is {n} cubed?" for n in range(count)]
    if os.environ.get("RAY_ADDRESS"):
        ray.init()
    else:
        ray.init(num_cpus=2, include_dashboard=False)
    try:
        bucket = TokenBucket.remote(REQUESTS_PER_SECOND, burst=WORKERS * PER_WORKER)
        with chat_model(
            on_emulator=misbehave,
            rate_limiter=SharedRateLimiter(bucket),
            max_retries=3,
            reasoning_effort="low",
            max_tokens=256,
        ) as model:
            print(
                f"{count} prompts on Ray: {WORKERS} workers, {PER_WORKER} requests "
                f"in flight each, {REQUESTS_PER_SECOND:g} requests a second in all"
            )
            started = time.perf_counter()
            rows = run(model, prompts)
            summarize(rows, time.perf_counter() - started, bucket)
    finally:
        ray.shutdown()


if __name__ == "__main__":
    main()
