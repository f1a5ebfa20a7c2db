"""Every cookbook recipe runs as written, offline, against the emulator it starts."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

COOKBOOK = Path(__file__).parents[2] / "cookbook"
EMULATOR_LINE = "E2E_TIR_ACCESS_TOKEN / E2E_TIR_PROJECT_ID not set: using the local TIR"

# What each recipe must show, beyond running cleanly and naming the emulator.
EXPECTED = {
    "quickstart.py": ["reasoning: ", "answer: ", "usage: ", "== async", "== batch"],
    "agent.py": [
        "-> calls calculator({'a': 1234, 'b': 5678, 'operation': 'multiply'})",
        "<- calculator returned 7006652",
        "-> calls capital_lookup({'country': 'Japan'})",
        "<- capital_lookup returned Tokyo",
        "thinking: ",
        "answer: ",
    ],
    "extraction.py": [
        '"boxes_moved": ',
        "parse failed: OutputParserException",
        "finish_reason: length",
        "-> out of tokens: retrying with max_tokens=2048",
    ],
    "rag.py": [
        "14 passages from 5 notes",
        "[1] travel.md ¶1: Book international flights at least 21 days",
        "[1] security.md ¶2: Turn on two-factor authentication",
        "[1] leave.md ¶1: Everyone has 24 days of paid leave",
    ],
    "trim_history.py": [
        "history: 80 messages, ",
        "tokens exact (vLLM 0.13.0 framing",
        "  trimmed 81 -> ",
        "(budget 1,500)",
        "answer: Based on flight_status: LH123 is on time",
        "refused before sending: The prompt alone is 140,076 tokens",
    ],
    "batch.py": [
        "300 prompts, at most 16 at a time",
        "300 answered, 0 failed",
        "tokens: ",
    ],
    "ray_batch.py": [
        "2000 prompts on Ray: 2 workers, 16 requests in flight each",
        "1999 answered, 1 failed",
        "tokens: ",
        "shared rate limit: 2000 reservations, ",
        "failed: 'In one short sentence, what is ",
        "GptOssBadRequestError: HTTP 400",
    ],
}
# Recipes that serve until stopped: started, asked for their page, then stopped
# (test_chat_app.py drives the page in a browser).
SERVED = {"chat_app.py": "<title>gpt-oss-120b chat</title>"}
# What each recipe must log to stderr: batch.py's retries and its finished bar.
EXPECTED_STDERR = {
    "batch.py": [
        "TIR request failed (HTTP 429",
        "TIR request failed (HTTP 503",
        "TIR request failed (HTTP 502",
        "retry 1 of 3",
        "300/300",  # tqdm's bar reached the end
    ],
    "ray_batch.py": [
        "TIR request failed (HTTP 429",  # in a worker's log, forwarded by Ray
        "TIR request failed (HTTP 503",
        "TIR request failed (HTTP 502",
        "MapWorker(MapBatches(Answerer))",
        "Total Progress: ",  # Ray Data's own progress report ...
        "execution finished in ",  # ... to the end
    ],
}


def offline_env() -> dict[str, str]:
    banned = ("E2E_TIR_", "RAY_ADDRESS")
    return {k: v for k, v in os.environ.items() if not k.startswith(banned)}


def run_recipe(name: str) -> subprocess.CompletedProcess[str]:
    env = offline_env()
    return subprocess.run(  # noqa: S603 - our own scripts
        [sys.executable, str(COOKBOOK / name)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )


def test_every_recipe_is_tested() -> None:
    recipes = {p.name for p in COOKBOOK.glob("*.py") if not p.name.startswith("_")}
    assert recipes == set(EXPECTED) | set(SERVED)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize("name", sorted(SERVED))
def test_served_recipe_starts_says_where_and_serves(name: str) -> None:
    port = free_port()
    server = subprocess.Popen(  # noqa: S603 - our own script
        [sys.executable, str(COOKBOOK / name), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=offline_env(),
    )
    try:
        assert server.stdout is not None
        assert server.stdout.readline().startswith(EMULATOR_LINE)
        assert f"http://127.0.0.1:{port}/" in server.stdout.readline()
        page = None
        deadline = time.monotonic() + 30
        while page is None and time.monotonic() < deadline:
            try:
                page = httpx.get(f"http://127.0.0.1:{port}/", timeout=5)
            except httpx.ConnectError:
                time.sleep(0.1)
        assert page is not None, "the server never answered"
        assert page.status_code == 200
        assert SERVED[name] in page.text
    finally:
        server.send_signal(signal.SIGINT)  # Ctrl-C
        _, stderr = server.communicate(timeout=30)
    assert server.returncode == 0, stderr


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_recipe_runs_offline(name: str) -> None:
    done = run_recipe(name)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0].startswith(EMULATOR_LINE)
    for expected in EXPECTED[name]:
        assert expected in done.stdout, f"{expected!r} missing from:\n{done.stdout}"
    for expected in EXPECTED_STDERR.get(name, []):
        assert expected in done.stderr, f"{expected!r} missing from:\n{done.stderr}"


def test_trim_history_keeps_every_prompt_within_its_budget() -> None:
    done = run_recipe("trim_history.py")
    assert done.returncode == 0, done.stderr
    kept = re.findall(r"-> ([\d,]+) tokens \(budget 1,500\)", done.stdout)
    assert len(kept) >= 2  # before the tool call and after it
    assert all(int(n.replace(",", "")) <= 1_500 for n in kept)
