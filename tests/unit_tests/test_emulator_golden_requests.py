"""Every golden request body, at each of the nine releases, against the real answer.

The bodies of `tests/vllm_golden/generate/bodies.json` go through the pure
`complete(...)` with the release's profile and a responder replaying the golden
run's scripted output (`script_for` in `generate/gen_requests.py`). Compared:

* the HTTP status;
* rejections: the error JSON key by key - `type`, `code`, `param` exactly, and
  `message` exactly once the FastAPI location tail (`\\n\\n  File "…", line N, in
  create_chat_completion\\n    POST …`) is cut from both sides: its file, line and
  echo of the request depend on the install, not on vLLM's behaviour;
* answers: the same keys at every level of the body, the fixed fields' values,
  ids by format; streams: the same keys per event and whether a usage chunk ends
  it (the chunk sequences themselves belong to the stream tests).

Every release, every body: no difference is left.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from langchain_gptoss.testing._errors import ApiError
from langchain_gptoss.testing._releases import profile
from langchain_gptoss.testing._types import Reply, ToolCall
from langchain_gptoss.testing._vllm import JsonAnswer, Settings, StreamAnswer, complete
from tests.emulator_golden import line_diff, shape
from tests.golden import RELEASES, bodies, load

_TAIL = re.compile(
    r'\n\n  File "[^"]*", line \d+, in create_chat_completion\n.*\Z', re.DOTALL
)


def _script(body: dict[str, Any]) -> Reply:
    """The golden run's scripted answer for `body` (gen_requests.py `script_for`)."""
    tools = body.get("tools") or []
    if tools and body.get("tool_choice") != "none":
        function = tools[0].get("function", {})
        properties = (function.get("parameters") or {}).get("properties") or {}
        arguments = (
            '{"town": "Oslo"}'
            if "town" in properties
            else '{"sides": 6}'
            if "sides" in properties
            else "{}"
        )
        call = ToolCall(function.get("name", "f"), arguments)
        return Reply("Use the tool.", None, (call,))
    kind = (body.get("response_format") or {}).get("type")
    if kind in {"json_schema", "json_object"}:
        return Reply("Return JSON.", '{"colour": "blue"}')
    return Reply("Red is a primary colour.", "Red.")


def _answer(body: Any, release: str) -> ApiError | JsonAnswer | StreamAnswer:
    played = profile(release)
    settings = Settings(
        model="gpt_oss_120b",
        era=played.reasoning_field,
        context_window=131072,
        token_ids_key=True,
        tokens_per_chunk=1,
        force_include_usage=False,
        responder=_script,
        leak_tool_args=played.tool_args_in_content,
        profile=played,
        harmony_date=load("requests", release)["meta"]["harmony_date_frozen_to"],
    )
    digits = "0" * played.id_hex_digits
    return complete(body, settings, request_id=f"chatcmpl-{digits}", created=0)


def _differences(case: str, release: str) -> list[str]:
    golden = load("requests", release)["results"][case]
    got = _answer(bodies()[case], release)
    status = got.status if isinstance(got, ApiError) else 200
    if status != golden["status"]:
        return [f"status {status} != {golden['status']}"]
    if isinstance(got, ApiError):
        want, have = golden["error"]["error"], got.payload["error"]
        found = [
            f"{key} {have.get(key)!r} != {want.get(key)!r}"
            for key in ("type", "code", "param")
            if have.get(key) != want.get(key)
        ]
        if _TAIL.sub("", have["message"]) != _TAIL.sub("", want["message"]):
            found.append("message")
        return found
    if isinstance(got, StreamAnswer):
        events = [json.loads(event) for event in got.events]
        wanted = [e for e in golden["response_sse_events"] if isinstance(e, dict)]
        usage = [bool(e.get("usage")) and not e["choices"] for e in events[-1:]]
        want_usage = [bool(e.get("usage")) and not e["choices"] for e in wanted[-1:]]
        return [] if usage == want_usage else [f"usage chunk {usage} != {want_usage}"]
    mine: list[str] = []
    theirs: list[str] = []
    shape(json.loads(got.body), "", mine)
    shape(golden["response"], "", theirs)
    return line_diff(theirs, mine)


CASES = sorted(bodies())


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("release", RELEASES)
def test_golden_request(release: str, case: str) -> None:
    assert _differences(case, release) == []


SERVED = [
    (release, case)
    for release in RELEASES
    for case in CASES
    if "response" in load("requests", release)["results"][case]
]


@pytest.mark.parametrize(("release", "case"), SERVED)
def test_golden_prompt_tokens(release: str, case: str) -> None:
    """With openai-harmony the bill is the release's exact harmony count."""
    pytest.importorskip("openai_harmony")
    got = _answer(bodies()[case], release)
    assert isinstance(got, JsonAnswer)
    golden = load("requests", release)["results"][case]["response"]
    assert (
        json.loads(got.body)["usage"]["prompt_tokens"]
        == golden["usage"]["prompt_tokens"]
    )


def test_without_harmony_the_bill_is_approximate(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from langchain_gptoss import _tokens
    from langchain_gptoss.testing import _tokens as approximate

    monkeypatch.setattr(_tokens, "encoding", lambda: None)
    body = bodies()["plain"]
    got = _answer(body, "0.13.0")
    assert isinstance(got, JsonAnswer)
    billed = json.loads(got.body)["usage"]["prompt_tokens"]
    assert billed == approximate.prompt_tokens(body)
