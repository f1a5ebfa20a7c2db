"""What the benchmark's emulator expects on the wire; the standard library only.

Kept apart from `_clients` so that the raw-httpx child processes of the cold
start line import httpx and nothing of LangChain.
"""

from __future__ import annotations

from typing import Any

TOKEN = "test-token"  # noqa: S105 - the emulator's
PROJECT = 12345
MODEL = "gpt_oss_120b"
HEADERS = {"Authorization": f"Bearer {TOKEN}"}
QUERY = {"project_id": str(PROJECT)}
LONG, SHORT = "Write a long story.", "Say hi."


def openai_base(base_url: str) -> str:
    return f"{base_url}/project/p-{PROJECT}/genai/{MODEL}/v1"


def chat_url(base_url: str) -> str:
    return openai_base(base_url) + "/chat/completions"


def body(prompt: str, *, stream: bool) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "model": MODEL,
        "messages": [{"role": "user", "content": prompt}],
    }
    if stream:
        payload |= {"stream": True, "stream_options": {"include_usage": True}}
    return payload
