"""The E2E gateway in front of vLLM: tokens, routes and slugs, the project_id query."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from langchain_gptoss.testing import TirEmulator
from tests.integration_tests.emulator.wire import (
    USER,
    error_of,
    post,
)


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": ""}, {"Authorization": "Bearer"},
     {"Authorization": "Bearer wrong"}, {"Authorization": "Basic test-token"}],
)  # fmt: skip
@pytest.mark.parametrize("style", ["json", "message", "text"])
def test_auth_rejections(
    emu: TirEmulator, anon: httpx.Client, headers: dict[str, str], style: Any
) -> None:
    emu.gateway_error_style = style
    reply = anon.post(emu.chat_url, headers=headers, json={"messages": [USER]})
    assert reply.status_code == 401
    if style == "json":
        assert error_of(reply)["type"] == "Unauthorized"
    elif style == "message":
        assert reply.json() == {"message": "Unauthorized: invalid or expired token"}
    else:
        assert reply.headers["content-type"].startswith("text/plain")
        assert reply.text.startswith("Unauthorized")


def test_auth_is_checked_before_the_path(emu: TirEmulator, anon: httpx.Client) -> None:
    reply = anon.get(f"{emu.base_url}/nowhere")
    assert reply.status_code == 401


@pytest.mark.parametrize(
    "path",
    ["/project/p-999/genai/gpt_oss_120b/v1/chat/completions",
     "/project/p-12345/genai/llama_3_3_70b/v1/chat/completions",
     "/project/12345/genai/gpt_oss_120b/v1/chat/completions",
     "/project/p-12345/genai/gpt_oss_120b/v1/models", "/"],
)  # fmt: skip
def test_unknown_paths_are_404(
    emu: TirEmulator, client: httpx.Client, path: str
) -> None:
    reply = client.post(emu.base_url + path, json={"messages": [USER]})
    assert reply.status_code == 404
    assert "message" in reply.json()


def test_wrong_method_is_405(emu: TirEmulator, client: httpx.Client) -> None:
    reply = client.get(emu.chat_url)
    assert reply.status_code == 405
    assert reply.headers["allow"] == "POST"


def test_model_check(emu: TirEmulator, client: httpx.Client) -> None:
    reply = post(client, emu, model="gpt-oss-120b")
    assert reply.status_code == 404
    assert reply.json() == {
        "error": {
            "message": "The model `gpt-oss-120b` does not exist.",
            "type": "NotFoundError",
            "param": None,
            "code": 404,
        }
    }
    assert post(client, emu, model="gpt_oss_120b").status_code == 200
    assert post(client, emu).status_code == 200


@pytest.mark.parametrize(
    ("strict", "query", "status"),
    [(False, "", 200), (True, "", 400), (False, "?project_id=12345", 200),
     (True, "?project_id=12345", 200), (False, "?project_id=1", 400),
     (False, "?project_id=abc", 400), (True, "?project_id=", 400)],
)  # fmt: skip
def test_project_id_query(
    emu: TirEmulator, client: httpx.Client, strict: bool, query: str, status: int
) -> None:
    emu.require_project_query = strict
    reply = client.post(emu.chat_url + query, json={"messages": [USER]})
    assert reply.status_code == status
    if status == 400:
        assert "project_id" in reply.json()["message"]


def test_also_serves_other_slugs() -> None:
    with TirEmulator(also_serves=("gpt_oss_20b",)) as emu:
        headers = {"Authorization": f"Bearer {emu.token}"}
        base = f"{emu.base_url}/project/p-{emu.project_id}/genai"
        with httpx.Client() as client:

            def post(slug: str, **model: str) -> httpx.Response:
                body = {"messages": [{"role": "user", "content": "hi"}], **model}
                url = f"{base}/{slug}/v1/chat/completions"
                return client.post(url, headers=headers, json=body)

            other = post("gpt_oss_20b", model="gpt_oss_20b")
            wrong_body = post("gpt_oss_20b", model="gpt_oss_120b")
            unknown = post("llama")
    assert other.status_code == 200
    assert other.json()["model"] == "gpt_oss_20b"
    assert wrong_body.status_code == 404
    assert wrong_body.json()["error"]["type"] == "NotFoundError"
    assert unknown.status_code == 404
