"""HTTP framing and connections: keep-alive, chunking, shutdown, the CLI."""

from __future__ import annotations

import asyncio
import json
import re
import signal
import socket
import subprocess
import sys
import time
from typing import Any

import httpx
import pytest

from langchain_gptoss.testing import (
    Fault,
    RecordedRequest,
    Reply,
    TirEmulator,
)
from tests.integration_tests.emulator.wire import (
    TLS,
    USER,
    payloads,
    post,
)


def normalized(raw: bytes) -> list[Any]:
    events = []
    for item in payloads(raw.decode()):
        if item == "[DONE]":
            events.append(item)
            continue
        event = json.loads(item)
        event.pop("id")
        event.pop("created")
        events.append(event)
    return events


@pytest.mark.parametrize("knob", ["crlf", "keepalive_comments", "split_writes"])
def test_framing_knobs_keep_payloads(
    emu: TirEmulator, client: httpx.Client, knob: str
) -> None:
    body = {"messages": [{"role": "user", "content": "Grüße 🙂"}], "stream": True}
    plain = client.post(emu.chat_url, json=body).content
    setattr(emu, knob, True)
    pieces: list[bytes] = []
    with client.stream("POST", emu.chat_url, json=body) as reply:
        pieces.extend(reply.iter_raw())
    raw = b"".join(pieces)
    assert normalized(raw) == normalized(plain)
    events = len(normalized(plain))
    if knob == "crlf":
        assert raw.count(b"\r\n\r\n") == events
        assert b"\n\n" not in raw.replace(b"\r\n", b"")
    elif knob == "keepalive_comments":
        assert raw.count(b": keep-alive\n\n") == events - 1
    else:
        assert len(pieces) > 3 * events
        assert all(not p.startswith(b"data: ") for p in pieces)
        broken = 0
        for piece in pieces:
            try:
                piece.decode()
            except UnicodeDecodeError:
                broken += 1
        assert broken > 0


def test_keep_alive_reuses_one_connection(
    emu: TirEmulator, client: httpx.Client
) -> None:
    for _ in range(3):
        assert post(client, emu).status_code == 200
        assert payloads(post(client, emu, stream=True).text)[-1] == "[DONE]"
        assert emu.open_connections == 1
    assert emu.total_connections == 1
    client.close()
    wait_for(lambda: emu.open_connections == 0)


def test_abandoned_stream_frees_the_connection(emu: TirEmulator) -> None:
    emu.responder = lambda _body: Reply(reasoning="", content="word " * 20_000)
    headers = {"Authorization": f"Bearer {emu.token}"}
    with httpx.Client(headers=headers, verify=TLS) as http:
        body = {"messages": [USER], "stream": True}
        with http.stream("POST", emu.chat_url, json=body) as reply:
            lines = reply.iter_lines()
            assert next(lines).startswith("data: ")
    wait_for(lambda: emu.open_connections == 0)


def test_connection_close_is_honoured(emu: TirEmulator, anon: httpx.Client) -> None:
    headers = {"Authorization": f"Bearer {emu.token}", "Connection": "close"}
    reply = anon.post(emu.chat_url, headers=headers, json={"messages": [USER]})
    assert reply.headers["connection"] == "close"
    wait_for(lambda: emu.open_connections == 0)


def test_pipelined_requests_on_a_raw_socket(emu: TirEmulator) -> None:
    body = json.dumps({"messages": [USER]}).encode()
    path = emu.chat_url.removeprefix(emu.base_url)
    request = (
        f"POST {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {emu.token}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body
    chunked = (
        f"POST {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {emu.token}\r\n"
        "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    ).encode() + b"%x\r\n%b\r\n%x\r\n%b\r\n0\r\n\r\n" % (
        5,
        body[:5],
        len(body) - 5,
        body[5:],
    )
    with socket.create_connection(
        ("127.0.0.1", int(emu.base_url.rsplit(":", 1)[1])), timeout=5
    ) as sock:
        sock.sendall(request + chunked)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    assert received.count(b"HTTP/1.1 200 OK\r\n") == 2
    assert emu.total_connections == 1
    assert emu.requests[1].body == {"messages": [USER]}


def wait_for(condition: Any, timeout: float = 2.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.005)


async def test_concurrent_streams(emu: TirEmulator) -> None:
    # httpx's pool slows down sharply past a few dozen connections per client, so the
    # 200 simultaneous streams are spread over 10 clients of 20 connections each.
    total, per_client = 200, 20
    emu.inject(*[Fault(stall_after=2, stall_seconds=0.3)] * total)
    headers = {"Authorization": f"Bearer {emu.token}"}
    clients = [
        httpx.AsyncClient(
            headers=headers,
            limits=httpx.Limits(max_connections=per_client),
            timeout=10,
            verify=TLS,
        )
        for _ in range(total // per_client)
    ]
    peak = 0

    async def one(i: int) -> str:
        body = {
            "messages": [{"role": "user", "content": f"Request {i}"}],
            "stream": True,
        }
        async with clients[i % len(clients)].stream(
            "POST", emu.chat_url, json=body
        ) as reply:
            text = "".join([part async for part in reply.aiter_text()])
        data = payloads(text)
        assert data[-1] == "[DONE]"
        return "".join(
            json.loads(d)["choices"][0]["delta"].get("content") or "" for d in data[:-1]
        )

    async def watch() -> None:
        nonlocal peak
        while True:
            peak = max(peak, emu.open_connections)
            await asyncio.sleep(0.01)

    watcher = asyncio.create_task(watch())
    try:
        results = await asyncio.gather(*(one(i) for i in range(total)))
    finally:
        watcher.cancel()
        for http in clients:
            await http.aclose()
    assert results == [f"You said: Request {i}" for i in range(total)]
    assert peak == total
    assert len(emu.requests) == total


def test_stop_closes_open_connections() -> None:
    emulator = TirEmulator().start()
    url = emulator.chat_url
    with httpx.Client(
        headers={"Authorization": f"Bearer {emulator.token}"}, verify=TLS
    ) as http:
        assert http.post(url, json={"messages": [USER]}).status_code == 200
        assert emulator.open_connections == 1
        emulator.stop()
        assert emulator.open_connections == 0
        with pytest.raises(httpx.TransportError):
            http.post(url, json={"messages": [USER]})


def test_requests_are_recorded(
    emu: TirEmulator, client: httpx.Client, anon: httpx.Client
) -> None:
    anon.get(f"{emu.base_url}/anything?x=1")
    client.post(
        emu.chat_url + "?project_id=12345",
        json={"messages": [USER]},
        headers={"X-Trace": "abc"},
    )
    first, second = emu.requests
    assert isinstance(first, RecordedRequest)
    assert (first.method, first.path, first.query, first.body, first.raw) == (
        "GET",
        "/anything",
        {"x": "1"},
        None,
        b"",
    )
    assert second.method == "POST"
    assert second.path == emu.chat_url.removeprefix(emu.base_url)
    assert second.query == {"project_id": "12345"}
    assert second.headers["x-trace"] == "abc"
    assert second.headers["authorization"] == "Bearer test-token"
    assert second.body == {"messages": [USER]}
    assert json.loads(second.raw) == second.body


def test_urls_and_settings() -> None:
    emulator = TirEmulator(token="t", project_id=7, model="m")
    with pytest.raises(RuntimeError):
        _ = emulator.base_url
    with emulator:
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", emulator.base_url)
        assert emulator.openai_base_url == f"{emulator.base_url}/project/p-7/genai/m/v1"
        assert emulator.chat_url == f"{emulator.openai_base_url}/chat/completions"
        headers = {"Authorization": "Bearer t"}
        reply = httpx.post(
            emulator.chat_url, headers=headers, json={"messages": [USER]}, verify=TLS
        )
        assert reply.json()["model"] == "m"


@pytest.mark.parametrize(
    "sigint",
    [signal.SIG_DFL, signal.SIG_IGN],
    ids=["foreground", "background-job"],  # bash starts `cmd &` with SIGINT ignored
)
def test_command_line(sigint: signal.Handlers) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "langchain_gptoss.testing", "--port", str(port), "--token", "cli",
         "--project-id", "42", "--era", "reasoning", "--vllm", "0.20.1"],
        stdout=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, sigint),  # noqa: PLW1509
    )  # fmt: skip
    try:
        assert process.stdout is not None
        banner = [process.stdout.readline() for _ in range(6)]
        assert f"export E2E_TIR_BASE_URL=http://127.0.0.1:{port}\n" in banner
        assert "export E2E_TIR_ACCESS_TOKEN=cli\n" in banner
        assert "export E2E_TIR_PROJECT_ID=42\n" in banner
        url = f"http://127.0.0.1:{port}/project/p-42/genai/gpt_oss_120b/v1/chat/completions"
        headers = {"Authorization": "Bearer cli"}
        reply = httpx.post(url, headers=headers, json={"messages": [USER]}, verify=TLS)
        assert "reasoning_content" not in reply.json()["choices"][0]["message"]
        empty = {"messages": [USER], "tools": []}  # refused from 0.20
        assert (
            httpx.post(url, headers=headers, json=empty, verify=TLS).status_code == 400
        )
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=5) == 0
