"""Lifecycle, copying, concurrency, secret hygiene and TLS, over loopback."""

from __future__ import annotations

import asyncio
import copy
import gc
import logging
import os
import pickle
import socket
import ssl
import subprocess
import sys
import threading
import time
from typing import Any

import pytest
import trustme
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.load import dumpd, dumps
from langchain_core.rate_limiters import InMemoryRateLimiter

from langchain_gptoss import ChatGptOss, GptOssConnectionError, GptOssError
from langchain_gptoss.testing import Fault, TirEmulator
from tests.integration_tests.conftest import needs_emulator

pytestmark = needs_emulator

SECRET = "tir-SECRET-7f3a9c1e-do-not-log"


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))  # noqa: PTH208


# -------------------------------------------------------------------- lifecycle


def test_async_model_survives_new_and_closed_event_loops(emulator: TirEmulator) -> None:
    model = emulator.chat_model()
    first = asyncio.run(model.ainvoke("one"))
    second = asyncio.run(model.ainvoke("two"))  # the first loop is closed by now
    assert first.content
    assert second.content

    results: dict[int, str] = {}

    def worker(index: int) -> None:
        message = asyncio.run(model.ainvoke(f"thread {index}"))
        results[index] = str(message.content)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [0, 1, 2, 3]


def test_one_connection_serves_sequential_calls(emulator: TirEmulator) -> None:
    model = emulator.chat_model()
    for _ in range(5):
        model.invoke("hi")
        list(model.stream("hi"))

    async def calls() -> None:
        for _ in range(5):
            await model.ainvoke("hi")

    asyncio.run(calls())
    assert emulator.total_connections == 2  # one sync, one for the event loop


def test_close_and_context_managers_close_owned_connections(
    emulator: TirEmulator,
) -> None:
    with emulator.chat_model() as model:
        model.invoke("hi")
        assert emulator.open_connections == 1
    wait_for(lambda: emulator.open_connections == 0)
    assert model.invoke("reopened").content  # a closed model opens anew

    async def scoped() -> None:
        async with emulator.chat_model() as amodel:
            await amodel.ainvoke("hi")
            assert emulator.open_connections == 2  # the sync one above is still open

    asyncio.run(scoped())
    model.close()
    wait_for(lambda: emulator.open_connections == 0)


def wait_for(condition: Any, seconds: float = 3.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail("condition not reached")
        time.sleep(0.01)


# ----------------------------------------------------------- pickling, copying


def test_pickle_deepcopy_and_model_copy(emulator: TirEmulator) -> None:
    limiter = InMemoryRateLimiter(requests_per_second=50, max_bucket_size=5)
    model = emulator.chat_model(temperature=0.4, rate_limiter=limiter)
    model.invoke("warm up the clients")
    asyncio.run(model.ainvoke("and the async one"))

    restored = pickle.loads(pickle.dumps(model))  # noqa: S301 - our own bytes
    deep = copy.deepcopy(model)
    shallow = model.model_copy(update={"temperature": 0.9})
    for clone in (restored, deep, shallow):
        assert clone.invoke("hi").content
        assert asyncio.run(clone.ainvoke("hi")).content
    assert restored.temperature == deep.temperature == 0.4
    assert shallow.temperature == 0.9
    assert isinstance(restored.rate_limiter, InMemoryRateLimiter)
    assert restored.rate_limiter.requests_per_second == 50
    assert deep.rate_limiter is limiter  # a shared resource stays shared
    deep.close()
    assert model.invoke("the original's clients are its own").content


def test_unpickled_in_another_process(emulator: TirEmulator, tmp_path: Any) -> None:
    path = tmp_path / "model.pkl"
    path.write_bytes(pickle.dumps(emulator.chat_model(reasoning_effort="low")))
    script = (
        "import pickle, sys; "
        f"model = pickle.loads(open({str(path)!r}, 'rb').read()); "
        "print(model.invoke('from a worker').content)"
    )
    done = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert "You said: from a worker" in done.stdout
    assert emulator.requests[-1].body["reasoning_effort"] == "low"


# ------------------------------------------------------------------ concurrency


def test_batch_and_abatch_with_max_concurrency_and_rate_limiter(
    emulator: TirEmulator,
) -> None:
    limiter = InMemoryRateLimiter(
        requests_per_second=200, check_every_n_seconds=0.005, max_bucket_size=10
    )
    model = emulator.chat_model(rate_limiter=limiter)
    prompts = [f"question {i}" for i in range(60)]
    answers = model.batch(prompts, config={"max_concurrency": 8})
    assert [a.content for a in answers] == [f"You said: {p}" for p in prompts]
    answers = asyncio.run(model.abatch(prompts, config={"max_concurrency": 16}))
    assert [a.content for a in answers] == [f"You said: {p}" for p in prompts]
    assert len(emulator.requests) == 120


# An emulator in its own process, so the client has a core to itself and every
# socket counted in this process is the client's. Answers are short: the test is
# about concurrency and cleanup, not throughput (benchmarks/ measures that).
_SERVER = """
import sys
from langchain_gptoss.testing import Reply, TirEmulator

def echo(body):
    return Reply(reasoning="Short.", content=body["messages"][-1]["content"])

with TirEmulator(responder=echo) as emulator:
    print(emulator.base_url, flush=True)
    sys.stdin.read()
"""


def test_a_thousand_concurrent_streams_on_one_loop_leave_nothing_open() -> None:
    server = subprocess.Popen(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", _SERVER],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        base_url = server.stdout.readline().strip()
        gc.collect()
        before = open_fds()
        model = ChatGptOss(base_url=base_url, api_key="test-token", project_id=12345)

        async def one(index: int) -> str:
            text = ""
            async for chunk in model.astream(f"stream {index}"):
                text += chunk.text
            return text

        async def run_all() -> list[str]:
            try:
                return await asyncio.gather(*(one(i) for i in range(1000)))
            finally:
                await model.aclose()

        texts = asyncio.run(run_all())
        assert texts == [f"stream {i}" for i in range(1000)]
        gc.collect()
        assert open_fds() == before
    finally:
        server.communicate(timeout=30)


# ---------------------------------------------------------------- secret hygiene


class Recorder(BaseCallbackHandler):
    def __init__(self) -> None:
        self.seen: list[str] = []

    def on_chat_model_start(
        self, serialized: Any, messages: Any, **kwargs: Any
    ) -> None:
        self.seen.append(repr((serialized, kwargs)))

    def on_llm_end(self, response: Any, **kwargs: Any) -> None:
        self.seen.append(repr((response, kwargs)))

    def on_llm_error(self, error: BaseException, **kwargs: Any) -> None:
        self.seen.append(repr((error, kwargs)))


def chain_of(error: BaseException) -> list[str]:
    """Every exception in the chain, with its request object when it has one."""
    texts: list[str] = []
    current: BaseException | None = error
    while current is not None:
        texts += [repr(current), str(current)]
        request = getattr(current, "_request", None) or getattr(
            current, "request", None
        )
        if request is not None:
            texts += [repr(request), str(request.url)]
        current = current.__cause__ or current.__context__
    return texts


def test_the_token_appears_nowhere(caplog: pytest.LogCaptureFixture) -> None:
    surfaces: list[str] = []
    recorder = Recorder()
    config: Any = {"callbacks": [recorder]}
    with TirEmulator(token=SECRET) as emulator, caplog.at_level(logging.DEBUG):
        model = ChatGptOss(
            base_url=emulator.base_url, api_key=SECRET, project_id=emulator.project_id
        )
        model.invoke("hi", config=config)
        list(model.stream("hi", config=config))
        surfaces += [repr(model), str(model), dumps(model), repr(dumpd(model))]
        surfaces += [repr(model._get_ls_params()), repr(model._identifying_params)]
        surfaces += [repr(model._get_invocation_params())]
        emulator.inject(Fault(status=401, body=f'{{"message": "bad token {SECRET}"}}'))
        emulator.inject(Fault(error_event_after=2))
        for run in (
            lambda: model.invoke("hi", config=config),
            lambda: list(model.stream("hi", config=config)),
        ):
            with pytest.raises(GptOssError) as caught:
                run()
            surfaces += chain_of(caught.value)
            surfaces.append(repr(getattr(caught.value, "body", "")))
        closed_url = emulator.base_url
    refused = ChatGptOss(
        base_url=closed_url, api_key=SECRET, project_id=1, max_retries=0
    )
    with caplog.at_level(logging.DEBUG), pytest.raises(GptOssConnectionError) as caught:
        refused.invoke("hi", config=config)
    surfaces += chain_of(caught.value)
    surfaces += [record.getMessage() for record in caplog.records]
    surfaces += [repr(record.args) for record in caplog.records]
    surfaces += recorder.seen
    assert any(
        "POST" in record.getMessage() for record in caplog.records
    )  # logs were on
    leaks = [s for s in surfaces if SECRET in s]
    assert leaks == []


# ----------------------------------------------------------------------- TLS


def test_tls_certificates_are_verified_by_default() -> None:
    authority = trustme.CA()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1").configure_cert(server_context)
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def serve_once() -> None:
        connection, _ = listener.accept()
        try:
            server_context.wrap_socket(connection, server_side=True)
        except (ssl.SSLError, OSError):
            pass  # the client hangs up when it refuses our certificate
        finally:
            connection.close()

    server = threading.Thread(target=serve_once)
    server.start()
    try:
        model = ChatGptOss(
            base_url=f"https://127.0.0.1:{port}",
            api_key="t",
            project_id=1,
            max_retries=0,
        )
        with pytest.raises(GptOssConnectionError, match="CERTIFICATE_VERIFY_FAILED"):
            model.invoke("hi")
    finally:
        server.join(timeout=5)
        listener.close()


def test_plain_http_to_a_remote_host_warns(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="langchain_gptoss"):
        ChatGptOss(base_url="http://tir.example.test", api_key="t", project_id=1)
        ChatGptOss(base_url="http://127.0.0.1:8000", api_key="t", project_id=1)
    warnings = [r for r in caplog.records if "unencrypted" in r.getMessage()]
    assert len(warnings) == 1
    assert "tir.example.test" in warnings[0].getMessage()
