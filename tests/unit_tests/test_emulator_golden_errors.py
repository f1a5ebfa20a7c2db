"""The request-side scenarios of `tests/vllm_golden/errors/X.json`, per release.

Context limits (a prompt over the context, one that fills it but for 10 tokens,
one whose `max_tokens` runs past it), an unknown model and a validation error on
a streaming request: the status and, for errors, the body exactly. The long
prompts are sized as `generate/gen_errors.py` sizes them (a user message of
`" a"` tokens), which needs the exact harmony count.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from langchain_gptoss.testing._billing import prompt_tokens
from langchain_gptoss.testing._errors import ApiError
from langchain_gptoss.testing._releases import profile
from langchain_gptoss.testing._types import Reply
from langchain_gptoss.testing._vllm import Settings, complete
from tests.golden import RELEASES, load

WINDOW = 131072
USER = [{"role": "user", "content": "Is it?"}]
_TAIL = re.compile(
    r'\n\n  File "[^"]*", line \d+, in create_chat_completion\n.*\Z', re.DOTALL
)


def _date(release: str) -> str:
    date: str = load("errors", release)["meta"]["harmony_date_frozen_to"]
    return date


def _long(release: str, target: int, **extra: Any) -> dict[str, Any]:
    def body(n: int) -> dict[str, Any]:
        messages = [{"role": "user", "content": " a" * n}]
        return {"model": "gpt_oss_120b", "messages": messages, **extra}

    overhead = prompt_tokens(body(1000), profile(release).release, _date(release))
    return body(target - (overhead - 1000))


def _body(release: str, name: str) -> dict[str, Any]:
    if name == "prompt_exceeds_context":
        return _long(release, WINDOW + 50)
    if name == "prompt_fills_context_minus_10":
        return _long(release, WINDOW - 10)
    if name == "prompt_plus_max_tokens_over":
        return _long(release, WINDOW - 500, max_tokens=4000)
    if name == "unknown_model":
        return {"model": "gpt-oss-120b", "messages": USER}
    return {"model": "gpt_oss_120b", "messages": USER, "temperature": "hot"}


NAMES = (
    "prompt_exceeds_context",
    "prompt_fills_context_minus_10",
    "prompt_plus_max_tokens_over",
    "unknown_model",
    "validation_error_streaming",
)


@pytest.mark.parametrize("mode", ["non_stream", "stream"])
@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("release", RELEASES)
def test_golden_error_scenario(release: str, name: str, mode: str) -> None:
    pytest.importorskip("openai_harmony")
    played = profile(release)
    settings = Settings(
        model="gpt_oss_120b",
        era=played.reasoning_field,
        context_window=WINDOW,
        token_ids_key=True,
        tokens_per_chunk=1,
        force_include_usage=False,
        responder=lambda _body: Reply("Short answer.", "Yes."),
        profile=played,
        harmony_date=_date(release),
    )
    body = _body(release, name)
    if mode == "stream":
        body = {**body, "stream": True, "stream_options": {"include_usage": True}}
    got = complete(body, settings, request_id="chatcmpl-0", created=0)
    golden = load("errors", release)["scenarios"][name][mode]
    status = got.status if isinstance(got, ApiError) else 200
    assert status == golden["status"]
    if isinstance(got, ApiError):
        want, have = golden["body"]["error"], got.payload["error"]
        assert {**have, "message": _TAIL.sub("", have["message"])} == {
            **want,
            "message": _TAIL.sub("", want["message"]),
        }
