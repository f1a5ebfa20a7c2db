"""Injected faults: statuses, Retry-After, cut and stalled streams."""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from langchain_gptoss.testing import (
    Fault,
    TirEmulator,
    _vllm,
)
from tests.integration_tests.emulator.wire import (
    HARMONY,
    USER,
    payloads,
    post,
)


@pytest.mark.parametrize(
    ("fault", "content_type", "check"),
    [
        (Fault(status=429, headers={"Retry-After": "0"}), "application/json",
         lambda r: r.json() == {"message": "Too Many Requests: rate limit exceeded, retry later"}
         and r.headers["retry-after"] == "0"),
        (Fault(status=401), "application/json", lambda r: "Unauthorized" in r.json()["message"]),
        (Fault(status=403), "application/json", lambda r: "Forbidden" in r.json()["message"]),
        (Fault(status=500), "application/json",
         lambda r: r.json()["error"] == {"message": HARMONY, "type": "Internal Server Error", "param": None, "code": 500}),
        (Fault(status=400), "application/json", lambda r: r.json()["error"]["type"] == "BadRequestError"),
        (Fault(status=404), "application/json", lambda r: r.json()["error"]["type"] == "NotFoundError"),
        (Fault(status=502), "text/html", lambda r: "<h1>502 Bad Gateway</h1>" in r.text),
        (Fault(status=503), "text/html", lambda r: "503 Service Unavailable" in r.text),
        (Fault(status=504), "text/html", lambda r: "504 Gateway Time-out" in r.text or "504 Gateway Timeout" in r.text),
        (Fault(status=503, body_kind="text"), "text/plain", lambda r: r.text == "Service Unavailable"),
        (Fault(status=429, body_kind="vllm"), "application/json", lambda r: r.json()["error"]["code"] == 429),
        (Fault(status=502, body_kind="message"), "application/json", lambda r: r.json() == {"message": "Bad Gateway"}),
        (Fault(status=500, body="upstream exploded"), "text/plain", lambda r: r.text == "upstream exploded"),
        (Fault(body=b'{"weird": true}'), "application/json", lambda r: r.status_code == 200 and r.json() == {"weird": True}),
    ],
)  # fmt: skip
def test_status_faults(
    emu: TirEmulator, client: httpx.Client, fault: Fault, content_type: str, check: Any
) -> None:
    emu.inject(fault)
    reply = post(client, emu)
    assert reply.status_code == (fault.status or 200)
    assert reply.headers["content-type"].startswith(content_type)
    assert check(reply)
    assert post(client, emu).status_code == 200  # one fault per request


def test_faults_are_fifo_and_clearable(emu: TirEmulator, client: httpx.Client) -> None:
    emu.inject(Fault(status=503), Fault(status=429))
    assert [post(client, emu).status_code for _ in range(3)] == [503, 429, 200]
    emu.inject(Fault(status=503))
    emu.clear()
    assert post(client, emu).status_code == 200
    assert len(emu.requests) == 1


def test_fault_not_consumed_by_rejected_auth(
    emu: TirEmulator, client: httpx.Client, anon: httpx.Client
) -> None:
    emu.inject(Fault(status=503))
    assert anon.post(emu.chat_url, json={"messages": [USER]}).status_code == 401
    assert post(client, emu).status_code == 503


def test_drop_mid_stream(emu: TirEmulator, client: httpx.Client) -> None:
    emu.inject(Fault(drop_after_events=5))
    received: list[str] = []

    def consume() -> None:
        body = {"messages": [USER], "stream": True}
        with client.stream("POST", emu.chat_url, json=body) as reply:
            assert reply.status_code == 200
            received.extend(line for line in reply.iter_lines() if line)

    with pytest.raises(httpx.RemoteProtocolError):
        consume()
    assert len(received) == 5
    assert "[DONE]" not in received[-1]
    assert post(client, emu).status_code == 200


def test_drop_non_stream(emu: TirEmulator, client: httpx.Client) -> None:
    emu.inject(Fault(drop_after_events=0))
    with pytest.raises(httpx.RemoteProtocolError):
        post(client, emu)
    emu.inject(Fault(drop_after_events=10))
    with pytest.raises(httpx.RemoteProtocolError):
        post(client, emu)
    assert post(client, emu).status_code == 200


def test_error_event(emu: TirEmulator, client: httpx.Client) -> None:
    emu.inject(Fault(error_event_after=3))
    reply = post(client, emu, stream=True)
    data = payloads(reply.text)
    assert len(data) == 5
    assert data[3] == (
        '{"error": {"message": "Unexpected token 200002 while expecting start token 200006", '
        '"type": "BadRequestError", "param": null, "code": 400}}'
    )
    assert data[4] == "[DONE]"


def test_a_bug_mid_stream_still_ends_like_vllm(
    emu: TirEmulator, client: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Events are made while the body is written, so a rendering bug can only
    # surface after the 200: it ends the stream with vLLM's error event.
    def broken(*args: Any, **kwargs: Any) -> Iterator[bytes]:
        yield b'{"id":"chatcmpl-1"}'
        message = "render bug"
        raise RuntimeError(message)

    monkeypatch.setattr(_vllm, "stream", broken)
    reply = post(client, emu, stream=True)
    assert reply.status_code == 200
    data = payloads(reply.text)
    assert data[0] == '{"id":"chatcmpl-1"}'
    assert json.loads(data[1])["error"]["message"] == "RuntimeError: render bug"
    assert data[2:] == ["[DONE]"]


def test_malformed_event(emu: TirEmulator, client: httpx.Client) -> None:
    normal = payloads(post(client, emu, stream=True).text)
    emu.inject(Fault(malformed_after=2))
    data = payloads(post(client, emu, stream=True).text)
    assert data[2] == '{"id": "chatcmpl-'
    assert len(data) == len(normal) + 1
    assert data[-1] == "[DONE]"


def test_stall_and_first_byte_delay(emu: TirEmulator, client: httpx.Client) -> None:
    emu.inject(Fault(stall_after=4, stall_seconds=0.3))
    stamps: list[float] = []
    with client.stream(
        "POST", emu.chat_url, json={"messages": [USER], "stream": True}
    ) as reply:
        stamps.extend(time.perf_counter() for line in reply.iter_lines() if line)
    gaps = [b - a for a, b in itertools.pairwise(stamps)]
    assert 0.25 < gaps[3] < 1.0
    assert max(gaps[:3] + gaps[4:]) < 0.2
    emu.inject(Fault(first_byte_delay=0.3))
    start = time.perf_counter()
    assert post(client, emu).status_code == 200
    assert 0.25 < time.perf_counter() - start < 1.0
    emu.inject(Fault(first_byte_delay=0.2))
    with pytest.raises(httpx.ReadTimeout):
        client.post(emu.chat_url, json={"messages": [USER]}, timeout=0.05)


def test_omit_done(emu: TirEmulator, client: httpx.Client) -> None:
    emu.inject(Fault(omit_done=True))
    data = payloads(post(client, emu, stream=True).text)
    assert data[-1] != "[DONE]"
    assert json.loads(data[-1])["choices"][0]["finish_reason"] == "stop"
