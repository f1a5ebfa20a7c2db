"""One connection pool per transport configuration, shared by every model using it.

A model's own clients bake in only its timeouts (and a TLS set-up that no setting
changes), so every model with the same timeouts shares one pool: a fresh model
per call, `configurable_fields` + `with_config`, copies. The token, the URL and
the body go with each request, never into the pool. `close()` detaches a model;
the last model to leave closes the pool, and a pool whose models were all
dropped closes once it has been idle for `LINGER` seconds. Each event loop still
has its own client, and a forked child its own pool.
"""

from __future__ import annotations

import asyncio
import copy
import gc
import json
import pickle
import sys
import threading
import weakref
from typing import Any

import httpx
import pytest
from langchain_core.runnables import ConfigurableField

from langchain_gptoss import ChatGptOss, GptOssAuthenticationError
from langchain_gptoss import _clients as clients
from langchain_gptoss.testing import Fault, TirEmulator
from tests.integration_tests.conftest import needs_emulator
from tests.integration_tests.test_lifecycle import (
    _PRELUDE,
    LONG,
    run_script,
    wait_for,
)
from tests.leaks import assert_no_leak

pytestmark = needs_emulator

CALLS = 50
OTHER_TOKEN = "tir-OTHER-tenant-3c9d41f0e2"


def body_settings(index: int) -> dict[str, Any]:
    """Settings that change only the request body, different on every call."""
    return {
        "temperature": (index % 10) / 10,
        "max_tokens": 100 + index,
        "reasoning_effort": ("low", "medium", "high")[index % 3],
        "seed": index,
        "model_kwargs": {"top_k": 1 + index},
    }


def pool_of(model: ChatGptOss) -> Any:
    return model._owned._pool


# ------------------------------------------------------- one pool, one socket


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_a_fresh_model_per_call_opens_one_connection(
    emulator: TirEmulator, mode: str
) -> None:
    if mode == "sync":
        for index in range(CALLS):  # each model is dropped right after its call
            emulator.chat_model(**body_settings(index)).invoke(f"call {index}")
    else:

        async def calls() -> None:
            for index in range(CALLS):
                await emulator.chat_model(**body_settings(index)).ainvoke(f"{index}")

        asyncio.run(calls())
    assert len(emulator.requests) == CALLS
    assert [r.body["max_tokens"] for r in emulator.requests] == [  # type: ignore[index]
        100 + index for index in range(CALLS)
    ]
    assert emulator.total_connections == 1


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_configurable_fields_open_one_connection(
    emulator: TirEmulator, mode: str
) -> None:
    configurable = emulator.chat_model().configurable_fields(
        temperature=ConfigurableField(id="temperature"),
        max_tokens=ConfigurableField(id="max_tokens"),
    )

    def configured(index: int) -> Any:
        settings = {"temperature": (index % 10) / 10, "max_tokens": 100 + index}
        return configurable.with_config(configurable=settings)

    if mode == "sync":
        for index in range(CALLS):
            configured(index).invoke(f"call {index}")
    else:

        async def calls() -> None:
            for index in range(CALLS):
                await configured(index).ainvoke(f"call {index}")

        asyncio.run(calls())
    temperatures = [r.body["temperature"] for r in emulator.requests]  # type: ignore[index]
    assert temperatures == [(index % 10) / 10 for index in range(CALLS)]
    assert emulator.total_connections == 1


# Settings a second model changes; each either shares the first one's pool or
# gets its own. A callable is given the emulator, to point a setting at it.
SHARED = {
    "temperature": {"temperature": 0.9},
    "max_tokens": {"max_tokens": 77},
    "reasoning_effort": {"reasoning_effort": "high"},
    "model_kwargs": {"model_kwargs": {"top_k": 3}},
    "stop": {"stop": ["zzz"]},
    "seed": {"seed": 5},
    "n": {"n": 1},
    "streaming": {"streaming": True},
    "stream_usage": {"stream_usage": False},
    "max_retries": {"max_retries": 0},
    "total_timeout": {"total_timeout": 60.0},
    "stream_idle_timeout": {"stream_idle_timeout": 30.0},
    "max_event_bytes": {"max_event_bytes": 1 << 20},
    "max_response_bytes": {"max_response_bytes": 1 << 22},
    "max_error_body_bytes": {"max_error_body_bytes": 4096},
    "default_headers": {"default_headers": {"X-Tenant": "b"}},
    "include_project_query": {"include_project_query": False},
    "base_url-full-form": lambda emu: {"base_url": emu.openai_base_url},
    "base_url-trailing-slash": lambda emu: {"base_url": f"{emu.base_url}/"},
    "timeout-equal-to-the-default": {"timeout": httpx.Timeout(600, connect=10)},
    "max_connections-equal-to-the-default": {"max_connections": 1000},
}
OWN = {
    "timeout-float": {"timeout": 30},
    "timeout-connect": {"timeout": httpx.Timeout(600, connect=5)},
    "timeout-pool": {"timeout": httpx.Timeout(600, connect=10, pool=1)},
    "max_connections": {"max_connections": 10},
}


@pytest.mark.parametrize(
    ("setting", "shares"),
    [(SHARED[name], True) for name in SHARED] + [(OWN[name], False) for name in OWN],
    ids=[*SHARED, *OWN],
)
def test_only_transport_settings_get_a_pool_of_their_own(
    emulator: TirEmulator, setting: Any, shares: bool
) -> None:
    first = emulator.chat_model()
    assert first.invoke("first").content == "You said: first"
    changed = setting(emulator) if callable(setting) else setting
    second = ChatGptOss(
        **{
            "base_url": emulator.base_url,
            "api_key": emulator.token,
            "project_id": emulator.project_id,
            **changed,
        }
    )
    assert second.invoke("second").content
    assert (pool_of(second) is pool_of(first)) is shares
    assert emulator.total_connections == (1 if shares else 2)
    first.close()
    second.close()


def test_the_token_and_the_project_go_with_each_request(emulator: TirEmulator) -> None:
    first = emulator.chat_model()
    first.invoke("first")
    emulator.token, emulator.project_id = OTHER_TOKEN, 777
    second = ChatGptOss(base_url=emulator.base_url, api_key=OTHER_TOKEN, project_id=777)
    second.invoke("second")
    assert pool_of(second) is pool_of(first)
    assert emulator.total_connections == 1
    sent = emulator.requests[-1]
    assert sent.headers["authorization"] == f"Bearer {OTHER_TOKEN}"
    assert sent.path.startswith("/project/p-777/")
    emulator.token, emulator.project_id = "test-token", 12345
    first.invoke("first again")
    assert emulator.requests[-1].headers["authorization"] == "Bearer test-token"
    first.close()
    second.close()


# ------------------------------------------------------------------- secrets


def _strings_reachable_from(root: object, limit: int = 20_000) -> list[str]:
    """Every str or bytes in the object graph under `root` (classes, modules and
    functions excluded: those are shared code, not the pool's state)."""
    skip = (type, type(sys), type(_strings_reachable_from), type(len))
    seen: set[int] = set()
    pending, found = [root], []
    while pending and len(seen) < limit:
        item = pending.pop()
        if id(item) in seen or isinstance(item, skip):
            continue
        seen.add(id(item))
        if isinstance(item, str | bytes | bytearray):
            found.append(
                item if isinstance(item, str) else bytes(item).decode("latin-1")
            )
            continue
        pending.extend(gc.get_referents(item))
    return found


def test_the_shared_pool_holds_no_token_and_no_cookie(emulator: TirEmulator) -> None:
    # A server's cookie must not travel to another tenant's requests.
    emulator.inject(Fault(headers={"Set-Cookie": "session=tenant-a; Path=/"}))
    first = emulator.chat_model()
    first.invoke("first")
    asyncio.run(first.ainvoke("first, async"))
    emulator.token = OTHER_TOKEN
    second = ChatGptOss(
        base_url=emulator.base_url, api_key=OTHER_TOKEN, project_id=emulator.project_id
    )
    second.invoke("second")
    assert "cookie" not in emulator.requests[-1].headers
    pool = pool_of(first)
    assert pool is pool_of(second)
    for token in ("test-token", OTHER_TOKEN):
        assert token not in repr(pool.key)
        assert token not in repr(pool)
        assert token not in repr(first._owned)
        leaked = [text for text in _strings_reachable_from(pool) if token in text]
        assert leaked == []
    del token  # the catching frame's locals are searched too
    # An error through the shared pool carries neither tenant's token.
    with pytest.raises(GptOssAuthenticationError) as raised:
        first.invoke("the server now wants the other token")
    assert_no_leak(raised.value, "test-token")
    assert_no_leak(raised.value, OTHER_TOKEN)
    first.close()
    second.close()


# ------------------------------------------------------------ threads, loops


def test_many_threads_at_once_create_one_pool(emulator: TirEmulator) -> None:
    timeout = httpx.Timeout(61.5, connect=9.5)  # a pool no other test has
    models = [emulator.chat_model(timeout=timeout, seed=i) for i in range(16)]
    barrier = threading.Barrier(len(models))
    sync_clients: list[httpx.Client] = []

    def work(model: ChatGptOss) -> None:
        barrier.wait()
        sync_clients.append(model._owned.sync())
        model.invoke("at once")

    threads = [threading.Thread(target=work, args=(m,)) for m in models]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({id(client) for client in sync_clients}) == 1
    assert len({id(pool_of(model)) for model in models}) == 1
    assert clients._POOLS[clients.pool_key(timeout, 1000)] is pool_of(models[0])
    assert emulator.total_connections <= len(models)
    before = emulator.total_connections
    batched = emulator.chat_model(timeout=timeout).batch(
        ["batched"] * 20, config={"max_concurrency": 4}
    )
    assert len(batched) == 20
    assert emulator.total_connections <= max(before, 4)
    for model in models:
        model.close()


def test_each_event_loop_has_its_own_client_closed_with_it(
    emulator: TirEmulator,
) -> None:
    first, second = emulator.chat_model(), emulator.chat_model(temperature=0.5)
    seen: dict[int, httpx.AsyncClient] = {}

    async def on_loop(index: int) -> None:
        await first.ainvoke("first")
        await second.ainvoke("second")
        own = first._owned.for_running_loop()
        assert second._owned.for_running_loop() is own  # one client per loop
        seen[index] = own

    threads = [
        threading.Thread(target=asyncio.run, args=(on_loop(index),))
        for index in range(3)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({id(client) for client in seen.values()}) == 3
    assert all(client.is_closed for client in seen.values())  # with its loop
    assert emulator.total_connections == 3
    wait_for(lambda: emulator.open_connections == 0)
    assert pool_of(first) is pool_of(second)


def test_shutdown_asyncgens_closes_a_hand_run_loops_client(
    emulator: TirEmulator,
) -> None:
    first, second = emulator.chat_model(), emulator.chat_model(seed=1)
    loop = asyncio.new_event_loop()
    loop.run_until_complete(first.ainvoke("first"))
    loop.run_until_complete(second.ainvoke("second"))
    assert emulator.total_connections == 1
    loop.run_until_complete(loop.shutdown_asyncgens())  # the models live on
    loop.close()
    wait_for(lambda: emulator.open_connections == 0)
    first.close()
    second.close()


# --------------------------------------------------------------------- close


def test_close_detaches_and_the_last_model_closes_the_pool(
    emulator: TirEmulator,
) -> None:
    first, second = emulator.chat_model(), emulator.chat_model(temperature=0.2)
    first.invoke("first")
    second.invoke("second")
    first.close()  # the second still uses the pool
    assert emulator.open_connections == 1
    second.invoke("second again")
    assert emulator.total_connections == 1
    second.close()  # the last model: the pool closes
    wait_for(lambda: emulator.open_connections == 0)
    assert first.invoke("reopened").content == "You said: reopened"
    assert emulator.total_connections == 2
    with first:
        pass
    wait_for(lambda: emulator.open_connections == 0)
    first.close()  # closing twice is harmless


def test_a_per_request_model_closing_leaves_the_others_stream_alone(
    emulator: TirEmulator,
) -> None:
    async def main() -> str:
        long_lived = emulator.chat_model()
        stream = long_lived.astream(LONG)
        text = (await anext(stream)).text
        for index in range(5):
            async with emulator.chat_model(temperature=0.1) as per_request:
                answer = await per_request.ainvoke(f"request {index}")
                assert answer.content == f"You said: request {index}"
        text += "".join([chunk.text async for chunk in stream])
        await long_lived.aclose()
        return text

    assert asyncio.run(main()) == f"You said: {LONG}"
    assert emulator.total_connections == 2  # the stream's, and one for the rest
    wait_for(lambda: emulator.open_connections == 0)


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_dropping_every_model_releases_the_pool(
    emulator: TirEmulator, monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    monkeypatch.setattr(clients, "LINGER", 0.2)
    timeout = httpx.Timeout(62.5, connect=9.5)  # a pool no other test has

    def used(models: list[ChatGptOss]) -> weakref.ref[Any]:
        for model in models:
            model.invoke("hi")
        return weakref.ref(pool_of(models[0]))

    if mode == "sync":
        pool = used([emulator.chat_model(timeout=timeout, seed=i) for i in range(5)])
        gc.collect()
        wait_for(lambda: emulator.open_connections == 0)
    else:

        async def on_one_loop() -> weakref.ref[Any]:
            models = [emulator.chat_model(timeout=timeout, seed=i) for i in range(5)]
            for model in models:
                await model.ainvoke("hi")
            pool = weakref.ref(pool_of(models[0]))
            del models, model
            gc.collect()
            for _ in range(3000):  # the loop lives on: its client closes on it
                if emulator.open_connections == 0:
                    break
                await asyncio.sleep(0.01)
            assert emulator.open_connections == 0
            return pool

        pool = asyncio.run(on_one_loop())
    gc.collect()
    wait_for(lambda: pool() is None)
    assert emulator.total_connections == 1


def test_a_model_kept_alive_keeps_its_pool(
    emulator: TirEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(clients, "LINGER", 0.05)
    model = emulator.chat_model()
    model.invoke("hi")
    emulator.chat_model().invoke("a model dropped at once")
    gc.collect()
    threading.Event().wait(0.3)  # well past LINGER
    model.invoke("still the same connection")
    assert emulator.total_connections == 1
    model.close()


def test_injected_clients_bypass_the_shared_pools(emulator: TirEmulator) -> None:
    timeout = httpx.Timeout(63.5, connect=9.5)
    key = clients.pool_key(timeout, 1000)

    async def async_calls() -> None:
        async with httpx.AsyncClient() as client:
            model = emulator.chat_model(http_async_client=client, timeout=timeout)
            await model.ainvoke("injected")
            await model.aclose()
            assert not client.is_closed
            assert pool_of(model) is None

    with httpx.Client() as sync_client:
        model = emulator.chat_model(http_client=sync_client, timeout=timeout)
        model.invoke("injected")
        model.close()
        assert not sync_client.is_closed
        assert pool_of(model) is None
        asyncio.run(async_calls())
    assert key not in clients._POOLS


# -------------------------------------------------------------------- copies

COPIERS = {
    "copy.copy": copy.copy,
    "model_copy": lambda model: model.model_copy(),
    "model_copy-update": lambda model: model.model_copy(update={"temperature": 0.5}),
    "copy.deepcopy": copy.deepcopy,
    "pickle": lambda model: pickle.loads(pickle.dumps(model)),  # noqa: S301
}


@pytest.mark.parametrize("copier", COPIERS.values(), ids=COPIERS.keys())
def test_copies_share_the_originals_pool(emulator: TirEmulator, copier: Any) -> None:
    model = emulator.chat_model()
    model.invoke("the original")
    clone = copier(model)
    assert clone._owned is not model._owned
    assert clone.invoke("the copy").content == "You said: the copy"
    assert pool_of(clone) is pool_of(model)
    clone.close()  # detaches the copy only
    assert model.invoke("the original again").content
    assert emulator.total_connections == 1
    model.close()


def test_a_copy_with_other_timeouts_gets_its_own_pool(emulator: TirEmulator) -> None:
    model = emulator.chat_model()
    model.invoke("the original")
    clone = model.model_copy(update={"timeout": 5})
    clone.invoke("the copy")
    assert pool_of(clone) is not pool_of(model)
    assert emulator.total_connections == 2
    model.close()
    clone.close()


# ----------------------------------------------------------------------- TLS

# Every SSLContext made after the prelude, over pools of several timeouts and
# limits, their sync clients and the clients of two event loops.
_COUNT_TLS = """
import ssl

made = []
original = ssl.SSLContext.__new__

def counting(cls, *args, **kwargs):
    made.append(cls)
    return original(cls, *args, **kwargs)

ssl.SSLContext.__new__ = counting
settings = dict(
    base_url=emulator.base_url, api_key=emulator.token, project_id=emulator.project_id
)
models = [
    ChatGptOss(**settings, **changed)
    for changed in (
        {},
        {"timeout": 30},
        {"max_connections": 10},
        {"max_connections": 3000, "timeout": 5},
    )
]
for each in models:
    each.invoke("sync")

async def calls():
    for each in models:
        await each.ainvoke("async")

asyncio.run(calls())
asyncio.run(calls())
for each in models:
    each.close()
print(len(made))
emulator.stop()
"""


def test_one_tls_context_serves_every_pool_shard_and_loop() -> None:
    done = run_script(_PRELUDE + _COUNT_TLS)
    assert done.stdout.split() == ["1"]


# ------------------------------------------------------------------- numbers

_MEASURE = """
import asyncio, json, statistics, time
from langchain_core.runnables import ConfigurableField
from langchain_gptoss.testing import TirEmulator
from langchain_gptoss import ChatGptOss

emulator = TirEmulator().start()

def timed(make):
    started = time.perf_counter()
    made = make()
    return made, (time.perf_counter() - started) * 1e6

settings = dict(
    base_url=emulator.base_url, api_key=emulator.token, project_id=emulator.project_id
)
_, first = timed(lambda: ChatGptOss(**settings))
later = [timed(lambda: ChatGptOss(**settings, temperature=0.5))[1] for _ in range(200)]
# A fresh model per call: construction and its call together.
calls = [timed(lambda: ChatGptOss(**settings).invoke("hi"))[1] for _ in range(50)]
after_sync = emulator.total_connections

async def fresh_async():
    for _ in range(50):
        await ChatGptOss(**settings).ainvoke("hi")

asyncio.run(fresh_async())
after_async = emulator.total_connections
configurable = ChatGptOss(**settings).configurable_fields(
    temperature=ConfigurableField(id="temperature")
)
for index in range(50):
    configurable.with_config(configurable={"temperature": index / 50}).invoke("hi")
after_configurable = emulator.total_connections

async def configured_async():
    for index in range(50):
        await configurable.with_config(
            configurable={"temperature": index / 50}
        ).ainvoke("hi")

asyncio.run(configured_async())
print(json.dumps({
    "construct_first_us": round(first),
    "construct_later_median_us": round(statistics.median(later)),
    "fresh_model_call_first_ms": round(calls[0] / 1000, 2),
    "fresh_model_call_later_median_ms": round(statistics.median(calls[1:]) / 1000, 2),
    "connections_50_fresh_sync": after_sync,
    "connections_50_fresh_async": after_async - after_sync,
    "connections_50_configurable_sync": after_configurable - after_async,
    "connections_50_configurable_async": (
        emulator.total_connections - after_configurable
    ),
}))
emulator.stop()
"""


def test_measure_construction_and_connections() -> None:
    """Prints the numbers (run with -s); asserts nothing about time."""
    done = run_script(_MEASURE)
    numbers = json.loads(done.stdout)
    # Sockets the garbage collector found still open, from models dropped unclosed.
    numbers["unclosed_socket_warnings"] = done.stderr.count("ResourceWarning: unclosed")
    print("pool measurements:", json.dumps(numbers))  # noqa: T201
