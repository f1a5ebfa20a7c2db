"""A model's `InMemoryRateLimiter` across processes: pickled as its settings."""

from __future__ import annotations

from typing import Any

from langchain_core.rate_limiters import InMemoryRateLimiter


class LimiterRecipe:
    """Pickles an `InMemoryRateLimiter` (which holds a lock) as its settings.

    The unpickled model gets a fresh limiter with the same rate: a worker process
    limits its own requests, as a limiter cannot be shared across processes anyway.
    """

    def __init__(self, limiter: InMemoryRateLimiter) -> None:
        self.settings = {
            "requests_per_second": limiter.requests_per_second,
            "check_every_n_seconds": limiter.check_every_n_seconds,
            "max_bucket_size": limiter.max_bucket_size,
        }

    def __reduce__(self) -> tuple[Any, ...]:
        return (_new_limiter, (self.settings,))


def _new_limiter(settings: dict[str, float]) -> InMemoryRateLimiter:
    return InMemoryRateLimiter(**settings)
