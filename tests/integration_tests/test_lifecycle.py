"""The clients a model owns, over their whole life, over loopback.

Forks: a child made by `os.fork()`, or a worker of a "fork" `multiprocessing`
pool, opens its own connections, so no process reads another's answers, and
leaves the parent's alone. Event loops: `asyncio.run` per call leaves no client,
socket or memory behind; `close()`/`aclose()` and a collected model free what a
loop left. Cancelled streams leave nothing open. Requests beyond `max_connections`
wait their turn, a thousand at once all complete, and idle connections beyond
the keep-alive cap close. Copies (shallow, `model_copy`, deep) share the
original's pool: closing one leaves the original's stream alone. Scripts that fork, or count a whole process's file
descriptors and memory, run in a fresh interpreter with `ResourceWarning`s as
errors.
"""

from __future__ import annotations

import asyncio
import copy
import gc
import json
import os
import subprocess
import sys
import threading
import time
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

import httpx
import pytest
from langchain_core.rate_limiters import InMemoryRateLimiter

import langchain_gptoss
from langchain_gptoss import ChatGptOss
from langchain_gptoss._transport import KEEP_ALIVE
from langchain_gptoss.testing import Fault, TirEmulator
from tests.integration_tests.conftest import needs_emulator

if TYPE_CHECKING:
    from collections.abc import Callable

pytestmark = needs_emulator


def wait_for(condition: Any, seconds: float = 30.0) -> None:
    """Poll until `condition()` holds; the bound only stops a hung test."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail("condition not reached")
        time.sleep(0.01)


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))  # noqa: PTH208


# The checkout under test, ahead of any installed copy, for the scripts below.
_ROOT = str(Path(langchain_gptoss.__file__).resolve().parents[1])
# What every script starts with: an emulator in its own thread and a model on it.
_PRELUDE = """
import asyncio, gc, json, os, sys, time
from langchain_gptoss import ChatGptOss
from langchain_gptoss.testing import TirEmulator

def fds():
    return len(os.listdir("/proc/self/fd"))

def rss_mb():
    with open("/proc/self/status") as status:
        kib = next(line for line in status if line.startswith("VmRSS:")).split()[1]
    return int(kib) / 1024

def settle(condition, seconds=30.0):
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.01)

emulator = TirEmulator().start()
model = ChatGptOss(
    base_url=emulator.base_url, api_key=emulator.token, project_id=emulator.project_id
)
"""


def run_script(source: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run `source` in a fresh interpreter, with `ResourceWarning`s as errors."""
    done = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-W", "error::ResourceWarning", "-c", source, *args],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "PYTHONPATH": _ROOT},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done


def clean_output(done: subprocess.CompletedProcess[str]) -> str:
    """What a script printed, once sure it warned of nothing and raised nothing.

    A `ResourceWarning` raised in a finalizer is printed as "Exception ignored".
    """
    assert "Exception ignored" not in done.stderr, done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    return done.stdout


# ---------------------------------------------------------------------- forks

# The emulator stays in the test process, so the script forks with one thread.
_FORK_PRELUDE = """
import asyncio, gc, json, os, sys
from langchain_gptoss import ChatGptOss

base_url, token, project_id, mode, models = sys.argv[1:]

def new_model():
    # A read timeout well short of the script's: on a shared socket, a process
    # may wait for an answer the other one took.
    return ChatGptOss(
        base_url=base_url, api_key=token, project_id=int(project_id), timeout=30
    )

model = new_model()

def ask(prompt):
    # "per-call": a fresh model each time, on the pool all of them share.
    asked = model if models == "one" else new_model()
    try:
        if mode == "sync":
            return prompt, asked.invoke(prompt).content
        return prompt, loop.run_until_complete(asked.ainvoke(prompt)).content
    except Exception as exc:
        return prompt, repr(exc)

def wrong(answers):
    return [answer for prompt, answer in answers if answer != f"You said: {prompt}"]

def finish():
    model.close()
    loop.run_until_complete(model.aclose())
    loop.run_until_complete(loop.shutdown_asyncgens())
    loop.close()

loop = asyncio.new_event_loop()
"""

_FORKED = """
ask("before the fork")  # leaves a keep-alive connection in the pool
child_ready, go = os.pipe(), os.pipe()
pid = os.fork()
who = f"{'child' if pid == 0 else 'parent'} {os.getpid()}"
if pid == 0:  # then both call at once, on one socket if they shared the pool
    os.write(child_ready[1], b"!")
    os.read(go[0], 1)
else:
    os.read(child_ready[0], 1)
    os.write(go[1], b"!")
answers = [ask(f"{who}, call {index}") for index in range(40)]
if pid == 0:
    print(json.dumps({"child": wrong(answers)}), flush=True)
    # The child goes on with its own loop (its copy of the parent's) and shuts it
    # down; then the inherited clients must be neither closed nor collected.
    finish()
    del model
    gc.collect()
    sys.exit(0)
_, status = os.waitpid(pid, 0)
answers.append(ask("after the child exits"))
print(json.dumps({"parent": wrong(answers), "status": status}))
finish()
"""

_POOL = """
import multiprocessing

if __name__ == "__main__":
    ask("before the fork")
    with multiprocessing.get_context("fork").Pool(2) as pool:
        prompts = [f"pool task {index}" for index in range(40)]
        asked = pool.map_async(ask, prompts, chunksize=1)
        answers = [ask(f"parent {os.getpid()}, call {index}") for index in range(40)]
        answers += asked.get(timeout=300)
    answers.append(ask("after the pool"))
    print(json.dumps({"wrong": wrong(answers)}))
    finish()
"""


def run_forks(
    emulator: TirEmulator, script: str, mode: str, models: str = "one"
) -> dict[str, Any]:
    """Run a fork script against `emulator`; return what each process reported."""
    # Every answer takes a moment, so the processes' calls overlap: on one shared
    # socket, each answer would go to whichever process happened to read first.
    emulator.inject(*[Fault(first_byte_delay=0.05)] * 82)
    address = [emulator.base_url, emulator.token, str(emulator.project_id)]
    printed = clean_output(run_script(_FORK_PRELUDE + script, *address, mode, models))
    reports: dict[str, Any] = {}
    for line in printed.splitlines():
        reports.update(json.loads(line))
    return reports


@pytest.mark.parametrize("models", ["one", "per-call"])
@pytest.mark.parametrize("mode", ["sync", "async"])
def test_a_forked_child_never_gets_the_parents_answers(
    emulator: TirEmulator, mode: str, models: str
) -> None:
    reports = run_forks(emulator, _FORKED, mode, models)
    assert reports == {"child": [], "parent": [], "status": 0}
    # One connection each: the child opened its own, and the parent's pooled one
    # served it to the end, the child's exit included; the child left it alone.
    # With a fresh model per call too: they share their process's pool.
    assert emulator.total_connections == 2


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_fork_pool_workers_never_get_each_others_answers(
    emulator: TirEmulator, mode: str
) -> None:
    reports = run_forks(emulator, _POOL, mode)
    assert reports == {"wrong": []}
    assert len(emulator.requests) == 82
    assert emulator.total_connections <= 3  # the parent's, and one per worker


# --------------------------------------------------------------- event loops

_RUN_PER_CALL = """
async def once(index):
    prompt = f"run {index}"
    asked = model if sys.argv[2] == "one" else ChatGptOss(
        base_url=emulator.base_url, api_key=emulator.token, project_id=emulator.project_id
    )
    if sys.argv[1] == "invoke":
        text = (await asked.ainvoke(prompt)).content
    else:
        text = "".join([chunk.text async for chunk in asked.astream(prompt)])
    assert text == f"You said: {prompt}", text

def measure():
    gc.collect()
    settle(lambda: emulator.open_connections == 0, 10.0)
    return {"fds": fds(), "connections": emulator.open_connections, "rss": rss_mb()}

for index in range(3):  # imports, the TLS context, first-use caches
    asyncio.run(once(index))
before = measure()
for index in range(200):
    asyncio.run(once(index))
after = measure()
print(json.dumps({"before": before, "after": after}))
emulator.stop()
"""


@pytest.mark.parametrize("models", ["one", "per-call"])
@pytest.mark.parametrize("call", ["invoke", "stream"])
def test_asyncio_run_per_call_leaves_nothing_behind(call: str, models: str) -> None:
    done = run_script(_PRELUDE + _RUN_PER_CALL, call, models)
    numbers = json.loads(done.stdout)
    before, after = numbers["before"], numbers["after"]
    assert after["fds"] <= before["fds"] + 5, numbers
    assert after["connections"] <= before["connections"] + 5, numbers
    assert after["rss"] - before["rss"] < 30, numbers
    clean_output(done)


@pytest.mark.parametrize("closer", ["close", "aclose"])
def test_close_frees_what_a_loop_closed_by_hand_left(
    emulator: TirEmulator, closer: str
) -> None:
    model = emulator.chat_model()
    gc.collect()
    before = open_fds()
    loop = asyncio.new_event_loop()
    loop.run_until_complete(model.ainvoke("on a loop closed by hand"))
    loop.close()  # without shutdown_asyncgens(): the loop closed nothing
    del loop
    if closer == "close":
        model.close()
    else:
        asyncio.run(model.aclose())
    # Nothing can close that loop's sockets now but the garbage collector, which
    # says so with a ResourceWarning (`await model.aclose()` first avoids it).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        gc.collect()
    wait_for(lambda: emulator.open_connections == 0)
    assert open_fds() == before
    assert model.invoke("still works").content == "You said: still works"
    model.close()


_COLLECTED = """
async def collected():
    global model
    await model.ainvoke("hi")
    assert emulator.open_connections == 1
    del model  # the loop's asyncgen finalizer now schedules the client's close
    gc.collect()
    while emulator.open_connections:
        await asyncio.sleep(0.01)

asyncio.run(collected())

# A model dropped after its loop was closed by hand: nothing may be scheduled on
# that loop, and nothing printed. (Its socket goes to the garbage collector.)
import warnings
warnings.simplefilter("ignore", ResourceWarning)
model = ChatGptOss(
    base_url=emulator.base_url, api_key=emulator.token, project_id=emulator.project_id
)
loop = asyncio.new_event_loop()
loop.run_until_complete(model.ainvoke("hi"))
loop.close()
del model, loop
gc.collect()
settle(lambda: emulator.open_connections == 0)
print(emulator.open_connections)
emulator.stop()
"""


def test_a_collected_model_closes_its_connections() -> None:
    assert clean_output(run_script(_PRELUDE + _COLLECTED)).split() == ["0"]


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_cancelled_streams_leave_nothing_open(emulator: TirEmulator, mode: str) -> None:
    model = emulator.chat_model()
    model.invoke("warm up")
    asyncio.run(model.ainvoke("warm up"))
    gc.collect()
    wait_for(lambda: emulator.open_connections == 1)  # the sync client's
    before = open_fds()
    prompt = "a long enough prompt to stream over many events " * 20
    for _ in range(20):
        if mode == "sync":
            stream = model.stream(prompt)
            next(stream)
            stream.close()  # what leaving a for loop over it early comes to
        else:

            async def cancelled() -> None:
                started = asyncio.Event()

                async def consume() -> None:
                    async for _ in model.astream(prompt):
                        started.set()

                task = asyncio.create_task(consume())
                await started.wait()
                task.cancel()
                with pytest.raises(asyncio.CancelledError):
                    await task

            asyncio.run(cancelled())
    gc.collect()
    wait_for(lambda: emulator.open_connections <= 1)
    assert open_fds() <= before
    assert model.invoke("after").content == "You said: after"
    model.close()


# -------------------------------------------------------------------- copies

COPIERS = {
    "copy.copy": copy.copy,
    "model_copy": lambda model: model.model_copy(),
    "model_copy-update": lambda model: model.model_copy(update={"temperature": 0.5}),
    "model_copy-deep-update": lambda model: model.model_copy(
        deep=True, update={"temperature": 0.5}
    ),
    "copy.deepcopy": copy.deepcopy,
}
# An answer of some 150 kB, far more than the client reads at once: it is still
# coming in when the copy closes.
LONG = " ".join(f"word{index}" for index in range(600))


@pytest.mark.parametrize("copier", COPIERS.values(), ids=COPIERS.keys())
@pytest.mark.parametrize("mode", ["sync", "async"])
def test_closing_a_copy_leaves_the_originals_stream_alone(
    emulator: TirEmulator, mode: str, copier: Any
) -> None:
    limiter = InMemoryRateLimiter(
        requests_per_second=1000, check_every_n_seconds=0.001, max_bucket_size=100
    )
    model = emulator.chat_model(rate_limiter=limiter)

    def sync() -> str:
        stream = model.stream(LONG)
        text = next(stream).text
        clone = copier(model)
        with clone as used:
            assert used.invoke("the copy").content == "You said: the copy"
        clone.close()
        assert clone.rate_limiter is limiter  # shared by every kind of copy
        text += "".join(chunk.text for chunk in stream)
        return text + "|" + str(model.invoke("again").content)

    async def run_async() -> str:
        stream = model.astream(LONG)
        text = (await anext(stream)).text
        clone = copier(model)
        async with clone as used:
            answer = await used.ainvoke("the copy")
            assert answer.content == "You said: the copy"
        await clone.aclose()
        assert clone.rate_limiter is limiter
        text += "".join([chunk.text async for chunk in stream])
        return text + "|" + str((await model.ainvoke("again")).content)

    text = sync() if mode == "sync" else asyncio.run(run_async())
    assert text == f"You said: {LONG}|You said: again"
    model.close()


@pytest.mark.parametrize("copier", COPIERS.values(), ids=COPIERS.keys())
def test_copies_share_the_injected_clients_and_the_limiter(copier: Any) -> None:
    sync_client, async_client = httpx.Client(), httpx.AsyncClient()
    limiter = InMemoryRateLimiter()
    model = ChatGptOss(
        base_url="http://127.0.0.1:9",
        api_key="t",
        project_id=1,
        http_client=sync_client,
        http_async_client=async_client,
        rate_limiter=limiter,
    )
    clone = copier(model)
    assert clone.http_client is sync_client
    assert clone.http_async_client is async_client
    assert clone.rate_limiter is limiter
    assert clone._owned is not model._owned
    clone.close()
    asyncio.run(clone.aclose())
    assert not sync_client.is_closed  # the user's, whoever closes
    assert not async_client.is_closed
    sync_client.close()
    asyncio.run(async_client.aclose())


# ---------------------------------------------------------- the in-flight limit


class Peak:
    """The most connections the emulator had open at once while `with`-ed."""

    def __init__(self, emulator: TirEmulator) -> None:
        self._emulator = emulator
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch)
        self.connections = 0

    def _watch(self) -> None:
        while not self._done.wait(0.002):
            self.connections = max(self.connections, self._emulator.open_connections)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._done.set()
        self._thread.join()


def call_all_at_once(
    model: ChatGptOss,
    mode: str,
    count: int,
    before_close: Callable[[], None] = lambda: None,
) -> dict[int, str]:
    """Stream `count` prompts at once (a thread each, or a task each on one
    loop), call `before_close`, then `close()`/`aclose()`; returns the texts."""
    texts: dict[int, str] = {}
    errors: list[BaseException] = []

    def stream(index: int) -> None:
        try:
            texts[index] = "".join(c.text for c in model.stream(f"stream {index}"))
        except Exception as exc:
            errors.append(exc)

    async def astream(index: int) -> None:
        try:
            chunks = [c.text async for c in model.astream(f"stream {index}")]
            texts[index] = "".join(chunks)
        except Exception as exc:
            errors.append(exc)

    async def astream_all() -> None:
        await asyncio.gather(*(astream(i) for i in range(count)))
        await asyncio.to_thread(before_close)
        await model.aclose()

    if mode == "sync":
        workers = [threading.Thread(target=stream, args=(i,)) for i in range(count)]
    else:
        workers = [threading.Thread(target=asyncio.run, args=(astream_all(),))]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    if mode == "sync":
        before_close()
    model.close()
    assert errors == []
    return texts


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_requests_beyond_max_connections_wait_when_the_pool_timeout_is_none(
    emulator: TirEmulator, mode: str
) -> None:
    # The first `limit` answers are slow, so those streams hold every slot
    # while one more asks for one; with no pool timeout, it must wait for it.
    limit = 20
    emulator.inject(*[Fault(first_byte_delay=2.0)] * limit)
    model = emulator.chat_model(timeout=httpx.Timeout(None), max_connections=limit)
    with Peak(emulator) as peak:
        texts = call_all_at_once(model, mode, limit + 1)
    assert texts == {i: f"You said: stream {i}" for i in range(limit + 1)}
    assert peak.connections == limit
    assert emulator.total_connections == limit
    wait_for(lambda: emulator.open_connections == 0)


def test_a_thousand_calls_at_once_on_one_loop_all_complete(
    emulator: TirEmulator,
) -> None:
    # Held answers keep the calls in flight together, past the old cap of 100.
    count = 1000
    emulator.inject(*[Fault(first_byte_delay=1.0)] * count)
    model = emulator.chat_model()

    async def invoke_all() -> list[Any]:
        answers = await asyncio.gather(*(model.ainvoke(f"{i}") for i in range(count)))
        await model.aclose()
        return [answer.content for answer in answers]

    with Peak(emulator) as peak:
        answers = asyncio.run(invoke_all())
    assert answers == [f"You said: {i}" for i in range(count)]
    assert 100 < peak.connections <= count
    wait_for(lambda: emulator.open_connections == 0)


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_idle_connections_beyond_the_keep_alive_cap_are_closed(
    emulator: TirEmulator, mode: str
) -> None:
    limit = KEEP_ALIVE + 50
    emulator.inject(*[Fault(first_byte_delay=1.0)] * limit)
    model = emulator.chat_model(max_connections=limit)
    kept: list[int] = []

    def settle() -> None:  # every call done, the pool still open
        wait_for(lambda: emulator.open_connections <= KEEP_ALIVE)
        kept.append(emulator.open_connections)

    with Peak(emulator) as peak:
        texts = call_all_at_once(model, mode, limit, before_close=settle)
    assert texts == {i: f"You said: stream {i}" for i in range(limit)}
    assert peak.connections == limit
    assert kept == [KEEP_ALIVE]
    wait_for(lambda: emulator.open_connections == 0)
