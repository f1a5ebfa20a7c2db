"""Hundreds of prompts at once: abatch, a concurrency cap, a rate limit, retries.

Shows `abatch` over 300 prompts with `max_concurrency`, an `InMemoryRateLimiter`
that keeps the request rate under TIR's limit, a tqdm progress bar fed by a
LangChain callback, the package's retry warnings in the log (against the
emulator, the first requests are answered with 429 and 503 on purpose), failures
kept per prompt instead of sinking the batch, and a summary of the tokens used.

Run from the repository root, after `pip install -e '.[cookbook]'`:

    python cookbook/batch.py [number_of_prompts]

It talks to TIR when E2E_TIR_ACCESS_TOKEN and E2E_TIR_PROJECT_ID are set, otherwise
to the bundled emulator (and says so on its first line).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import time
from typing import TYPE_CHECKING, Any

from _connect import chat_model
from langchain_core.callbacks import AsyncCallbackHandler
from langchain_core.messages import AIMessage
from langchain_core.rate_limiters import InMemoryRateLimiter
from tqdm import tqdm
from tqdm.contrib.logging import logging_redirect_tqdm

from langchain_gptoss.testing import Fault, TirEmulator

if TYPE_CHECKING:
    from langchain_gptoss import ChatGptOss

CONCURRENCY = 16
REQUESTS_PER_SECOND = 50.0


class ProgressBar(AsyncCallbackHandler):
    """Moves a tqdm bar once per finished model call, answered or failed."""

    def __init__(self, bar: tqdm[Any]) -> None:
        self.bar = bar

    async def on_llm_end(self, *_: Any, **__: Any) -> None:
        self.bar.update(1)

    async def on_llm_error(self, *_: Any, **__: Any) -> None:
        self.bar.update(1)


def misbehave(emulator: TirEmulator) -> None:
    """Emulator only: make the first requests fail the ways TIR sometimes does."""
    emulator.inject(
        Fault(status=429, headers={"Retry-After": "1"}),
        Fault(status=503),
        Fault(status=502),
    )


async def run_batch(model: ChatGptOss, prompts: list[str]) -> list[Any]:
    with tqdm(total=len(prompts), unit="prompt") as bar, logging_redirect_tqdm():
        return await model.abatch(
            prompts,
            config={"max_concurrency": CONCURRENCY, "callbacks": [ProgressBar(bar)]},
            return_exceptions=True,
        )


def summarize(prompts: list[str], results: list[Any], seconds: float) -> None:
    answers = [r for r in results if isinstance(r, AIMessage)]
    failures = [
        (p, r)
        for p, r in zip(prompts, results, strict=True)
        if isinstance(r, BaseException)
    ]
    usage = [a.usage_metadata for a in answers if a.usage_metadata]
    total_in = sum(u["input_tokens"] for u in usage)
    total_out = sum(u["output_tokens"] for u in usage)
    print(f"\n{len(answers)} answered, {len(failures)} failed in {seconds:.1f} s")
    print(f"tokens: {total_in} in, {total_out} out, {total_in + total_out} in all")
    for prompt, error in failures[:5]:
        print(f"  failed: {prompt!r}: {type(error).__name__}: {error}")
    if answers:
        print(f"first answer: {answers[0].content}")


def main() -> None:
    parser = argparse.ArgumentParser(description="Send many prompts through abatch.")
    parser.add_argument("prompts", type=int, nargs="?", default=300, help="how many")
    count = parser.parse_args().prompts
    prompts = [
        f"In one short sentence, what is {n} squared?" for n in range(1, count + 1)
    ]
    logging.basicConfig(
        level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    limiter = InMemoryRateLimiter(
        requests_per_second=REQUESTS_PER_SECOND,
        check_every_n_seconds=0.01,
        max_bucket_size=CONCURRENCY,
    )
    with chat_model(
        on_emulator=misbehave,
        rate_limiter=limiter,
        max_retries=3,
        reasoning_effort="low",
        max_tokens=256,
    ) as model:
        print(
            f"{count} prompts, at most {CONCURRENCY} at a time and "
            f"{REQUESTS_PER_SECOND:g} requests a second"
        )
        started = time.perf_counter()
        results = asyncio.run(run_batch(model, prompts))
        summarize(prompts, results, time.perf_counter() - started)


if __name__ == "__main__":
    main()
