"""Shared helpers: tokens, models, calls under a watchdog, calls in a subprocess."""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import logging
import os
import secrets
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from langchain_core.exceptions import ModelError

import langchain_gptoss
from langchain_gptoss import ChatGptOss, GptOssError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from tests.hostile.server import HostileServer

ROOT = Path(__file__).resolve().parents[2]
PROJECT = 7
MODES = ("sync", "async")
MiB = 1024 * 1024


def _b64(n: int) -> str:
    return base64.b64encode(secrets.token_bytes(n)).decode().rstrip("=")


def jwt_like() -> str:
    """Three dot-separated parts with `/` and `+` inside, every segment random.

    A real Keycloak token starts with a public, constant header; here even the
    first segment is random so that every 8-character piece is secret.
    """
    return (
        f"eyJ{_b64(18)}.{_b64(15)}/{_b64(12)}+{_b64(12)}.{_b64(21)}/{_b64(9)}+{_b64(6)}"
    )


TOKENS = {"hex": "tir-" + secrets.token_hex(20), "jwt": jwt_like()}
TOKEN = TOKENS["hex"]


def make_model(
    server: HostileServer, token: str = TOKEN, **settings: Any
) -> ChatGptOss:
    """A model pointed at `server`; no retries unless asked."""
    params: dict[str, Any] = {
        "base_url": server.base_url,
        "api_key": token,
        "project_id": PROJECT,
        "max_retries": 0,
    }
    params.update(settings)
    return ChatGptOss(**params)


# --------------------------------------------------------------- in-process calls


@dataclass
class Outcome:
    """What one call did: its result or error, how long it took, the chunks seen."""

    result: Any = None
    error: BaseException | None = None
    elapsed: float = 0.0
    chunks: list[Any] = field(default_factory=list)
    thread: str = ""

    @property
    def text(self) -> str:
        if self.result is None:
            return ""
        if isinstance(self.result, list):
            return "".join(str(c.content) for c in self.result)
        return str(self.result.content)

    def raised(self, cls: type[BaseException]) -> BaseException:
        """The error, after checking its class (with a helpful failure)."""
        if self.error is None:
            pytest.fail(
                f"expected {cls.__name__}, but the call returned {self.result!r:.300}"
            )
        if not isinstance(self.error, cls):
            pytest.fail(
                f"expected {cls.__name__}, got {type(self.error).__module__}."
                f"{type(self.error).__qualname__}: {str(self.error)[:300]}"
            )
        return self.error

    def typed(self) -> GptOssError:
        """The error, which must be a GptOssError and a ModelError."""
        error = self.raised(GptOssError)
        assert isinstance(error, ModelError)
        return error  # type: ignore[return-value]

    def ok(self) -> Any:
        if self.error is not None:
            pytest.fail(
                f"the call raised {type(self.error).__qualname__}: {str(self.error)[:300]}"
            )
        return self.result


async def _acall(model: ChatGptOss, how: str, prompt: str, into: list[Any]) -> Any:
    try:
        if how == "invoke":
            return await model.ainvoke(prompt)
        async for piece in model.astream(prompt):
            into.append(piece)  # noqa: PERF401 - kept as they come, should the stream fail
        return list(into)
    finally:
        await model.aclose()


def _call(model: ChatGptOss, mode: str, how: str, prompt: str, into: list[Any]) -> Any:
    if mode == "async":
        return asyncio.run(_acall(model, how, prompt, into))
    if how == "invoke":
        return model.invoke(prompt)
    for piece in model.stream(prompt):
        into.append(piece)  # noqa: PERF402 - kept as they come, should the stream fail
    return list(into)


_CALLS = itertools.count()


def own_records(
    records: Iterable[logging.LogRecord], outcome: Outcome
) -> list[logging.LogRecord]:
    """Log records, less those of calls that earlier tests' watchdogs gave up on."""
    return [
        r
        for r in records
        if not r.threadName.startswith("call-") or r.threadName == outcome.thread
    ]


def run_call(
    model: ChatGptOss,
    mode: str,
    how: str = "invoke",
    *,
    prompt: str = "hi",
    limit: float = 30.0,
) -> Outcome:
    """Call `model` (`how`: invoke or stream) in a watched thread.

    A call still running after `limit` seconds fails the test; the server's
    teardown then closes its connections, which ends the call.
    """
    outcome = Outcome(thread=f"call-{next(_CALLS)}-{mode}-{how}")
    return _watched(
        outcome,
        lambda: _call(model, mode, how, prompt, outcome.chunks),
        limit,
        lambda: (
            f"{mode} {how} still running after {limit:g}s "
            f"({len(outcome.chunks)} chunks so far)"
        ),
    )


def _watched(
    outcome: Outcome, fn: Callable[[], Any], limit: float, overdue: Callable[[], str]
) -> Outcome:
    """Run `fn` in a thread named for `outcome`; fail the test past `limit` s."""
    started = time.monotonic()

    def target() -> None:
        try:
            outcome.result = fn()
        except BaseException as exc:  # reported to the test, not to the thread hook
            outcome.error = exc
        finally:
            outcome.elapsed = time.monotonic() - started

    worker = threading.Thread(target=target, daemon=True, name=outcome.thread)
    worker.start()
    worker.join(limit)
    if worker.is_alive():
        pytest.fail(overdue())
    return outcome


def assert_too_large(outcome: Outcome, setting: str, limit: int | None = None) -> None:
    """The call raised GptOssResponseTooLargeError for `setting` (and `limit`)."""
    error = outcome.error
    shown = (
        f"returned {outcome.result!r:.200}"
        if error is None
        else f"raised {type(error).__qualname__}: {str(error)[:200]}"
    )
    cls = getattr(langchain_gptoss, "GptOssResponseTooLargeError", None)
    if cls is None:
        pytest.fail(
            f"no langchain_gptoss.GptOssResponseTooLargeError; the call {shown}"
        )
    if not isinstance(error, cls):
        pytest.fail(
            f"expected GptOssResponseTooLargeError ({setting}); the call {shown}"
        )
    assert isinstance(error, GptOssError)
    assert isinstance(error, ModelError)
    assert error.is_retryable is False
    assert error.setting == setting  # type: ignore[attr-defined]
    if limit is not None:
        assert error.limit == limit  # type: ignore[attr-defined]


# ------------------------------------------------------------ subprocess calls


@dataclass
class Probe:
    """What `tests/hostile/probe.py` reported."""

    data: dict[str, Any]

    @property
    def elapsed(self) -> float:
        return float(self.data["elapsed"])

    @property
    def error(self) -> dict[str, Any] | None:
        return self.data.get("error")

    @property
    def error_type(self) -> str | None:
        return None if self.error is None else self.error["type"]

    @property
    def rss_growth_mb(self) -> float:
        return float(self.data["rss_after_mb"] - self.data["rss_before_mb"])

    def describe(self) -> str:
        error = self.error
        what = (
            "returned normally"
            if error is None
            else f"raised {error['type']}: {error['str'][:200]}"
        )
        return f"{what}; {self.elapsed:.2f}s; RSS +{self.rss_growth_mb:.0f} MB" + (
            f"; longest event-loop gap {self.data['max_gap']:.2f}s"
            if self.data.get("max_gap") is not None
            else ""
        )

    def expect_error(self, name: str) -> dict[str, Any]:
        error = self.error
        if error is None or name not in error["mro"]:
            pytest.fail(f"expected {name}: the client {self.describe()}")
        return error

    def expect_too_large(self, *settings: str) -> dict[str, Any]:
        error = self.expect_error("GptOssResponseTooLargeError")
        assert "GptOssError" in error["mro"]
        assert "ModelError" in error["mro"]
        assert error["is_retryable"] is False
        assert error["setting"] in settings, self.describe()
        assert isinstance(error["limit"], int)
        return error


def probe(
    server: HostileServer,
    mode: str,
    how: str,
    *,
    settings: dict[str, Any] | None = None,
    warmup: bool = False,
    ticker: bool = False,
    timeout: float = 60.0,
    token: str = TOKEN,
) -> Probe:
    """Run one call in a fresh interpreter (this worktree's package) and report.

    With `warmup`, the probe first makes one normal call of the same kind (the
    server's first handler must answer it), so that the RSS baseline includes
    everything a call allocates once. `ticker` measures the longest gap of the
    async event loop while the call runs.
    """
    params = {
        "base_url": server.base_url,
        "token": token,
        "project_id": PROJECT,
        "mode": mode,
        "how": how,
        "settings": {"max_retries": 0, **(settings or {})},
        "warmup": warmup,
        "ticker": ticker,
    }
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    try:
        done = subprocess.run(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", "tests.hostile.probe", json.dumps(params)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        done = None
    if done is None:  # failed here, not inside the except: no chained traceback
        pytest.fail(
            f"{mode} {how}: the client was still running after {timeout:g}s (killed)"
        )
    lines = [line for line in done.stdout.splitlines() if line.startswith("PROBE ")]
    if done.returncode != 0 or not lines:
        pytest.fail(
            f"probe failed (exit {done.returncode})\n{done.stdout[-1500:]}\n{done.stderr[-3000:]}"
        )
    result = Probe(json.loads(lines[-1].removeprefix("PROBE ")))
    assert result.data["package"].startswith(str(ROOT / "langchain_gptoss"))
    return result


def watch(fn: Callable[[], Any], limit: float) -> Outcome:
    """Run any callable under the same watchdog as `run_call`."""
    outcome = Outcome(thread=f"call-{next(_CALLS)}-watch")
    return _watched(outcome, fn, limit, lambda: f"still running after {limit:g}s")
