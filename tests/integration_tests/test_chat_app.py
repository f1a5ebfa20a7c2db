"""cookbook/chat_app.py in a real browser: Debian's Chromium, driven by Playwright.

The app runs in this process on uvicorn, its model bound to the test's emulator,
so the test can see what reached the emulator and which connections are open.
Playwright drives the system Chromium (`executable_path`): its own browser
download cannot work offline. `.ci/run` installs Chromium; elsewhere the test
skips when it is missing, unless GPTOSS_REQUIRE_BROWSER=1 makes that a failure.
A screenshot of the page goes to GPTOSS_ARTIFACTS (default: the test's tmp dir).
"""

from __future__ import annotations

import importlib
import os
import re
import shutil
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from langchain_gptoss.testing import Fault, Reply, TirEmulator

COOKBOOK = Path(__file__).parents[2] / "cookbook"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_FLAGS = [  # as root, offline: no sandbox, no calls home
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LONG_ANSWER = Reply("Let me think at length.", " ".join(["word"] * 3000))

if CHROMIUM is None and os.environ.get("GPTOSS_REQUIRE_BROWSER") != "1":
    pytest.skip(
        "Debian's chromium is not installed (apt-get install chromium); "
        ".ci/run installs it",
        allow_module_level=True,
    )
sync_api = pytest.importorskip("playwright.sync_api", reason="the test extra")
uvicorn = pytest.importorskip("uvicorn", reason="the test extra")


def wait_until(condition: Callable[[], bool], seconds: float = 15.0) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


@pytest.fixture
def app_url(tir_emulator: TirEmulator) -> Iterator[str]:
    sys.path.insert(0, str(COOKBOOK))
    try:
        chat_app = importlib.import_module("chat_app")
    finally:
        sys.path.remove(str(COOKBOOK))
    app = chat_app.build_app(tir_emulator.chat_model(max_retries=0))
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    assert wait_until(lambda: server.started), "uvicorn did not start"
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}/"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS
        )
        yield launched
        launched.close()


def ask(page: Any, question: str) -> Any:
    """Type a question, press Enter; the new turn's element (by position)."""
    turn = page.locator(".turn").nth(page.locator(".turn").count())
    page.fill("#question", question)
    page.press("#question", "Enter")
    sync_api.expect(turn.locator(".question")).to_have_text(question)
    return turn


def finished(page: Any, turn: Any) -> None:
    sync_api.expect(turn.locator(".usage")).to_have_text(
        re.compile(r"^\d+ tokens in, \d+ out$")
    )
    sync_api.expect(page.locator("body")).to_have_attribute("data-state", "idle")


def messages_sent(emulator: TirEmulator) -> list[tuple[str, str]]:
    body = emulator.requests[-1].body
    assert body is not None
    return [(m["role"], m["content"]) for m in body["messages"]]


def test_two_turns_stream_reasoning_apart_and_remember(
    tir_emulator: TirEmulator, app_url: str, browser: Any, tmp_path: Path
) -> None:
    tir_emulator.script(
        Reply("Small primes: 2, 3, 5.", "2, 3 and 5."),
        Reply("They asked for primes before.", "The next one is 7 <b>not bold</b>."),
    )
    page = browser.new_page()
    page.goto(app_url)

    first = ask(page, "Name three primes.")
    finished(page, first)
    sync_api.expect(first.locator(".answer")).to_have_text("2, 3 and 5.")
    reasoning = first.locator(".reasoning-text")
    sync_api.expect(reasoning).to_have_text("Small primes: 2, 3, 5.")

    second = ask(page, "And the next one?")
    finished(page, second)
    # Markup in the answer is text on the page, not HTML.
    sync_api.expect(second.locator(".answer")).to_have_text(
        "The next one is 7 <b>not bold</b>."
    )
    assert second.locator(".answer b").count() == 0
    # The newest turn shows its reasoning; earlier ones fold it away.
    assert second.locator(".reasoning").evaluate("d => d.open")
    assert not first.locator(".reasoning").evaluate("d => d.open")
    sent = messages_sent(tir_emulator)
    assert sent[1:] == [
        ("user", "Name three primes."),
        ("assistant", "2, 3 and 5."),
        ("user", "And the next one?"),
    ]
    assert sent[0][0] in {"system", "developer"}

    artifacts = Path(os.environ.get("GPTOSS_ARTIFACTS") or tmp_path)
    artifacts.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(artifacts / "chat_app.png"), full_page=True)


def test_stop_and_closing_the_tab_release_the_upstream_connection(
    tir_emulator: TirEmulator, app_url: str, browser: Any
) -> None:
    # About 3,000 events a turn at 20 ms each: a minute, unless the page stops it.
    tir_emulator.step_seconds = 0.02
    tir_emulator.script(LONG_ANSWER, LONG_ANSWER)
    page = browser.new_page()
    page.goto(app_url)

    stopped = ask(page, "Tell me everything.")
    sync_api.expect(stopped.locator(".answer")).to_contain_text("word word")
    streaming = tir_emulator.open_connections
    assert streaming >= 1
    page.click("#stop")
    sync_api.expect(page.locator("body")).to_have_attribute("data-state", "idle")
    assert wait_until(lambda: tir_emulator.open_connections == streaming - 1)
    shown = stopped.locator(".answer").text_content() or ""
    assert 0 < len(shown.split()) < 3000

    # The next turn sees the answer as far as it was shown, then the tab closes.
    closed = ask(page, "Go on.")
    sync_api.expect(closed.locator(".answer")).to_contain_text("word word")
    sent = messages_sent(tir_emulator)
    assert sent[-2][0] == "assistant"
    assert 0 < len(sent[-2][1].split()) < 3000
    streaming = tir_emulator.open_connections
    page.close()
    assert wait_until(lambda: tir_emulator.open_connections == streaming - 1)


def test_a_failed_call_shows_its_error_on_the_page(
    tir_emulator: TirEmulator, app_url: str, browser: Any
) -> None:
    tir_emulator.inject(Fault(status=503))
    page = browser.new_page()
    page.goto(app_url)
    turn = ask(page, "Hello?")
    sync_api.expect(turn.locator(".answer.error")).to_contain_text("HTTP 503")
    sync_api.expect(page.locator("body")).to_have_attribute("data-state", "idle")


def test_bad_requests_get_a_clear_400(app_url: str) -> None:
    with httpx.Client(base_url=app_url, timeout=10) as http:
        no_session = http.post("chat", json={"message": "hi"})
        assert no_session.status_code == 400
        assert "load the page first" in no_session.json()["error"]
        http.get("")  # the page sets the session cookie
        for body in ({"message": ""}, {"text": "hi"}, ["hi"]):
            reply = http.post("chat", json=body)
            assert reply.status_code == 400
            assert reply.json()["error"] == 'send {"message": "your question"}'
        too_long = http.post("chat", json={"message": "x" * 8001})
        assert too_long.status_code == 400
        assert "8001 characters; at most 8000" in too_long.json()["error"]
