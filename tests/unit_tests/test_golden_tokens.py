"""Token counts against real vLLM: every served request of vllm-golden, nine releases.

`tests/vllm_golden/requests/X.json` holds, per request body, the harmony prompt
each release's own server code handed its engine and how many tokens it had.
"""

from __future__ import annotations

import pytest

from langchain_gptoss import _harmony, _tokens
from tests.golden import RELEASES, harmony_prompts

# TIR's likely range (protocol.md §0 fact 3), where 0.13.0 is the default.
TIR_RANGE = ("0.10.2", "0.11.0", "0.11.2", "0.13.0", "0.15.1", "0.16.0", "0.20.1")


GOLD = harmony_prompts()
CASES = [
    (release, case)
    for release in RELEASES
    for case in sorted(GOLD["releases"][release])
]


def golden(release: str, case: str) -> tuple[int, str]:
    tokens, text = GOLD["releases"][release][case]
    return tokens, GOLD["texts"][text]


def count(release: str, case: str) -> int:
    return _tokens.count(
        GOLD["bodies"][case], _harmony.parse_version(release), GOLD["date"]
    )


def test_every_release_is_covered() -> None:
    assert set(GOLD["releases"]) == set(RELEASES)
    assert all(len(GOLD["releases"][release]) >= 35 for release in RELEASES)


@pytest.mark.parametrize(("release", "case"), CASES)
def test_count_equals_the_prompt_tokens_vllm_reported(release: str, case: str) -> None:
    assert count(release, case) == golden(release, case)[0]


def _as_openai_harmony(text: str) -> str:
    """0.33.0 runs the oss-harmony fork, which puts a tool result's `to=assistant`
    after its channel; openai-harmony puts it before (same number of tokens)."""
    return text.replace(
        "<|channel|>commentary to=assistant<|message|>",
        " to=assistant<|channel|>commentary<|message|>",
    )


@pytest.mark.parametrize(("release", "case"), CASES)
def test_rendered_prompt_is_the_one_vllm_built(release: str, case: str) -> None:
    encoding = _tokens.encoding()
    ids = _tokens.render(
        encoding, GOLD["bodies"][case], _harmony.parse_version(release), GOLD["date"]
    )
    tokens, text = golden(release, case)
    assert len(ids) == tokens
    if release == "0.33.0":
        text = _as_openai_harmony(text)
    assert encoding.decode(ids) == text


@pytest.mark.parametrize("case", sorted(GOLD["releases"]["0.13.0"]))
def test_0_13_counts_at_least_every_release_in_tirs_range(case: str) -> None:
    """The default vllm_version is an upper bound over 0.10.2-0.20.x (golden cases)."""
    served = [r for r in TIR_RANGE if case in GOLD["releases"][r]]
    assert golden("0.13.0", case)[0] >= max(golden(r, case)[0] for r in served)
